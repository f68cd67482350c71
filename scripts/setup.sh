#!/usr/bin/env bash
# Installs what Sideman needs on a fresh Debian machine: the JACK and ALSA headers, a JACK server and its
# command-line clients for the tests, the Python JACK client, Ableton Link's headers (and LinkHut, the
# second Link peer of the tests), Python's mido for cross-checking the Standard MIDI Files we write,
# numpy for the reference models the streaming steps are checked against (benchmarks/reference),
# OpenBLAS for training (loaded at run time; training falls back to its own GEMM without it),
# systemd-analyze to score the service unit, and PipeWire with its JACK emulation (pw-jack) for the
# tests that run Sideman as on a current desktop. Nothing is switched to PipeWire: pw-jack is opt-in per
# command, and without a session manager (none is installed) PipeWire opens no sound card. Idempotent:
# a second run installs nothing.
#
# Optional: `scripts/setup.sh --with-renders` also installs FluidSynth with the General MIDI soundfont and
# rsvg-convert, which `sideman demo` and scripts/render-examples.sh use to write WAVs and PNG piano rolls.
# Nothing needs them: without them those write MIDI and SVG only, and say so.
set -euo pipefail

apt_packages=(libasound2-dev libjack-jackd2-dev jackd2 python3-jack-client python3-mido python3-numpy pkg-config libopenblas-dev systemd ableton-link-dev ableton-link-utils pipewire pipewire-jack)
if [ "${1:-}" = "--with-renders" ]; then apt_packages+=(fluidsynth fluid-soundfont-gm librsvg2-bin); fi

sudo_cmd=()
if [ "$(id -u)" != 0 ]; then sudo_cmd=(sudo); fi

missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  # jackd2 asks whether to enable realtime limits; answer it up front so the install never waits.
  echo "jackd2 jackd/tweak_rt_limits boolean false" | "${sudo_cmd[@]}" debconf-set-selections
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
