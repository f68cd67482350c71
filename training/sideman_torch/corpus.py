"""The rows `sideman export` writes, as batches of whole pieces.

Sideman's trainer lays pieces end to end in streams and carries state across its chunks, restarting it at
each piece's first step; its NLL is therefore that of each step given every earlier step of its piece. A
batch here holds whole pieces from their first step (padded at the end), which computes the same function.
"""

import numpy as np
import torch

from . import safetensors_io


class Split:
    """One split ("train" or "valid") of an exported corpus."""

    def __init__(self, tensors, name):
        # Views of the mapped file: a batch reads its own slices.
        g = lambda k: tensors[f"{name}.{k}"]
        self.piece_offsets = np.asarray(g("piece_offsets"), np.int64)
        self.input_offsets = g("input_offsets")
        self.input_indices = g("input_indices")
        self.input_values = g("input_values")
        self.target_offsets = g("target_offsets")
        self.target_indices = g("target_indices")
        self.lengths = np.diff(self.piece_offsets)

    def __len__(self):
        return len(self.lengths)

    @property
    def steps(self):
        return int(self.piece_offsets[-1])

    def batch(self, pieces, input_size, events, crop=None):
        """Dense inputs [B, T, input_size], targets ([B, T] classes, or [B, T, k] units padded with -1), and the
        mask of real steps [B, T]. `crop` gives (piece, first step, steps) triples instead of whole pieces."""
        spans = crop if crop is not None else [(p, 0, int(self.lengths[p])) for p in pieces]
        B, T = len(spans), max(n for _, _, n in spans)
        x = np.zeros((B, T, input_size), np.float32)
        mask = np.zeros((B, T), bool)
        widths = []
        for p, first, n in spans:
            s = self.piece_offsets[p] + first
            widths.append(np.diff(self.target_offsets[s:s + n + 1]).max(initial=0))
        k = max(widths) if widths else 0
        y = np.full((B, T) if events else (B, T, max(k, 1)), -1, np.int64)
        for b, (p, first, n) in enumerate(spans):
            s = self.piece_offsets[p] + first
            lo, hi = self.input_offsets[s], self.input_offsets[s + n]
            step = np.repeat(np.arange(n), np.diff(self.input_offsets[s:s + n + 1]))
            # Sideman adds repeated features (a lookback event equal to the current one lands in another block,
            # but a frame could name a unit twice): accumulate, as its gather-sum does.
            np.add.at(x[b], (step, self.input_indices[lo:hi]), self.input_values[lo:hi])
            mask[b, :n] = True
            tlo, thi = self.target_offsets[s], self.target_offsets[s + n]
            counts = np.diff(self.target_offsets[s:s + n + 1])
            tstep = np.repeat(np.arange(n), counts)
            units = self.target_indices[tlo:thi]
            if events:
                y[b, tstep] = units
            else:
                slot = np.arange(thi - tlo) - np.repeat(self.target_offsets[s:s + n] - tlo, counts)
                y[b, tstep, slot] = units
        return torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(mask)


class Corpus:
    def __init__(self, path):
        tensors, self.metadata = safetensors_io.read(path, mmap=True)
        if self.metadata.get("sideman_export") != "1":
            raise ValueError(f"{path}: not a file written by `sideman export`")
        self.splits = {name: Split(tensors, name) for name in ("train", "valid") if f"{name}.piece_offsets" in tensors}
        self.input_size = int(self.metadata["input_size"])
        self.events = self.metadata["data"] == "events"

    def __getitem__(self, name):
        return self.splits[name]


def length_batches(lengths, batch, rng=None):
    """Pieces grouped by similar length (little padding), `batch` a group, groups in random order when rng."""
    order = np.argsort(lengths, kind="stable")
    if rng is not None:
        # Shuffle within runs of similar length, so the groups change from epoch to epoch.
        keys = lengths[order] * (1 + 0.1 * rng.random(len(order)))
        order = order[np.argsort(keys, kind="stable")]
    groups = [order[i:i + batch] for i in range(0, len(order), batch)]
    if rng is not None:
        rng.shuffle(groups)
    return groups
