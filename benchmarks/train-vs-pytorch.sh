#!/usr/bin/env bash
# Training speed, Sideman against PyTorch on this CPU, side by side in one sitting (issue 21; docs/TRAINING.md,
# "Speed against PyTorch"). For each family, alternating ROUNDS times: `sideman train --benchmark
# --training-only` and benchmarks/train_torch.py (the same family from training/sideman_torch, same sizes, same
# batch of 64 x 64 steps with 192 inputs and 130 outputs, forward + loss + backward + Adam), both on THREADS
# threads. Prints each family's median sample-steps/s and the ratio Sideman / PyTorch, and checks the goals:
# LSTM families >= 1.5x, conv and transformer >= 1.0x.
#
#   benchmarks/train-vs-pytorch.sh                 # every family, every core, 3 rounds
#   FAMILIES="basic conv" ROUNDS=5 THREADS=2 benchmarks/train-vs-pytorch.sh
#   RECURRENT_PRECISION=fp32 benchmarks/train-vs-pytorch.sh   # the LSTMs' recurrent products at fp32, not auto
#                                                               # (bf16 where the CPU has AVX-512 BF16)
#
# PyTorch comes from training/.venv (made here, from PyPI, when no PyTorch imports); sideman from
# .build/release (built when missing). Run it on an idle machine: anything else running skews both sides.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/torch-env.sh
families=${FAMILIES:-basic lookback attention conv transformer}
rounds=${ROUNDS:-3}
threads=${THREADS:-$(nproc)}
precision=${RECURRENT_PRECISION:-auto}
sideman=.build/release/sideman
if [ ! -x "$sideman" ] || ! "$sideman" train --help 2>/dev/null | grep -q -- --recurrent-precision; then
  echo "train-vs-pytorch: building sideman"
  swift build -c release -Xswiftc -enable-testing --product sideman
fi
echo "train-vs-pytorch: $threads threads, $rounds rounds, recurrent products $precision; $("$python" -c 'import torch; print("torch", torch.__version__)'); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
# Sideman's threads are its own; PyTorch's intra-op pool is set by train_torch.py, and neither may start more.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=$threads
results=$(mktemp)
trap 'rm -f "$results"' EXIT
for round in $(seq "$rounds"); do
  for family in $families; do
    s=$("$sideman" train --benchmark --training-only --json --family "$family" --threads "$threads" --recurrent-precision "$precision")
    t=$("$python" benchmarks/train_torch.py --family "$family" --threads "$threads")
    echo "$family $s $t" >> "$results"
    echo "  round $round $family: sideman $(echo "$s" | "$python" -c 'import json,sys; print(json.load(sys.stdin)["sample_steps_per_s_" + ("openblas" if "openblas" in sys.argv[1] else "builtin")])' "$s"), pytorch $(echo "$t" | "$python" -c 'import json,sys; print(json.load(sys.stdin)["sample_steps_per_s"])')"
  done
done
"$python" - "$results" <<'PY'
import json, statistics, sys
goals = {"basic": 1.5, "lookback": 1.5, "attention": 1.5, "conv": 1.0, "transformer": 1.0}
rows, params = {}, {}
for line in open(sys.argv[1]):
    family, rest = line.split(" ", 1)
    decoder = json.JSONDecoder()
    s, end = decoder.raw_decode(rest.strip())
    t, _ = decoder.raw_decode(rest.strip()[end:].strip())
    rate = next(v for k, v in s.items() if k.startswith("sample_steps_per_s_"))
    if s["parameters"] != t["parameters"]:
        sys.exit(f"train-vs-pytorch: {family} has {s['parameters']} parameters in sideman, {t['parameters']} in PyTorch")
    rows.setdefault(family, []).append((rate, t["sample_steps_per_s"]))
    params[family] = s["parameters"]
print(f"{'family':<12} {'params':>9} {'sideman':>9} {'pytorch':>9} {'ratio':>6}  goal")
missed = 0
for family, runs in rows.items():
    ours = statistics.median(r[0] for r in runs)
    theirs = statistics.median(r[1] for r in runs)
    ratio = ours / theirs
    held = ratio >= goals[family]
    missed += not held
    print(f"{family:<12} {params[family]:>9} {ours:>9.0f} {theirs:>9.0f} {ratio:>6.2f}  >= {goals[family]:.1f} {'met' if held else 'MISSED'}")
print(f"sample-steps/s, median of {len(next(iter(rows.values())))} alternating runs each")
PY
