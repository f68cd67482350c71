#ifndef SIDEMAN_CJACK_H
#define SIDEMAN_CJACK_H
#include <jack/jack.h>
#include <jack/midiport.h>
#include <jack/thread.h>
#include <jack/transport.h>

/// jack_client_open is variadic (the server name rides in the varargs), which Swift cannot call.
/// `server_name` may be NULL for the default server (or $JACK_DEFAULT_SERVER).
jack_client_t *sideman_jack_client_open(const char *client_name, jack_options_t options,
                                        jack_status_t *status, const char *server_name);

/// libjack prints every failed connection attempt to stderr; a daemon that retries while the server
/// is away would flood its log. While quiet, JACK's error and info lines are dropped.
void sideman_jack_set_quiet(int quiet);

/// Allocation probe for tests. When a test preloads a library exporting `sideman_alloc_probe(int)`,
/// `sideman_jack_probe_resolve` finds it and returns 1, and the backend installs a probing process
/// callback that brackets each cycle with probe(1) ... probe(0) around the production callback's body,
/// so the preloaded malloc can count allocations made inside live cycles. Without such a library the
/// production callback is installed and no probe code runs at all.
int sideman_jack_probe_resolve(void);
void sideman_jack_probe_enter(void);
void sideman_jack_probe_leave(void);

/// The meter and tempo Sideman publishes as JACK's timebase master. Written by the control thread
/// before `sideman_jack_become_timebase_master`; read by JACK's process thread in the callback.
typedef struct {
    /// Quarter notes per minute (JACK's BBT tempo is in beats of `beat_type`; converted in the callback).
    double quarters_per_minute;
    int beats_per_bar;
    int beat_type;
} sideman_timebase;

/// Becomes the timebase master only if no other client is (conditional): returns 0 when it did,
/// EBUSY when another master holds it. BBT is computed from the transport frame at a constant tempo.
int sideman_jack_become_timebase_master(jack_client_t *client, sideman_timebase *timebase);

/// The transport at this cycle's first frame. Real-time safe. Returns 1 while rolling. `frame` is the
/// transport frame; when a timebase master publishes BBT, `bbt_valid` is 1 and `bbt_quarters` is the
/// position in quarter notes from bar 1, `bbt_quarters_per_minute` the tempo in quarter notes.
int sideman_jack_transport_read(jack_client_t *client, uint32_t *frame, int *bbt_valid, double *bbt_quarters,
                                double *bbt_quarters_per_minute);

#endif
