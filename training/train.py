#!/usr/bin/env python3
"""Trains a Sideman model in PyTorch on a corpus from `sideman export`, on one process or many.

One process:   python training/train.py --corpus folk.corpus.safetensors --out folk.safetensors
Many (DDP):    torchrun --nproc-per-node 8 training/train.py --corpus ... --out ...
               (nccl on GPUs, gloo on CPU; more nodes: torchrun's --nnodes/--node-rank/--rdzv-endpoint)

Each process takes its share of every epoch's batches and DistributedDataParallel averages the gradients,
so --batch is pieces per process and the global batch is --batch x processes. Validation is shared out the
same way and summed. Process 0 writes --out (the best validation NLL so far, Sideman's metadata included)
after every epoch that improves, so `sideman eval` and `sideman run` load it as it is.
"""

import argparse
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np
import torch
import torch.distributed as dist

from sideman_torch.config import ModelConfig
from sideman_torch.corpus import Corpus, length_batches
from sideman_torch.model_io import evaluate, load_weights, save_model, step_loss
from sideman_torch import safetensors_io
from sideman_torch.models import make_model


def arguments(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", required=True, help="a file from `sideman export` with train and valid splits")
    p.add_argument("--out", required=True, help="where to write the model (.safetensors)")
    p.add_argument("--family", help="basic, lookback, attention, conv or transformer (default: the corpus's)")
    p.add_argument("--head", help="softmax (events), multi_hot, pitch_chain or nade_chain (frames)")
    p.add_argument("--hidden", type=int, default=256, help="LSTM units per layer; the transformer's width")
    p.add_argument("--layers", type=int, default=2, help="LSTM layers; the transformer's blocks")
    p.add_argument("--window", type=int, default=32, help="attention window")
    p.add_argument("--heads", type=int, default=4, help="transformer attention heads")
    p.add_argument("--mlp", type=int, help="transformer MLP units (default 4 x --hidden)")
    p.add_argument("--residual", type=int, default=64, help="conv residual channels (gate = residual, skip = head = 2 x)")
    p.add_argument("--stacks", type=int, default=2)
    p.add_argument("--layers-per-stack", type=int, default=8)
    p.add_argument("--chain-hidden", type=int, default=128)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--input-dropout", type=float, default=0.0, help="transformer: dropout on the input map's output")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch", type=int, default=64, help="pieces per batch and process")
    p.add_argument("--max-len", type=int, default=0,
                   help="train on windows of at most this many steps (each from zero state; 0: whole pieces)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--clip", type=float, default=5.0, help="global gradient-norm clip")
    p.add_argument("--patience", type=int, default=3)
    p.add_argument("--time-limit", type=float, help="seconds, then validate and stop")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--init-from", help="start from this Sideman model's weights (same configuration)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads per process")
    p.add_argument("--device", help="cpu or cuda (default: cuda when there is one)")
    p.add_argument("--workers", type=int, default=0,
                   help="processes building batches beside each trainer (0: in the trainer; a few keep a GPU fed)")
    p.add_argument("--json", help="write the run's summary (epochs, NLLs, sample-steps/s) to this file")
    return p.parse_args(argv)


def setup(args):
    """(rank, world size, device); joins the process group when torchrun started us."""
    torch.set_num_threads(args.threads)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    cuda = torch.cuda.is_available() if args.device is None else args.device.startswith("cuda")
    if cuda:
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        device = torch.device("cuda", local)
    else:
        device = torch.device("cpu")
    if world > 1:
        dist.init_process_group("nccl" if cuda else "gloo")
    return rank, world, device


def model_config(args, corpus):
    m = corpus.metadata
    family = args.family or m["family"]
    if (family == "lookback") != (m["family"] == "lookback"):
        raise SystemExit(f"the corpus was exported for {m['family']}: the lookback family has its own features "
                         "(export again with --family)")
    events = m["data"] == "events"
    c = ModelConfig(family=family, data=m["data"], units=int(m["units"]), hidden=args.hidden, layers=args.layers,
                    head=args.head or ("softmax" if events else "multi_hot"), window=args.window,
                    steps_per_bar=int(m.get("steps_per_bar", 16)), dropout=args.dropout, input_dropout=args.input_dropout, condition=m.get("condition"),
                    styles=[s for s in m.get("styles", "").split(",") if s], chain_hidden=args.chain_hidden,
                    frame_layout=m.get("frame_layout", "pitches"), residual=args.residual, gate=args.residual,
                    skip=2 * args.residual, layers_per_stack=args.layers_per_stack, stacks=args.stacks,
                    head_hidden=2 * args.residual, heads=args.heads, mlp=args.mlp or 4 * args.hidden,
                    lookback_inputs=m.get("inputs") == "lookback")
    if c.input_size != corpus.input_size:
        raise SystemExit(f"the corpus rows have {corpus.input_size} inputs, the model {c.input_size}")
    return c


def spans(split, batch_pieces, max_len):
    """Whole pieces, or windows of at most max_len steps."""
    if not max_len:
        return None
    out = []
    for p in batch_pieces:
        n = int(split.lengths[p])
        out += [(p, s, min(max_len, n - s)) for s in range(0, n, max_len)]
    return out


class Batches(torch.utils.data.Dataset):
    """An epoch's batches, built in DataLoader workers (--workers) while the GPU runs the last one."""

    def __init__(self, split, groups, config, max_len):
        self.split, self.groups, self.config, self.max_len = split, groups, config, max_len

    def __len__(self):
        return len(self.groups)

    def __getitem__(self, i):
        g = self.groups[i]
        return self.split.batch(g, self.config.input_size, self.config.data == "events", crop=spans(self.split, g, self.max_len))


class Objective(torch.nn.Module):
    """A batch's summed NLL over its real steps, and how many steps that is."""

    def __init__(self, model, config):
        super().__init__()
        self.model, self.config = model, config

    def forward(self, x, y, mask):
        return step_loss(self.model, self.config, x, y, mask)


def distributed_nll(model, config, split, rank, world, device):
    pieces = np.arange(len(split))[rank::world]
    total, steps = evaluate(model, config, split, pieces, device=device)
    if world > 1:
        t = torch.tensor([total, float(steps)], dtype=torch.float64, device=device)
        dist.all_reduce(t)
        total, steps = float(t[0]), int(t[1])
    return total / max(steps, 1), steps


def main(argv=None):
    args = arguments(argv)
    rank, world, device = setup(args)
    log = (lambda *a: print(*a, file=sys.stderr, flush=True)) if rank == 0 else (lambda *a: None)
    corpus = Corpus(args.corpus)
    if set(corpus.splits) != {"train", "valid"}:
        raise SystemExit(f"{args.corpus}: needs a train and a valid split (sideman export --data ... --valid ...)")
    train, valid = corpus["train"], corpus["valid"]
    config = model_config(args, corpus)
    torch.manual_seed(args.seed)
    model = make_model(config)
    if args.init_from:
        tensors, metadata = safetensors_io.read(args.init_from)
        if ModelConfig.from_metadata(metadata).metadata() != config.metadata():
            raise SystemExit(f"{args.init_from}: has another configuration than this run")
        load_weights(model, tensors)
    model.to(device)
    # The same initial weights everywhere (DDP also broadcasts process 0's), then each process its own dropout.
    torch.manual_seed(args.seed * 1000 + rank)
    # The loss inside the module DDP wraps: the nade_chain head's weights are used by the loss, and DDP counts
    # only what its forward uses.
    net = Objective(model, config)
    if world > 1:
        # The conv family's last residual map is saved but feeds nothing (as in Sideman): DDP must not wait for it.
        net = torch.nn.parallel.DistributedDataParallel(net, find_unused_parameters=config.family == "conv")
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
    params = sum(p.numel() for p in model.parameters())
    log(f"{config.family} ({config.head}), {params:,} parameters; {len(train)} training pieces ({train.steps:,} steps), "
        f"{len(valid)} valid; {world} process{'es' if world > 1 else ''} on {device}, {torch.get_num_threads()} thread(s) each")
    best, since, history = math.inf, 0, []
    start = time.time()
    stop = False
    for epoch in range(args.epochs):
        if since >= args.patience or stop:
            break
        rng = np.random.default_rng([args.seed, epoch])
        groups = length_batches(train.lengths, args.batch, rng)
        # Every process runs the same number of steps (DDP's all-reduce waits for all of them).
        groups = groups[:len(groups) // world * world][rank::world] if world > 1 else groups
        net.train()
        loss_sum, loss_steps, sample_steps, t0 = 0.0, 0, 0, time.time()
        batches = Batches(train, groups, config, args.max_len)
        loader = torch.utils.data.DataLoader(batches, batch_size=None, shuffle=False, num_workers=args.workers,
                                             pin_memory=device.type == "cuda")
        for x, y, mask in loader:
            x, y, mask = (t.to(device, non_blocking=True) for t in (x, y, mask))
            nll, n = net(x, y, mask)
            optimizer.zero_grad(set_to_none=True)
            (nll / n).backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            optimizer.step()
            loss_sum += float(nll.detach())
            loss_steps += n
            sample_steps += n
            if args.time_limit:
                stop = time.time() - start > args.time_limit
                if world > 1:
                    # Decided together: a process that left the epoch alone would leave the others waiting
                    # in their next gradient all-reduce.
                    flag = torch.tensor([float(stop)], device=device)
                    dist.all_reduce(flag)
                    stop = bool(flag.item() > 0)
                if stop:
                    break
        if world > 1:
            totals = torch.tensor([loss_sum, float(loss_steps), float(sample_steps)], dtype=torch.float64, device=device)
            dist.all_reduce(totals)
            loss_sum, loss_steps, sample_steps = float(totals[0]), int(totals[1]), int(totals[2])
        seconds = time.time() - t0
        v, _ = distributed_nll(model, config, valid, rank, world, device)
        improved = v < best
        if improved:
            best, since = v, 0
            if rank == 0:
                save_model(model, config, args.out, corpus.metadata)
        else:
            since += 1
        train_nll = loss_sum / max(loss_steps, 1)
        history.append({"epoch": epoch + 1, "train_nll": train_nll, "valid_nll": v,
                        "steps_per_s": sample_steps / max(seconds, 1e-9)})
        log(f"epoch {epoch + 1}: train NLL {train_nll:.4f}, valid NLL {v:.4f}{' (best)' if improved else ''}, "
            f"{sample_steps / max(seconds, 1e-9):,.0f} predicted steps/s over all processes")
    log(f"best valid NLL per step {best:.6f}; model written to {args.out}")
    if rank == 0 and args.json:
        with open(args.json, "w") as f:
            json.dump({"best_valid_nll": best, "epochs": history, "processes": world, "parameters": params,
                       "seconds": time.time() - start}, f, indent=1)
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
