#!/usr/bin/env bash
# Runs the whole test suite. Numeric code is many times slower in debug builds, so the suite runs as an
# optimised build with testing enabled; that keeps CI well inside its time limit.
set -euo pipefail
cd "$(dirname "$0")/.."
exec swift test -c release -Xswiftc -enable-testing "$@"
