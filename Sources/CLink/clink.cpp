#include "clink.h"
#include <ableton/Link.hpp>
#include <chrono>

struct sideman_link {
    explicit sideman_link(double bpm) : link(bpm) {}
    ableton::Link link;
};

extern "C" {

sideman_link *sideman_link_create(double bpm) {
    try {
        return new sideman_link(bpm);
    } catch (...) {
        return nullptr;
    }
}

void sideman_link_destroy(sideman_link *link) { delete link; }

void sideman_link_enable(sideman_link *link, int enabled) { link->link.enable(enabled != 0); }

void sideman_link_enable_start_stop_sync(sideman_link *link, int enabled) {
    link->link.enableStartStopSync(enabled != 0);
}

size_t sideman_link_peers(sideman_link *link) { return link->link.numPeers(); }

int64_t sideman_link_micros(sideman_link *link) { return link->link.clock().micros().count(); }

void sideman_link_audio_read(sideman_link *link, int64_t micros, double quantum, double *beat, double *tempo,
                             int *playing) {
    const auto state = link->link.captureAudioSessionState();
    const auto at = std::chrono::microseconds(micros);
    *beat = state.beatAtTime(at, quantum);
    *tempo = state.tempo();
    *playing = state.isPlaying() ? 1 : 0;
}

void sideman_link_app_read(sideman_link *link, double quantum, double *beat, double *tempo, int *playing) {
    const auto state = link->link.captureAppSessionState();
    *beat = state.beatAtTime(link->link.clock().micros(), quantum);
    *tempo = state.tempo();
    *playing = state.isPlaying() ? 1 : 0;
}

void sideman_link_set_tempo(sideman_link *link, double bpm) {
    auto state = link->link.captureAppSessionState();
    state.setTempo(bpm, link->link.clock().micros());
    link->link.commitAppSessionState(state);
}

void sideman_link_set_playing(sideman_link *link, int playing, double quantum) {
    auto state = link->link.captureAppSessionState();
    const auto now = link->link.clock().micros();
    if (playing) {
        state.setIsPlayingAndRequestBeatAtTime(true, now, 0.0, quantum);
    } else {
        state.setIsPlaying(false, now);
    }
    link->link.commitAppSessionState(state);
}

}
