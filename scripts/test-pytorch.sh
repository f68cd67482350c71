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
. scripts/torch-env.sh
# Built as scripts/test.sh builds it (the same flags keep one build folder valid for both).
if [ ! -x .build/release/sideman ] || ! .build/release/sideman export --help >/dev/null 2>&1; then
  echo "test-pytorch: building sideman"
  swift build -c release -Xswiftc -enable-testing --product sideman
fi
export OMP_NUM_THREADS=1
exec "$python" training/tests/check_pytorch.py --sideman .build/release/sideman "$@"
