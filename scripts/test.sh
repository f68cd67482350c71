#!/usr/bin/env bash
# The test command (README, CI): installs what is missing, builds, and runs the whole suite. Numeric code
# is many times slower in debug builds, so the suite runs as an optimised build with testing enabled;
# that keeps CI well inside its time limit. Extra arguments go to `swift test` (e.g. --filter MIDITests).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec swift test -c release -Xswiftc -enable-testing "$@"
