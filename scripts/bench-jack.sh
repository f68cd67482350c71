#!/usr/bin/env bash
# Benchmarks `sideman run` (MIDI thru) on a private jackd at periods 64 and 128: input->output latency
# in frames (min/median/max) and the highest event rate carried with nothing lost.
# Needs jackd2 and python3-jack-client (scripts/setup.sh); builds sideman in release mode.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product sideman >/dev/null
bin=.build/release/sideman
export JACK_NO_START_SERVER=1
for period in 64 128; do
    name="sidemanbench$$p$period"
    export JACK_DEFAULT_SERVER=$name
    jackd -R -n "$name" -d dummy -r 48000 -p "$period" >/dev/null 2>&1 &
    jackd_pid=$!
    for _ in $(seq 200); do jack_lsp -s "$name" >/dev/null 2>&1 && break; sleep 0.05; done
    "$bin" run --connect-in benchsend:out --connect-out benchrecv:in 2>/tmp/sideman-bench-$$.log &
    sideman_pid=$!
    status=0
    /usr/bin/python3 scripts/bench_jack.py --server "$name" || status=$?
    kill -TERM "$sideman_pid"; wait "$sideman_pid" || true
    kill -TERM "$jackd_pid"; wait "$jackd_pid" || true
    sed 's/^/  daemon: /' /tmp/sideman-bench-$$.log; rm -f /tmp/sideman-bench-$$.log
    [ "$status" = 0 ] || exit "$status"
done
