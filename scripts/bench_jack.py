#!/usr/bin/python3
"""Measures Sideman's JACK thru path: latency in frames and the event rate it carries without loss.

Two clients in this process: `benchsend:out` feeds `sideman:in`, `sideman:out` feeds `benchrecv:in`
(the daemon connects them with --connect-in/--connect-out). Each event is a note-on whose channel,
key and velocity encode a sequence number, so every one is matched to the frame it was sent at.
Run through scripts/bench-jack.sh, which starts jackd and the daemon.
"""
import argparse
import statistics
import sys
import threading
import time

import jack

parser = argparse.ArgumentParser()
parser.add_argument("--server", required=True)
parser.add_argument("--latency-events", type=int, default=2000)
parser.add_argument("--seconds", type=float, default=2.0)
args = parser.parse_args()

sender = jack.Client("benchsend", no_start_server=True, servername=args.server)
receiver = jack.Client("benchrecv", no_start_server=True, servername=args.server)
out = sender.midi_outports.register("out")
inp = receiver.midi_inports.register("in")

LIMIT = 16 * 128 * 127


def encode(seq):
    return bytes([0x90 | (seq % 16), (seq // 16) % 128, 1 + (seq // 2048) % 127])


# Built once: the sender's callback only looks events up, so Python's cost per event stays small.
ENCODED = [encode(seq) for seq in range(LIMIT)]


def decode(data):
    if len(data) != 3 or data[0] & 0xF0 != 0x90 or data[2] == 0:
        return None
    return (data[0] & 0x0F) + 16 * data[1] + 2048 * (data[2] - 1)


state = {"plan": None, "seq": 0, "cycle": 0}
sent = {}  # seq -> frame
received = {}  # seq -> frame
extra = [0]
lock = threading.Lock()


@sender.set_process_callback
def send(frames):
    out.clear_buffer()
    plan = state["plan"]
    if plan is None:
        return
    start = sender.last_frame_time
    for offset in plan(state["cycle"], frames):
        seq = state["seq"]
        if seq >= LIMIT:
            break
        out.write_midi_event(offset, ENCODED[seq])
        sent[seq] = start + offset
        state["seq"] = seq + 1
    state["cycle"] += 1


raw = []  # (frame, bytes) as received; decoded after each run, off the JACK thread
xruns = [0]
xruns_in_run = [0]


@sender.set_xrun_callback
def xrun(delay):
    xruns[0] += 1


@receiver.set_process_callback
def receive(frames):
    start = receiver.last_frame_time
    for offset, data in inp.incoming_midi_events():
        raw.append((start + offset, bytes(data)))


def run(plan, seconds):
    sent.clear()
    received.clear()
    del raw[:]
    extra[0] = 0
    xruns[0] = 0
    state.update(seq=0, cycle=0, plan=plan)
    time.sleep(seconds)
    state["plan"] = None
    time.sleep(0.3)  # let the last events through
    # Counted now: decoding below holds Python's GIL, which stalls this process's own JACK callbacks
    # into xruns that have nothing to do with the run.
    xruns_in_run[0] = xruns[0]
    for frame, data in list(raw):
        seq = decode(data)
        if seq is None:
            continue
        if seq in received:
            extra[0] += 1
        received[seq] = frame
    return dict(sent), dict(received)


with sender, receiver:
    deadline = time.time() + 20
    while time.time() < deadline:
        a = [p.name for p in sender.get_all_connections("benchsend:out")]
        b = [p.name for p in receiver.get_all_connections("benchrecv:in")]
        if a and b:
            break
        time.sleep(0.05)
    else:
        sys.exit("bench: sideman did not connect benchsend:out and benchrecv:in")
    period = sender.blocksize
    rate = sender.samplerate
    print("period %d frames at %d Hz (%s)" % (period, rate, ", ".join(a + b)))

    # Latency: one event per cycle at a moving offset. A run disturbed by xruns (the server missing a
    # deadline, which loses or repeats whole cycles for every client) is repeated, up to 5 tries, and
    # the xruns are reported with the figures.
    count = args.latency_events
    for attempt in range(5):
        s, r = run(lambda cycle, frames: [(cycle * 37) % frames], count * period / rate)
        if xruns_in_run[0] == 0:
            break
    latencies = sorted(r[k] - s[k] for k in s if k in r)
    lost = len(s) - len(latencies)
    latency_xruns = xruns_in_run[0]
    print("latency: %d events, lost %d, frames min %d median %d max %d (period %d), xruns %d" % (
        len(s), lost, latencies[0], statistics.median(latencies), latencies[-1], period, latency_xruns))

    # Throughput: k events per cycle, evenly spread, for a few seconds each. A rate passes when a run
    # loses and repeats nothing; a failing run that had xruns (the server missed a deadline: whole
    # cycles lost or repeated for every client, Python peers included) is tried again, up to 3 times.
    best = 0
    for k in [1, 4, 16, 32, 64, 96, 128]:
        if k > period:
            break
        passed = False
        for attempt in range(3):
            s, r = run(lambda cycle, frames, k=k: [i * frames // k for i in range(k)], args.seconds)
            lost = sum(1 for key in s if key not in r)
            late = sum(1 for key in s if key in r and r[key] - s[key] != period)
            print("throughput: %3d per cycle, %7.0f events/s offered, sent %d, lost %d, not at +1 period %d, "
                  "duplicates %d, xruns %d" % (k, k * rate / period, len(s), lost, late, extra[0], xruns_in_run[0]))
            passed = lost == 0 and extra[0] == 0
            if passed or xruns_in_run[0] == 0:
                break
        if not passed:
            break
        best = k * rate / period
    print("RESULT period=%d latency_min=%d latency_median=%d latency_max=%d latency_xruns=%d "
          "max_lossless_events_per_s=%.0f" % (
              period, latencies[0], statistics.median(latencies), latencies[-1], latency_xruns, best))
