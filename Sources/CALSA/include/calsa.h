#ifndef SIDEMAN_CALSA_H
#define SIDEMAN_CALSA_H
// A small C face over the ALSA sequencer: the snd_seq_ev_* helpers are macros Swift cannot call, and
// raw MIDI bytes in and out (through snd_midi_event) keep the ALSA backend's interface the same as JACK's.
#include <stddef.h>
#include <stdint.h>

typedef struct sideman_seq sideman_seq;

/// Opens a duplex sequencer client named `client_name`. Returns 0 or a negative errno
/// (-ENOENT when /dev/snd/seq does not exist).
int sideman_seq_open(const char *client_name, sideman_seq **out);
void sideman_seq_close(sideman_seq *seq);
int sideman_seq_client_id(sideman_seq *seq);

/// Creates an application port that others can write to (input) or read from (output).
/// Input ports stamp arriving events with the client's queue time. Returns the port id or -errno.
int sideman_seq_add_input_port(sideman_seq *seq, const char *name);
int sideman_seq_add_output_port(sideman_seq *seq, const char *name);

/// Current real time of the client's queue, in nanoseconds since the queue started.
uint64_t sideman_seq_queue_time_ns(sideman_seq *seq);

/// Schedules one complete MIDI message (raw bytes) on `port` at queue time `at_ns` (0 = now, direct).
/// Returns 0 or -errno.
int sideman_seq_send(sideman_seq *seq, int port, uint64_t at_ns, const uint8_t *bytes, size_t len);
int sideman_seq_flush(sideman_seq *seq);
/// Removes events not yet delivered from the output queue (used before sending note-offs on stop).
int sideman_seq_drop_pending(sideman_seq *seq);

/// Waits up to timeout_ms until input is pending. Returns 1 when it is, 0 on timeout, or -errno.
/// Only polls the client's descriptors, so it may run while another thread sends.
int sideman_seq_wait_input(sideman_seq *seq, int timeout_ms);

/// Takes one pending incoming event without waiting and decodes it to raw MIDI bytes. Returns the
/// number of bytes, 0 when nothing is pending or the event carries no MIDI (subscription notices...),
/// -ENOSPC when it does not fit `capacity`, or another -errno. `at_ns` receives the event's queue time,
/// `port` the destination port; `announcement` is set to 1 when the event was the system announcing a
/// client or port coming or going (connection patterns may match something new), else 0.
int sideman_seq_receive(sideman_seq *seq, uint8_t *buffer, size_t capacity, uint64_t *at_ns, int *port,
                        int *announcement);

/// Subscribes `my_port` to the system announce port, so port and client changes arrive as input.
int sideman_seq_watch_announcements(sideman_seq *seq, int my_port);

typedef void (*sideman_seq_port_visitor)(void *context, int client, int port, const char *client_name,
                                         const char *port_name, unsigned capabilities, unsigned type);
/// Calls `visit` for every port of every client. Returns 0 or -errno.
int sideman_seq_list_ports(sideman_seq *seq, sideman_seq_port_visitor visit, void *context);

typedef void (*sideman_seq_address_visitor)(void *context, int client, int port);
/// Calls `visit` for every port subscribed to read from our `my_port` (its destinations). 0 or -errno.
int sideman_seq_subscribers(sideman_seq *seq, int my_port, sideman_seq_address_visitor visit, void *context);

/// Subscribes `client:port` -> our `my_port` (connect_from) or our `my_port` -> `client:port` (connect_to).
int sideman_seq_connect_from(sideman_seq *seq, int my_port, int client, int port);
int sideman_seq_connect_to(sideman_seq *seq, int my_port, int client, int port);

/// Capability bits, re-exported because the SND_SEQ_PORT_CAP_* names are macros.
extern const unsigned sideman_seq_cap_read;
extern const unsigned sideman_seq_cap_write;
extern const unsigned sideman_seq_cap_subs_read;
extern const unsigned sideman_seq_cap_subs_write;
extern const unsigned sideman_seq_cap_no_export;
/// Port type bits of ports that stand for hardware (a keyboard, a synth module).
extern const unsigned sideman_seq_type_hardware;

#endif
