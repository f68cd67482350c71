#!/usr/bin/env bash
# What each shipped model's reduced precisions cost on its validation data, and how fast each precision steps:
# the measurements behind the presets' `precision:` (docs/PRECISION.md states the rule).
#
#   CORPORA=/path/to/corpora benchmarks/precision-cost.sh       # docs/DATA.md's layout
#   COST_PRECISIONS=int8 STEPS=1000 CORPORA=... benchmarks/precision-cost.sh   # quicker
#   COST_PRECISIONS="int8 int8-wide-attention" CORPORA=... benchmarks/precision-cost.sh   # a transformer's too
#
# For every model: `sideman eval --precision P` streams the validation pieces through the step at P beside
# an fp32 copy (the NLL difference is the cost), and `sideman bench --model` times the step at P.
set -euo pipefail
cd "$(dirname "$0")/.."
corpora=${CORPORA:-${SIDEMAN_CORPORA:-}}
if [ -z "$corpora" ] || [ ! -d "$corpora" ]; then
  echo "precision-cost: set CORPORA to the corpora folder (docs/DATA.md)" >&2
  exit 66
fi
[ -x .build/release/sideman ] || swift build -c release --product sideman >&2
sideman=.build/release/sideman
steps=${STEPS:-2000}
# model | data | extra eval arguments
models=(
  "presets/folk/continuation.safetensors|folk/valid.jsonl|"
  "presets/folk/transformer.safetensors|folk/valid.jsonl|"
  "presets/jsb/frame-model.safetensors|jsb/pianoroll-quarter.valid.json|"
  "presets/jsb/frame-transformer.safetensors|jsb/pianoroll-quarter.valid.json|"
  "presets/jsb/sigmoid-conv.safetensors|jsb/pianoroll-quarter.valid.json|"
  "presets/chorale/voices.safetensors|jsb/satb-16th.valid.json|"
  "presets/band/bass.safetensors|band/valid.jsonl|--part bass"
  "presets/band/comping.safetensors|band/valid.jsonl|"
  "presets/band/drums.safetensors|band/valid.jsonl|--part drums"
  "presets/band-transformer/band.safetensors|band/valid.jsonl|"
)
field() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d.get(sys.argv[2], "-"))' "$1" "$2"; }
printf '%-44s %9s %11s %11s %9s %9s %9s\n' model fp32_nll ${COST_PRECISIONS:-fp16 int8} fp32_us fp16_us int8_us
for entry in "${models[@]}"; do
  IFS='|' read -r model data extra <<<"$entry"
  [ -f "$model" ] || continue
  costs=()
  for precision in ${COST_PRECISIONS:-fp16 int8}; do
    # shellcheck disable=SC2086
    out=$("$sideman" eval --model "$model" --data "$corpora/$data" $extra --precision "$precision" --json)
    nll=$(field "$out" streamed_fp32_nll)
    costs+=("$(python3 -c 'import sys; print("%+.2e" % float(sys.argv[1]))' "$(field "$out" precision_cost_nats)")")
  done
  medians=()
  for precision in fp32 fp16 int8; do
    out=$("$sideman" bench --model "$model" --precision "$precision" --steps "$steps" --cold-steps 50 --json)
    medians+=("$(field "$out" median_us)")
  done
  printf '%-44s %9.4f' "$model" "$nll"
  printf ' %11s' "${costs[@]}"
  printf ' %9s' "${medians[@]}"
  printf '\n'
done
