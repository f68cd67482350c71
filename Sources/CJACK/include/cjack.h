#ifndef SIDEMAN_CJACK_H
#define SIDEMAN_CJACK_H
#include <jack/jack.h>
#include <jack/midiport.h>
#include <jack/thread.h>

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

#endif
