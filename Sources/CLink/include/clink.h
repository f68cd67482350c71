#ifndef SIDEMAN_CLINK_H
#define SIDEMAN_CLINK_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Ableton Link is a C++ header library; Swift reaches it through these few C functions.
/// A session handle owns one `ableton::Link`: its network threads start on create and stop on destroy.
typedef struct sideman_link sideman_link;

/// Joins nothing yet: `sideman_link_enable` starts discovery. `bpm` is the tempo offered to the session
/// when Sideman is the first peer.
sideman_link *sideman_link_create(double bpm);
void sideman_link_destroy(sideman_link *link);
void sideman_link_enable(sideman_link *link, int enabled);
/// Follow (and offer) the session's start/stop state as well as tempo and phase.
void sideman_link_enable_start_stop_sync(sideman_link *link, int enabled);
size_t sideman_link_peers(sideman_link *link);
/// Link's clock now, in microseconds (the host time its timelines are expressed in).
int64_t sideman_link_micros(sideman_link *link);

/// Real-time thread only (Link's audio-thread capture: no allocation, no lock): the session's beat at
/// `micros` for a bar of `quantum` beats, its tempo in beats per minute and whether it is playing.
void sideman_link_audio_read(sideman_link *link, int64_t micros, double quantum, double *beat, double *tempo, int *playing);

/// Control thread: the session state as an app sees it, for status lines and tests.
void sideman_link_app_read(sideman_link *link, double quantum, double *beat, double *tempo, int *playing);
/// Control thread: proposes a tempo to the session (every peer follows).
void sideman_link_set_tempo(sideman_link *link, double bpm);
/// Control thread: proposes start (1) or stop (0), with start/stop sync on.
void sideman_link_set_playing(sideman_link *link, int playing, double quantum);

#ifdef __cplusplus
}
#endif
#endif
