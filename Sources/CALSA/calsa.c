#include "calsa.h"

#include <alsa/asoundlib.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

struct sideman_seq {
    snd_seq_t *handle;
    int queue;
    snd_midi_event_t *encoder;
    snd_midi_event_t *decoder;
};

const unsigned sideman_seq_cap_read = SND_SEQ_PORT_CAP_READ;
const unsigned sideman_seq_cap_write = SND_SEQ_PORT_CAP_WRITE;
const unsigned sideman_seq_cap_subs_read = SND_SEQ_PORT_CAP_SUBS_READ;
const unsigned sideman_seq_cap_subs_write = SND_SEQ_PORT_CAP_SUBS_WRITE;
const unsigned sideman_seq_cap_no_export = SND_SEQ_PORT_CAP_NO_EXPORT;
const unsigned sideman_seq_type_hardware = SND_SEQ_PORT_TYPE_HARDWARE | SND_SEQ_PORT_TYPE_PORT;

// Large enough for a long sysex dump in one decoded event.
enum { CODEC_BUFFER = 65536 };

// alsa-lib prints its own diagnostics to stderr; Sideman reports every failure itself, in one line.
static void quiet_alsa_errors(const char *file, int line, const char *function, int err, const char *fmt, ...) {
    (void)file; (void)line; (void)function; (void)err; (void)fmt;
}

int sideman_seq_open(const char *client_name, sideman_seq **out) {
    *out = NULL;
    snd_lib_error_set_handler(quiet_alsa_errors);
    sideman_seq *seq = calloc(1, sizeof *seq);
    if (!seq) return -ENOMEM;
    int err = snd_seq_open(&seq->handle, "default", SND_SEQ_OPEN_DUPLEX, SND_SEQ_NONBLOCK);
    if (err < 0) { free(seq); return err; }
    snd_seq_set_client_name(seq->handle, client_name);
    seq->queue = snd_seq_alloc_named_queue(seq->handle, client_name);
    if (seq->queue < 0) { err = seq->queue; snd_seq_close(seq->handle); free(seq); return err; }
    if ((err = snd_midi_event_new(CODEC_BUFFER, &seq->encoder)) < 0 ||
        (err = snd_midi_event_new(CODEC_BUFFER, &seq->decoder)) < 0) {
        sideman_seq_close(seq);
        return err;
    }
    // Running status would make a decoded event depend on the one before it; every event stands alone.
    snd_midi_event_no_status(seq->decoder, 1);
    snd_seq_start_queue(seq->handle, seq->queue, NULL);
    snd_seq_drain_output(seq->handle);
    *out = seq;
    return 0;
}

void sideman_seq_close(sideman_seq *seq) {
    if (!seq) return;
    if (seq->encoder) snd_midi_event_free(seq->encoder);
    if (seq->decoder) snd_midi_event_free(seq->decoder);
    if (seq->handle) {
        if (seq->queue >= 0) snd_seq_free_queue(seq->handle, seq->queue);
        snd_seq_close(seq->handle);
    }
    free(seq);
}

int sideman_seq_client_id(sideman_seq *seq) { return snd_seq_client_id(seq->handle); }

static int add_port(sideman_seq *seq, const char *name, unsigned caps) {
    snd_seq_port_info_t *info;
    snd_seq_port_info_alloca(&info);
    snd_seq_port_info_set_name(info, name);
    snd_seq_port_info_set_capability(info, caps);
    snd_seq_port_info_set_type(info, SND_SEQ_PORT_TYPE_MIDI_GENERIC | SND_SEQ_PORT_TYPE_APPLICATION);
    snd_seq_port_info_set_timestamping(info, 1);
    snd_seq_port_info_set_timestamp_real(info, 1);
    snd_seq_port_info_set_timestamp_queue(info, seq->queue);
    int err = snd_seq_create_port(seq->handle, info);
    if (err < 0) return err;
    return snd_seq_port_info_get_port(info);
}

int sideman_seq_add_input_port(sideman_seq *seq, const char *name) {
    return add_port(seq, name, SND_SEQ_PORT_CAP_WRITE | SND_SEQ_PORT_CAP_SUBS_WRITE);
}

int sideman_seq_add_output_port(sideman_seq *seq, const char *name) {
    return add_port(seq, name, SND_SEQ_PORT_CAP_READ | SND_SEQ_PORT_CAP_SUBS_READ);
}

uint64_t sideman_seq_queue_time_ns(sideman_seq *seq) {
    snd_seq_queue_status_t *status;
    snd_seq_queue_status_alloca(&status);
    if (snd_seq_get_queue_status(seq->handle, seq->queue, status) < 0) return 0;
    const snd_seq_real_time_t *t = snd_seq_queue_status_get_real_time(status);
    return (uint64_t)t->tv_sec * 1000000000ull + t->tv_nsec;
}

int sideman_seq_send(sideman_seq *seq, int port, uint64_t at_ns, const uint8_t *bytes, size_t len) {
    snd_seq_event_t ev;
    snd_seq_ev_clear(&ev);
    snd_midi_event_reset_encode(seq->encoder);
    long used = snd_midi_event_encode(seq->encoder, bytes, (long)len, &ev);
    if (used < 0) return (int)used;
    if (ev.type == SND_SEQ_EVENT_NONE) return -EINVAL;  // incomplete message
    snd_seq_ev_set_source(&ev, port);
    snd_seq_ev_set_subs(&ev);
    if (at_ns == 0) {
        snd_seq_ev_set_direct(&ev);
    } else {
        snd_seq_real_time_t when = {(unsigned)(at_ns / 1000000000ull), (unsigned)(at_ns % 1000000000ull)};
        snd_seq_ev_schedule_real(&ev, seq->queue, 0, &when);
    }
    int err = snd_seq_event_output(seq->handle, &ev);
    return err < 0 ? err : 0;
}

