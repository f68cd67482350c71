#!/usr/bin/env bash
# The test command (README, CI): installs what is missing, builds, and runs the whole suite. Numeric code
# is many times slower in debug builds, so the suite runs as an optimised build with testing enabled;
# that keeps CI well inside its time limit. Extra arguments go to `swift test` (e.g. --filter MIDITests).
# Without them, the PyTorch tests follow where PyTorch is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# JACK keeps a registry of at most 8 servers in /dev/shm; a server killed with SIGKILL (as the robustness
# tests do) stays registered until one of the same name starts again. With no jackd running at all, every
# entry is stale: clear them, so an earlier interrupted run cannot leave this one without servers.
if ! pgrep -x jackd >/dev/null 2>&1 && ! pgrep -x jackdbus >/dev/null 2>&1; then
  rm -f /dev/shm/jack-shm-registry /dev/shm/jack_sem.* /dev/shm/jack_db-* /dev/shm/jack-[0-9]*-[0-9]* 2>/dev/null || true
  find /dev/shm -maxdepth 1 -name 'jack_*' -user "$(id -u)" -exec rm -rf {} + 2>/dev/null || true
fi
swift test -c release -Xswiftc -enable-testing "$@"
# The PyTorch half (training/, docs/TRAINING.md) where PyTorch is already installed, for python3 or in the
# venv scripts/test-pytorch.sh made: the suite never downloads it. Not with a filter: that asks for Swift tests.
if [ $# -eq 0 ]; then
  if python3 -c "import torch" 2>/dev/null || training/.venv/bin/python -c "import torch" 2>/dev/null; then
    bash scripts/test-pytorch.sh
  else
    echo "skipped: PyTorch not importable (run scripts/test-pytorch.sh)"
  fi
fi
