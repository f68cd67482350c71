#!/usr/bin/env bash
# The run command (README): installs what is missing, builds Sideman, and runs the daemon in the
# foreground on a preset (default: "default", which plays a band under your chords and answers your
# phrases). Usage: scripts/run.sh [PRESET], a shipped preset's name (folk, band, chorale, thru, ...) or a
# path to a .yaml.
# Sideman is a JACK client. When no JACK server is running, this starts one with the dummy driver so
# the daemon comes up and can be connected to (jack_lsp, jack_connect); start your own server on your
# sound card instead (e.g. `jackd -d alsa -d hw:0`) to hear it. Ctrl-C stops Sideman with all notes off.
set -euo pipefail
preset=${1:-default}
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product sideman
bin=.build/release/sideman
export JACK_NO_START_SERVER=1

jackd_pid=""
cleanup() {
  if [ -n "$jackd_pid" ]; then kill "$jackd_pid" 2>/dev/null || true; wait "$jackd_pid" 2>/dev/null || true; fi
}
trap cleanup EXIT

if ! jack_lsp >/dev/null 2>&1; then
  echo "run: no JACK server is running; starting one with the dummy driver (48 kHz, 128 frames)." >&2
  echo "run: to hear Sideman, stop this and start jackd on your sound card, then run scripts/run.sh again." >&2
  jackd -d dummy -r 48000 -p 128 >/tmp/sideman-jackd.log 2>&1 &
  jackd_pid=$!
  for _ in $(seq 1 100); do jack_lsp >/dev/null 2>&1 && break; sleep 0.05; done
fi

echo "run: $bin run --preset $preset   (Ctrl-C to stop)" >&2
if [ "$preset" = default ]; then
  echo "run: the default preset: play chords and a band (drums, bass, keys) follows you; stop and a fiddle answers." >&2
fi
echo "run: other presets: scripts/run.sh folk | folk-transformer | band | chorale | band-transformer | folk-variation | groove | thru" >&2
echo "run: to hear it, connect sideman:out to a synth, e.g. fluidsynth -a jack -m jack /usr/share/sounds/sf2/FluidR3_GM.sf2," >&2
echo "run: then jack_connect sideman:out fluidsynth-midi:midi_00, and your keyboard to sideman:in (README, walkthrough)." >&2
"$bin" run --preset "$preset" &
sideman_pid=$!
trap 'kill -TERM $sideman_pid 2>/dev/null || true' INT TERM
wait $sideman_pid || true
wait $sideman_pid 2>/dev/null || true
