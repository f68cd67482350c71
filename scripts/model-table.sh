#!/usr/bin/env bash
# Measures trained models for the README's table: validation NLL (`sideman eval`), parameter count and the
# streaming step's median and p99 µs (`sideman bench`, fp16 as the presets run them). Each argument is
# MODEL=DATA[:FORMAT]; prints one Markdown row per model.
#   scripts/model-table.sh presets/folk/continuation.safetensors=corpora/folk/valid.jsonl   (formats: docs/DATA.md)
set -euo pipefail
cd "$(dirname "$0")/.."
sideman=${SIDEMAN:-.build/release/sideman}
printf '| model | family | head | condition | params | valid NLL | step µs median / p99 (fp16) |\n|---|---|---|---|---|---|---|\n'
for item in "$@"; do
    model=${item%%=*}
    data=${item#*=}
    format=()
    if [[ $data == *:* ]]; then format=(--format "${data##*:}"); data=${data%:*}; fi
    eval_json=$("$sideman" eval --model "$model" --data "$data" "${format[@]}" --json)
    bench_json=$("$sideman" bench --model "$model" --precision fp16 --steps 3000 --cold-steps 10 --json)
    python3 - "$model" "$eval_json" "$bench_json" <<'PY'
import json, sys
model, e, b = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
print(f"| {model} | {e['family']} | {e['head']} | {e.get('condition', '-')} | {e['parameters']:,} | {e['nll_per_step']:.3f} | "
      f"{b['median_us']:.1f} / {b['p99_us']:.1f} |")
PY
done
