#!/usr/bin/env python3
"""PyTorch's side of benchmarks/train-vs-pytorch.sh: sample-steps/s of whole training steps (forward, softmax
loss, backward, Adam) of one Sideman family, with the modules of training/sideman_torch (the same math and
sizes as `sideman train --family F`), on the shape of `sideman train --benchmark`: batch x steps rows, 192
inputs with 4 active, 130 outputs. Timed as Sideman times itself: one warm-up step, then the best of five
rounds of three steps. Prints one JSON object.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "training"))

import torch
import torch.nn.functional as F

from sideman_torch.config import ModelConfig
from sideman_torch.models import make_model

INPUTS, OUTPUTS = 192, 130


class BenchConfig(ModelConfig):
    """The benchmark's input width for every family (Sideman's benchmark sets the same)."""

    @property
    def input_size(self):
        return INPUTS


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--family", default="basic")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=64)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--window", type=int, default=32)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--residual", type=int, default=64)
    p.add_argument("--stacks", type=int, default=2)
    p.add_argument("--layers-per-stack", type=int, default=8)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    r = a.residual
    config = BenchConfig(family=a.family, data="events", units=OUTPUTS, hidden=a.hidden, layers=a.layers,
                         window=a.window, heads=a.heads, mlp=4 * a.hidden, residual=r, gate=r, skip=2 * r,
                         head_hidden=2 * r, stacks=a.stacks, layers_per_stack=a.layers_per_stack)
    model = make_model(config)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    B, T = a.batch, a.steps
    active = torch.stack([torch.randint(0, 128, (B, T)), 128 + torch.randint(0, 32, (B, T)),
                          160 + torch.randint(0, 16, (B, T)), 176 + torch.randint(0, 16, (B, T))], -1)
    x = torch.zeros(B, T, INPUTS).scatter_(2, active, 1.0)
    y = torch.randint(0, OUTPUTS, (B, T))

    def once():
        optimizer.zero_grad(set_to_none=True)
        logits, _ = model(x)
        loss = F.cross_entropy(logits.reshape(-1, OUTPUTS), y.reshape(-1), reduction="sum") / (B * T)
        loss.backward()
        optimizer.step()

    once()
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(3):
            once()
        best = min(best, (time.perf_counter() - start) / 3)
    print(json.dumps({"family": a.family, "threads": a.threads, "torch": torch.__version__,
                      "parameters": sum(t.numel() for t in model.parameters()),
                      "sample_steps_per_s": round(B * T / best)}))


if __name__ == "__main__":
    main()
