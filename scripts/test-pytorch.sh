#!/usr/bin/env bash
# The PyTorch half's tests (docs/TRAINING.md, "Training in PyTorch"). Makes its own Python environment
# (training/.venv: PyTorch and numpy from PyPI, or wheels pip finds through PIP_FIND_LINKS; a PyTorch that
# python3 already imports is used as it is), builds sideman when it is missing or lacks `export`, then prints
# a PASS or FAIL line per check:
#   (a) models `sideman train` wrote give `sideman eval`'s validation NLL in PyTorch within 1e-4, every family;
#   (b) a 2-process torchrun (gloo, CPU) writes models whose `sideman eval` NLL is PyTorch's within 1e-3;
#   (c) `sideman continue`, and `sideman run` on a private JACK server, play one from a preset.
# A few minutes on 2 cores, one torch thread per process. Extra arguments go to
# training/tests/check_pytorch.py: --quick, --work DIR, and --shipped (also every shipped model on its real
# valid split, with the corpora of docs/DATA.md: about 10 minutes more).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=training/.venv
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import torch, numpy" 2>/dev/null; then
  python="$venv/bin/python"
elif python3 -c "import torch, numpy" 2>/dev/null; then
  python=python3  # a PyTorch the machine already has is used as it is, never downloaded again
else
  if [ ! -x "$venv/bin/python" ]; then
    if ! python3 -c "import venv, ensurepip" 2>/dev/null; then
      sudo_cmd=(); if [ "$(id -u)" != 0 ]; then sudo_cmd=(sudo); fi
      echo "test-pytorch: installing python3-venv"
      "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
    fi
    python3 -m venv "$venv"
  fi
  echo "test-pytorch: installing torch and numpy into $venv"
  "$venv/bin/pip" install -q torch numpy
  python="$venv/bin/python"
fi
# Built as scripts/test.sh builds it (the same flags keep one build folder valid for both).
if [ ! -x .build/release/sideman ] || ! .build/release/sideman export --help >/dev/null 2>&1; then
  echo "test-pytorch: building sideman"
  swift build -c release -Xswiftc -enable-testing --product sideman
fi
export OMP_NUM_THREADS=1
exec "$python" training/tests/check_pytorch.py --sideman .build/release/sideman "$@"
