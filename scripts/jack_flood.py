#!/usr/bin/python3
"""A JACK MIDI client that floods its `out` port with random byte strings and watches its `in` port as a
synth would, for Sideman's robustness tests. Owns `NAME:out` and `NAME:in`. Commands on stdin:
  flood BYTES SEED    send BYTES random bytes as events of 1..MAX bytes, as many per cycle as the port
                      buffer takes; answers `flooded BYTES EVENTS SECONDS` when done
  notes RATE SECONDS SEED SHARE
                      play RATE note messages a second for SECONDS (a player's note-ons and note-offs on
                      channel 1, at most 8 held, all released at the end), with a SHARE (0..1) of the
                      events random bytes instead; answers `played NOTES RANDOM SECONDS` when done
  probe HEX           send the bytes HEX as one event at the next cycle (no answer)
  seen HEX            -> seen 0|1: whether an event with exactly these bytes arrived since the last `probe`
  state               -> state EVENTS BYTES STUCK: events and bytes received, then the keys (channel:note,
                      comma-separated, or -) still sounding: the last note message was a note-on and no
                      All Notes Off / All Sound Off on its channel or System Reset came after it
  quit
Needs /usr/bin/python3 with python3-jack-client.
"""
import argparse
import random
import sys
import threading
import time

import jack

parser = argparse.ArgumentParser()
parser.add_argument("--name", required=True)
parser.add_argument("--server", default=None)
parser.add_argument("--max-event", type=int, default=48)
parser.add_argument("--events-per-cycle", type=int, default=64)
args = parser.parse_args()

client = jack.Client(args.name, no_start_server=True, servername=args.server)
outport = client.midi_outports.register("out")
inport = client.midi_inports.register("in")
lock = threading.Lock()
flood = {"left": 0, "rng": None, "events": 0, "bytes": 0, "start": 0.0, "done": threading.Event()}
notes = {"cycles": 0, "rate": 0, "share": 0.0, "rng": None, "held": [], "played": 0, "random": 0, "owed": 0.0,
         "done": threading.Event()}
probes = []
received = {"events": 0, "bytes": 0, "since_probe": set(), "probing": False}
sounding = {}  # (channel, note) -> True while the last note message for it was a note-on


def watch(data):
    """Running status does not apply: a JACK MIDI event is one complete message."""
    data = bytes(data)
    received["events"] += 1
    received["bytes"] += len(data)
    if received["probing"]:
        received["since_probe"].add(bytes(data))
    if len(data) == 3 and data[0] & 0xF0 in (0x80, 0x90):
        key = (data[0] & 0x0F, data[1])
        sounding[key] = data[0] & 0xF0 == 0x90 and data[2] > 0
    elif len(data) == 3 and data[0] & 0xF0 == 0xB0 and data[1] in (120, 123):
        # All Sound Off / All Notes Off end every note on the channel.
        for key in [key for key in sounding if key[0] == data[0] & 0x0F]:
            sounding[key] = False
    elif data == b"\xff":
        # System Reset: back to the power-up state, nothing sounds.
        sounding.clear()


@client.set_process_callback
def process(frames):
    outport.clear_buffer()
    for _, data in inport.incoming_midi_events():
        watch(data)
    with lock:
        while probes:
            outport.write_midi_event(0, probes.pop(0))
        if notes["cycles"] > 0:
            play_notes(frames)
        if flood["left"] <= 0:
            return
        rng = flood["rng"]
        for index in range(args.events_per_cycle):
            size = min(flood["left"], rng.randint(1, args.max_event))
            data = rng.randbytes(size)
            try:
                outport.write_midi_event(index * frames // args.events_per_cycle, data)
            except jack.JackError:
                break  # the port buffer is full for this cycle
            flood["left"] -= size
            flood["events"] += 1
            flood["bytes"] += size
            if flood["left"] <= 0:
                flood["done"].set()
                break


def play_notes(frames):
    """One cycle of the note flood: RATE/s spread evenly over the cycle, the last cycle releasing all."""
    rng = notes["rng"]
    notes["owed"] += notes["rate"] * frames / client.samplerate
    count = int(notes["owed"])
    notes["owed"] -= count
    last = notes["cycles"] == 1
    events = []
    for _ in range(count):
        if rng.random() < notes["share"]:
            events.append(rng.randbytes(rng.randint(1, args.max_event)))
            notes["random"] += 1
            continue
        held = notes["held"]
        if held and (len(held) >= 8 or rng.random() < 0.5):
            note = held.pop(rng.randrange(len(held)))
            events.append(bytes([0x80, note, 0]))
        else:
            note = rng.randint(36, 96)
            if note in held:
                continue
            held.append(note)
            events.append(bytes([0x90, note, rng.randint(1, 127)]))
        notes["played"] += 1
    if last:
        events += [bytes([0x80, note, 0]) for note in notes["held"]]
        notes["held"] = []
    for index, data in enumerate(events):
        try:
            outport.write_midi_event(index * frames // max(1, len(events)), data)
        except jack.JackError:
            break  # the port buffer is full for this cycle
    notes["cycles"] -= 1
    if notes["cycles"] == 0:
        notes["done"].set()


def answer(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


with client:
    answer("ready %d %d" % (client.samplerate, client.blocksize))
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "flood":
            with lock:
                flood.update(left=int(parts[1]), rng=random.Random(int(parts[2])), events=0, bytes=0)
                flood["done"].clear()
                start = time.monotonic()
            flood["done"].wait()
            answer("flooded %d %d %.3f" % (flood["bytes"], flood["events"], time.monotonic() - start))
        elif parts[0] == "notes":
            with lock:
                notes.update(rate=int(parts[1]), cycles=max(1, int(float(parts[2]) * client.samplerate / client.blocksize)),
                             rng=random.Random(int(parts[3])), share=float(parts[4]), held=[], played=0, random=0, owed=0.0)
                notes["done"].clear()
                start = time.monotonic()
            notes["done"].wait()
            answer("played %d %d %.3f" % (notes["played"], notes["random"], time.monotonic() - start))
        elif parts[0] == "probe":
            with lock:
                received["since_probe"] = set()
                received["probing"] = True
                probes.append(bytes.fromhex(parts[1]))
        elif parts[0] == "seen":
            answer("seen %d" % (1 if bytes.fromhex(parts[1]) in received["since_probe"] else 0))
        elif parts[0] == "state":
            stuck = ",".join("%d:%d" % key for key, on in sorted(sounding.items()) if on) or "-"
            answer("state %d %d %s" % (received["events"], received["bytes"], stuck))
        elif parts[0] == "quit":
            break
        else:
            answer("error unknown command %s" % parts[0])
