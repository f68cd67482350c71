#!/usr/bin/env python3
"""The NLL per step of a Sideman model file on an exported corpus, computed in PyTorch: the figure
`sideman eval --model M --data D` prints, when the corpus was exported with `sideman export --model M --valid D`.

python training/eval.py --model M.safetensors --corpus C.safetensors [--split valid] [--json]
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch

from sideman_torch.corpus import Corpus
from sideman_torch.model_io import evaluate, load_model


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    p.add_argument("--corpus", required=True)
    p.add_argument("--split", default="valid")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="cpu")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    model, config, _ = load_model(args.model, args.device)
    split = Corpus(args.corpus)[args.split]
    total, steps = evaluate(model, config, split, device=args.device)
    nll = total / max(steps, 1)
    if args.json:
        print(json.dumps({"nll_per_step": nll, "steps": steps, "pieces": len(split), "family": config.family,
                          "head": config.head}))
    else:
        print(f"NLL per step: {nll:.6f} nats over {steps} steps of {len(split)} pieces")


if __name__ == "__main__":
    main()
