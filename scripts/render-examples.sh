#!/usr/bin/env bash
# Renders a few examples for listening and looking: folk call-and-response (`sideman demo` with the folk
# preset: the player's phrase, then 8 bars of the Lookback RNN's answer) at a few seeds, on the built-in air
# and on examples/twinkle.mid; and the chorale and band presets accompanying examples/chorale-soprano.mid and
# examples/band-chords.mid (`sideman accompany`, writing accompany.mid/.svg/.png/.wav), and the band in three
# styles (8beat, swing, bossanova). Per example it writes demo.mid, demo.svg (piano roll, the
# player's notes hatched), demo.png (when rsvg-convert is installed) and demo.wav (when FluidSynth and a
# General MIDI soundfont are installed: apt-get install fluidsynth fluid-soundfont-gm librsvg2-bin, or
# scripts/setup.sh --with-renders). Neither is needed by the project; without them the script says so and
# writes the rest.
#
# Usage: scripts/render-examples.sh [OUT_DIR]      (default examples/renders/; run from anywhere)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/examples/renders}"
sideman="$root/.build/release/sideman"
if [ ! -x "$sideman" ]; then
  echo "render-examples: $sideman is not built; run: swift build -c release" >&2
  exit 66
fi

soundfont=""
for sf in /usr/share/sounds/sf2/FluidR3_GM.sf2 /usr/share/sounds/sf2/default-GM.sf2; do
  if [ -f "$sf" ]; then soundfont="$sf"; break; fi
done
if ! command -v fluidsynth >/dev/null || [ -z "$soundfont" ]; then
  echo "render-examples: skipping WAVs: FluidSynth or the General MIDI soundfont is missing (apt-get install fluidsynth fluid-soundfont-gm)"
fi
have_rsvg=1
if ! command -v rsvg-convert >/dev/null; then
  have_rsvg=0
  echo "render-examples: skipping PNGs: rsvg-convert is missing (apt-get install librsvg2-bin); the SVGs are written"
fi

mkdir -p "$out"
cd "$root"
render() {
  local name="$1"; shift
  local dir="$out/$name"
  # demo writes the WAV itself when FluidSynth and a soundfont are there, and says so when they are not.
  "$sideman" demo --preset folk --bars 8 --out "$dir" "$@" | grep -v '^no WAV' || true
  [ -f "$dir/demo.mid" ] || { echo "render-examples: $name: no MIDI written" >&2; exit 70; }
  if [ "$have_rsvg" = 1 ]; then
    rsvg-convert --width 1200 --background-color white -o "$dir/demo.png" "$dir/demo.svg"
    echo "wrote $dir/demo.png"
  fi
}

for seed in 1 2 3; do
  render "air-seed$seed" --seed "$seed"
  render "twinkle-seed$seed" --seed "$seed" examples/twinkle.mid
done

# The accompanying presets: the example file is the player.
accompany() {
  local name="$1" preset="$2" example="$3" seed="$4"
  local dir="$out/$name"
  mkdir -p "$dir"
  "$sideman" accompany "$example" -o "$dir/accompany.mid" --preset "$preset" --seed "$seed" --svg "$dir/accompany.svg"
  echo "wrote $dir/accompany.mid"
  if [ "$have_rsvg" = 1 ]; then
    rsvg-convert --width 1200 --background-color white -o "$dir/accompany.png" "$dir/accompany.svg"
    echo "wrote $dir/accompany.png"
  fi
  if command -v fluidsynth >/dev/null && [ -n "$soundfont" ]; then
    fluidsynth -ni -q -F "$dir/accompany.wav" -r 44100 "$soundfont" "$dir/accompany.mid" >/dev/null 2>&1
    echo "wrote $dir/accompany.wav"
  fi
}

for seed in 1 2; do
  accompany "chorale-seed$seed" chorale examples/chorale-soprano.mid "$seed"
  accompany "band-seed$seed" band examples/band-chords.mid "$seed"
done

# The band in three of its styles (`sideman styles --preset band` lists them all), and the one-model band
# (presets/band-transformer.yaml) in the first of them, through `sideman demo`, which writes demo.mid,
# demo.svg and the WAV (22.05 kHz, to keep the files small).
for render in band:8beat band:swing band:bossanova band-transformer:8beat; do
  preset="${render%%:*}" style="${render##*:}"
  dir="$out/$preset-$style"
  "$sideman" demo --preset "$preset" --style "$style" --sample-rate 22050 --out "$dir" examples/band-chords.mid | grep -v '^no WAV' || true
  [ -f "$dir/demo.mid" ] || { echo "render-examples: $preset-$style: no MIDI written" >&2; exit 70; }
  if [ "$have_rsvg" = 1 ]; then
    rsvg-convert --width 1200 --background-color white -o "$dir/demo.png" "$dir/demo.svg"
    echo "wrote $dir/demo.png"
  fi
done

# The MusicVAE presets (issue 16): a variation answering twinkle's last bars, and the groove drummer under
# the example chords, moving from the 8beat toward the bossa nova.
for render in folk-variation:examples/twinkle.mid groove:examples/band-chords.mid; do
  preset="${render%%:*}" example="${render#*:}"
  dir="$out/$preset"
  "$sideman" demo --preset "$preset" --sample-rate 22050 --out "$dir" "$example" | grep -v '^no WAV' || true
  [ -f "$dir/demo.mid" ] || { echo "render-examples: $preset: no MIDI written" >&2; exit 70; }
  if [ "$have_rsvg" = 1 ]; then
    rsvg-convert --width 1200 --background-color white -o "$dir/demo.png" "$dir/demo.svg"
    echo "wrote $dir/demo.png"
  fi
done