int sideman_seq_flush(sideman_seq *seq) {
    int err = snd_seq_drain_output(seq->handle);
    return err < 0 ? err : 0;
}

int sideman_seq_drop_pending(sideman_seq *seq) {
    snd_seq_drop_output(seq->handle);
    snd_seq_remove_events_t *remove;
    snd_seq_remove_events_alloca(&remove);
    snd_seq_remove_events_set_condition(remove, SND_SEQ_REMOVE_OUTPUT);
    snd_seq_remove_events_set_queue(remove, seq->queue);
    return snd_seq_remove_events(seq->handle, remove);
}

int sideman_seq_wait_input(sideman_seq *seq, int timeout_ms) {
    struct pollfd fds[8];
    int count = snd_seq_poll_descriptors_count(seq->handle, POLLIN);
    if (count <= 0 || count > 8) return -EINVAL;
    snd_seq_poll_descriptors(seq->handle, fds, (unsigned)count, POLLIN);
    int ready = poll(fds, (nfds_t)count, timeout_ms);
    if (ready < 0) return errno == EINTR ? 0 : -errno;
    return ready > 0 ? 1 : 0;
}

int sideman_seq_watch_announcements(sideman_seq *seq, int my_port) {
    return snd_seq_connect_from(seq->handle, my_port, SND_SEQ_CLIENT_SYSTEM, SND_SEQ_PORT_SYSTEM_ANNOUNCE);
}

int sideman_seq_receive(sideman_seq *seq, uint8_t *buffer, size_t capacity, uint64_t *at_ns, int *port,
                        int *announcement) {
    *announcement = 0;
    if (snd_seq_event_input_pending(seq->handle, 1) <= 0) return 0;
    snd_seq_event_t *ev = NULL;
    int err = snd_seq_event_input(seq->handle, &ev);
    if (err == -EAGAIN) return 0;
    if (err < 0) return err;
    *at_ns = (uint64_t)ev->time.time.tv_sec * 1000000000ull + ev->time.time.tv_nsec;
    *port = ev->dest.port;
    switch (ev->type) {
    case SND_SEQ_EVENT_CLIENT_START: case SND_SEQ_EVENT_CLIENT_EXIT: case SND_SEQ_EVENT_PORT_START:
    case SND_SEQ_EVENT_PORT_EXIT: case SND_SEQ_EVENT_PORT_CHANGE:
        *announcement = 1;
        return 0;
    default:
        break;
    }
    snd_midi_event_reset_decode(seq->decoder);
    long n = snd_midi_event_decode(seq->decoder, buffer, (long)capacity, ev);
    if (n == -ENOENT) return 0;
    if (n == -ENOMEM) return -ENOSPC;
    return (int)n;
}

int sideman_seq_list_ports(sideman_seq *seq, sideman_seq_port_visitor visit, void *context) {
    snd_seq_client_info_t *client;
    snd_seq_port_info_t *port;
    snd_seq_client_info_alloca(&client);
    snd_seq_port_info_alloca(&port);
    snd_seq_client_info_set_client(client, -1);
    while (snd_seq_query_next_client(seq->handle, client) >= 0) {
        int id = snd_seq_client_info_get_client(client);
        snd_seq_port_info_set_client(port, id);
        snd_seq_port_info_set_port(port, -1);
        while (snd_seq_query_next_port(seq->handle, port) >= 0) {
            visit(context, id, snd_seq_port_info_get_port(port), snd_seq_client_info_get_name(client),
                  snd_seq_port_info_get_name(port), snd_seq_port_info_get_capability(port),
                  snd_seq_port_info_get_type(port));
        }
    }
    return 0;
}

int sideman_seq_connect_from(sideman_seq *seq, int my_port, int client, int port) {
    return snd_seq_connect_from(seq->handle, my_port, client, port);
}

int sideman_seq_connect_to(sideman_seq *seq, int my_port, int client, int port) {
    return snd_seq_connect_to(seq->handle, my_port, client, port);
}

int sideman_seq_subscribers(sideman_seq *seq, int my_port, sideman_seq_address_visitor visit, void *context) {
    snd_seq_query_subscribe_t *query;
    snd_seq_query_subscribe_alloca(&query);
    snd_seq_addr_t root;
    root.client = (unsigned char)snd_seq_client_id(seq->handle);
    root.port = (unsigned char)my_port;
    snd_seq_query_subscribe_set_root(query, &root);
    snd_seq_query_subscribe_set_type(query, SND_SEQ_QUERY_SUBS_READ);
    snd_seq_query_subscribe_set_index(query, 0);
    while (snd_seq_query_port_subscribers(seq->handle, query) >= 0) {
        const snd_seq_addr_t *address = snd_seq_query_subscribe_get_addr(query);
        visit(context, address->client, address->port);
        snd_seq_query_subscribe_set_index(query, snd_seq_query_subscribe_get_index(query) + 1);
    }
    return 0;
}
