#!/usr/bin/env python3
"""How well could any drummer that plays learned grooves match the held-out band families' drums? (issue 14)

For each family of the valid split, the measure of `sideman analyze --accompany` ("best overlap with the same
style's real bars": each played bar's best Jaccard overlap of hits, step and GM note, with the family's real
bars, averaged over the played bars) is computed for bars taken from the training grooves, chosen with the
answer in hand:
  single    the training family whose own bars score best, played as they are;
  two       the best union of two training families' bars (a bar of each, overlaid), among the six best singles;
  kit-only  the best training family's bars kept to the kit pieces the held-out family plays.
No learned style can beat `single` by more than `two` suggests unless it invents bars no groove plays.

    python3 scripts/drum-overlap-bound.py BAND_FOLDER        # the folder holding train.jsonl and valid.jsonl
"""
import collections
import itertools
import json
import random
import statistics
import sys

import mido


def drum_bars(folder, entry):
    """The song's bars as sets of hits (step in the bar << 8 | GM note), 16ths, channel 10."""
    song = mido.MidiFile(folder + "/" + entry["file"])
    steps = entry["beats_per_bar"] * 4
    step_ticks = song.ticks_per_beat / 4
    hits = collections.defaultdict(set)
    for track in song.tracks:
        tick = 0
        for message in track:
            tick += message.time
            if message.type == "note_on" and message.velocity > 0 and message.channel == 9:
                step = round(tick / step_ticks)
                hits[step // steps].add((step % steps) << 8 | message.note)
    return steps, [frozenset(hits[bar]) for bar in range(entry["bars"])]


def families(folder, split):
    """Each groove family's songs' bars in its most common bar length, with how often each bar occurs."""
    songs = collections.defaultdict(list)
    for line in open(f"{folder}/{split}.jsonl"):
        entry = json.loads(line)
        steps, bars = drum_bars(folder, entry)
        if any(bars):
            songs[entry["groove_file"].split("/")[-1].removesuffix(".mma")].append((steps, bars))
    result = {}
    for name, pieces in songs.items():
        steps = collections.Counter(s for s, _ in pieces).most_common(1)[0][0]
        result[name] = (steps, collections.Counter(bar for s, bars in pieces if s == steps for bar in bars if bar))
    return result


def jaccard(a, b):
    union = len(a | b)
    return len(a & b) / union if union else 1.0


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    folder = sys.argv[1]
    train, valid = families(folder, "train"), families(folder, "valid")
    rng = random.Random(1)
    rows = []
    print(f"{'family':<14} {'single':>6}  {'two':>5}  {'kit-only':>8}  best grooves")
    for name, (steps, real) in sorted(valid.items()):
        real_bars = list(real)

        def score(bar):
            return max(jaccard(bar, r) for r in real_bars)

        def played(counter, keep=lambda bar: bar, n=25):
            bars = list(counter.elements())
            rng.shuffle(bars)
            return statistics.mean(score(keep(bar)) for bar in bars[:n])

        candidates = {s: c for s, (st, c) in train.items() if st == steps}
        if not candidates:
            print(f"{name:<14} no training groove in {steps} steps a bar")
            continue
        singles = sorted(((played(c), s) for s, c in candidates.items()), reverse=True)
        pairs = []
        for a, b in itertools.combinations([s for _, s in singles[:6]], 2):
            bars_a, bars_b = list(candidates[a].elements()), list(candidates[b].elements())
            pairs.append((statistics.mean(score(rng.choice(bars_a) | rng.choice(bars_b)) for _ in range(30)), f"{a}+{b}"))
        two = max([(singles[0][0], singles[0][1])] + pairs)
        kit = {hit & 255 for bar in real_bars for hit in bar}
        kit_only = max((played(c, lambda bar: frozenset(h for h in bar if h & 255 in kit), 20), s) for s, c in candidates.items())
        rows.append((singles[0][0], two[0], kit_only[0]))
        print(f"{name:<14} {singles[0][0]:>6.2f}  {two[0]:>5.2f}  {kit_only[0]:>8.2f}  {singles[0][1]}; {two[1]}; {kit_only[1]}")
    means = [statistics.mean(column) for column in zip(*rows)]
    print(f"{'mean':<14} {means[0]:>6.2f}  {means[1]:>5.2f}  {means[2]:>8.2f}  over the {len(rows)} families with a groove of their bar length")


if __name__ == "__main__":
    main()
