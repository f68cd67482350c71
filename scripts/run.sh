#!/usr/bin/env bash
# Runs Sideman as a musician starts it from a terminal. Until the daemon lands this shows the command
# line and inspects the bundled example song.
set -euo pipefail
bin=$1
preset=${2:-default}
cd "$(dirname "$0")/.."
"$bin" --help
"$bin" inspect examples/twinkle.mid
