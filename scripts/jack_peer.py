#!/usr/bin/python3
"""An external JACK MIDI client that Sideman's tests and benchmarks drive over stdin/stdout.

It owns `NAME:out` and `NAME:in`. Commands, one per line; every command but `at` answers one line
(`recv` and `written` follow it with their records):
  at FRAME HEX        queue the bytes HEX (e.g. 903c64) for absolute frame FRAME (no answer)
  now                 -> now FRAME_TIME LAST_FRAME_TIME BLOCKSIZE SAMPLERATE XRUNS
  connect SRC DST     -> ok | error TEXT
  recv                -> recv N, then N lines "FRAME HEX": everything received, with absolute frames
  written             -> written N, then N lines "FRAME_WRITTEN FRAME_ASKED"
  pending             -> pending N: events queued and not yet written
  level               -> level PEAK: the largest absolute sample heard on NAME:audio_in so far (--audio-in)
  onsets              -> onsets N, then N lines FRAME: where sound on NAME:audio_in began after 20 ms or
                         more of silence (a metronome's clicks; --audio-in)
  transport           -> transport ROLLING ORIGIN BPM BEATS_PER_BAR: ROLLING 1 while JACK transport rolls;
                         ORIGIN, the frame time of transport frame 0 in the last cycle that saw it roll
                         (negative after a locate past the frame time; "none" before it first rolls);
                         the timebase master's BBT tempo and bar (0 0 without BBT)
  quit
Needs /usr/bin/python3 with python3-jack-client (`import jack`).
"""
import argparse
import array
import bisect
import sys
import threading

import jack

parser = argparse.ArgumentParser()
parser.add_argument("--name", required=True)
parser.add_argument("--server", default=None)
parser.add_argument("--delay-activation", type=float, default=0,
                    help="register the ports, say `registered`, and activate only this many seconds later")
parser.add_argument("--audio-in", action="store_true", help="also own an audio input, NAME:audio_in, for `level`")
args = parser.parse_args()

client = jack.Client(args.name, no_start_server=True, servername=args.server)
outport = client.midi_outports.register("out")
inport = client.midi_inports.register("in")
audio = client.inports.register("audio_in") if args.audio_in else None
peak = [0.0]
onsets = []  # frames where sound began after silence
quiet_since = [None]  # frame from which NAME:audio_in has been silent
lock = threading.Lock()
queue = []  # sorted (frame, seq, bytes)
received = []  # (frame, bytes)
written = []  # (frame written, frame asked)
xruns = [0]
sequence = [0]
transport = [0, None, 0.0, 0.0]  # rolling, frame time of transport frame 0, BBT bpm, BBT beats per bar


@client.set_process_callback
def process(frames):
    start = client.last_frame_time
    state, position = client.transport_query_struct()
    transport[0] = 1 if state == jack.ROLLING else 0
    if transport[0]:
        transport[1] = start - position.frame
    bbt = position.valid & jack.POSITION_BBT
    transport[2] = position.beats_per_minute if bbt else 0.0
    transport[3] = position.beats_per_bar if bbt else 0.0
    outport.clear_buffer()
    for offset, data in inport.incoming_midi_events():
        received.append((start + offset, bytes(data)))
    if audio is not None:
        # The buffer's 32-bit floats, read without numpy (not a dependency of the tests).
        samples = array.array("f", bytes(audio.get_buffer()))
        if len(samples):
            peak[0] = max(peak[0], max(samples), -min(samples))
        for i, sample in enumerate(samples):
            if abs(sample) > 0.01:
                if quiet_since[0] is not None and start + i - quiet_since[0] >= client.samplerate // 50:
                    onsets.append(start + i)
                quiet_since[0] = None
            elif quiet_since[0] is None:
                quiet_since[0] = start + i
    end = start + frames
    with lock:
        while queue and queue[0][0] < end:
            frame, _, data = queue.pop(0)
            offset = max(0, frame - start)
            outport.write_midi_event(offset, data)
            written.append((start + offset, frame))


@client.set_xrun_callback
def xrun(delay):
    xruns[0] += 1


def answer(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


if args.delay_activation:
    answer("registered")
    import time
    time.sleep(args.delay_activation)

with client:
    answer("ready %d %d" % (client.samplerate, client.blocksize))
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        command = parts[0]
        if command == "at":
            with lock:
                sequence[0] += 1
                bisect.insort(queue, (int(parts[1]), sequence[0], bytes.fromhex(parts[2])))
        elif command == "now":
            answer("now %d %d %d %d %d" % (client.frame_time, client.last_frame_time, client.blocksize,
                                           client.samplerate, xruns[0]))
        elif command == "connect":
            try:
                client.connect(parts[1], parts[2])
                answer("ok")
            except jack.JackError as error:
                answer("error %s" % str(error).replace("\n", " "))
        elif command == "recv":
            events = list(received)
            answer("recv %d" % len(events))
            sys.stdout.write("".join("%d %s\n" % (frame, data.hex()) for frame, data in events))
            sys.stdout.flush()
        elif command == "written":
            events = list(written)
            answer("written %d" % len(events))
            sys.stdout.write("".join("%d %d\n" % event for event in events))
            sys.stdout.flush()
        elif command == "pending":
            with lock:
                answer("pending %d" % len(queue))
        elif command == "onsets":
            frames = list(onsets)
            answer("onsets %d" % len(frames))
            sys.stdout.write("".join("%d\n" % frame for frame in frames))
            sys.stdout.flush()
        elif command == "level":
            answer("level %.6f" % peak[0])
        elif command == "transport":
            rolling, origin, bpm, beats = transport
            answer("transport %d %s %.3f %.3f" % (rolling, "none" if origin is None else str(origin), bpm, beats))
        elif command == "quit":
            break
        else:
            answer("error unknown command %s" % command)
