#define _GNU_SOURCE
#include "cjack.h"
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>

jack_client_t *sideman_jack_client_open(const char *client_name, jack_options_t options,
                                        jack_status_t *status, const char *server_name) {
    if (server_name != NULL && server_name[0] != '\0') {
        return jack_client_open(client_name, options | JackServerName, status, server_name);
    }
    return jack_client_open(client_name, options & ~JackServerName, status);
}

static volatile int sideman_quiet = 0;

static void sideman_error_line(const char *line) {
    if (!sideman_quiet) fprintf(stderr, "jack: %s\n", line);
}

static void sideman_info_line(const char *line) { (void)line; }

void sideman_jack_set_quiet(int quiet) {
    sideman_quiet = quiet;
    jack_set_error_function(sideman_error_line);
    jack_set_info_function(sideman_info_line);
}

typedef void (*sideman_probe_fn)(int);
static sideman_probe_fn sideman_probe = NULL;

int sideman_jack_probe_resolve(void) {
    sideman_probe = (sideman_probe_fn)dlsym(RTLD_DEFAULT, "sideman_alloc_probe");
    return sideman_probe != NULL;
}

void sideman_jack_probe_enter(void) {
    if (sideman_probe) sideman_probe(1);
}

void sideman_jack_probe_leave(void) {
    if (sideman_probe) sideman_probe(0);
}

#include <errno.h>
#include <math.h>

/* JACK calls this on its process thread after each cycle's transport update: arithmetic only. */
static void sideman_timebase_callback(jack_transport_state_t state, jack_nframes_t nframes, jack_position_t *pos,
                                      int new_pos, void *arg) {
    (void)state;
    (void)nframes;
    (void)new_pos;
    const sideman_timebase *timebase = (const sideman_timebase *)arg;
    const double ticks_per_beat = 1920.0;
    const double beats_per_minute = timebase->quarters_per_minute * timebase->beat_type / 4.0;
    const double rate = pos->frame_rate > 0 ? (double)pos->frame_rate : 48000.0;
    const double beats = (double)pos->frame * beats_per_minute / (60.0 * rate);
    const double bars = floor(beats / timebase->beats_per_bar);
    const double beat_in_bar = beats - bars * timebase->beats_per_bar;
    pos->valid = JackPositionBBT;
    pos->bar = (int32_t)bars + 1;
    pos->beat = (int32_t)floor(beat_in_bar) + 1;
    pos->tick = (int32_t)floor((beat_in_bar - floor(beat_in_bar)) * ticks_per_beat);
    pos->bar_start_tick = bars * timebase->beats_per_bar * ticks_per_beat;
    pos->beats_per_bar = (float)timebase->beats_per_bar;
    pos->beat_type = (float)timebase->beat_type;
    pos->ticks_per_beat = ticks_per_beat;
    pos->beats_per_minute = beats_per_minute;
}

int sideman_jack_become_timebase_master(jack_client_t *client, sideman_timebase *timebase) {
    return jack_set_timebase_callback(client, 1, sideman_timebase_callback, timebase);
}

int sideman_jack_transport_read(jack_client_t *client, uint32_t *frame, int *bbt_valid, double *bbt_quarters,
                                double *bbt_quarters_per_minute) {
    jack_position_t pos;
    const jack_transport_state_t state = jack_transport_query(client, &pos);
    *frame = pos.frame;
    *bbt_valid = 0;
    /* A master's BBT is used only when it is self-consistent (jack_transport's own publishes bars in the
       millions and ticks past ticks_per_beat while the transport is starting). */
    if ((pos.valid & JackPositionBBT) && pos.beats_per_minute > 0 && pos.beat_type > 0 && pos.ticks_per_beat > 0 &&
        pos.bar >= 1 && pos.beat >= 1 && pos.beat <= pos.beats_per_bar + 0.5 && pos.tick >= 0 &&
        pos.tick < pos.ticks_per_beat) {
        const double to_quarters = 4.0 / pos.beat_type;
        const double beats = (pos.bar - 1) * (double)pos.beats_per_bar + (pos.beat - 1) + pos.tick / pos.ticks_per_beat;
        *bbt_valid = 1;
        *bbt_quarters = beats * to_quarters;
        *bbt_quarters_per_minute = pos.beats_per_minute * to_quarters;
    }
    return state == JackTransportRolling;
}
