"""Model files in Sideman's format, and the NLL `sideman eval` reports."""

import numpy as np
import torch

from . import safetensors_io
from .config import ModelConfig
from .models import head_nll, make_model

# Metadata a model carries from its corpus unchanged (a style drummer's signatures and micro-timing).
CARRIED_KEYS = ("style_drums", "style_timing")


def load_model(path, device="cpu"):
    tensors, metadata = safetensors_io.read(path)
    config = ModelConfig.from_metadata(metadata)
    model = make_model(config)
    load_weights(model, tensors)
    return model.to(device), config, metadata


def load_weights(model, tensors):
    names = model.sideman_names()
    missing = sorted(set(names) - set(tensors))
    extra = sorted(set(tensors) - set(names))
    if missing or extra:
        raise ValueError(f"weights do not fit the configuration: missing {missing[:4]}, unexpected {extra[:4]}")
    params = dict(model.named_parameters())
    with torch.no_grad():
        for sideman, own in names.items():
            t = torch.from_numpy(np.asarray(tensors[sideman], np.float32))
            if tuple(t.shape) != tuple(params[own].shape):
                raise ValueError(f"tensor {sideman} has shape {tuple(t.shape)}, the configuration needs {tuple(params[own].shape)}")
            params[own].copy_(t)


def weights(model):
    params = dict(model.named_parameters())
    return {sideman: params[own].detach().float().cpu().numpy() for sideman, own in model.sideman_names().items()}


def save_model(model, config, path, extra=None):
    metadata = config.metadata()
    for key in CARRIED_KEYS:
        if extra and key in extra:
            metadata[key] = extra[key]
    safetensors_io.write(path, weights(model), metadata)


def step_loss(model, config, x, y, mask):
    """Summed NLL over the real steps of a batch of whole pieces, and how many steps that is."""
    logits, _ = model(x)
    flat = logits.reshape(-1, logits.shape[-1])[mask.reshape(-1)]
    targets = y.reshape(-1) if config.data == "events" else y.reshape(-1, y.shape[-1])
    targets = targets[mask.reshape(-1)]
    return head_nll(config, model, flat, targets), int(mask.sum())


def eval_groups(order, lengths, batch, config, scores=1 << 26):
    """Up to `batch` pieces a group, in length order; the transformer's groups also keep its attention scores
    (pieces x heads x steps^2, it attends over whole pieces) under `scores` floats."""
    group = []
    for p in order:
        t = int(lengths[p])
        if group and (len(group) == batch or (config.family == "transformer" and (len(group) + 1) * config.heads * t * t > scores)):
            yield group
            group = []
        group.append(p)
    if group:
        yield group


@torch.no_grad()
def evaluate(model, config, split, pieces=None, batch=32, device="cpu"):
    """(summed NLL, steps) over the pieces (default: all) of a split, each step given all earlier steps of its
    piece: `sideman eval`'s NLL per step is the ratio."""
    was = model.training
    model.eval()
    pieces = np.arange(len(split)) if pieces is None else np.asarray(pieces)
    total, steps = 0.0, 0
    order = pieces[np.argsort(split.lengths[pieces], kind="stable")]
    for group in eval_groups(order, split.lengths, batch, config):
        x, y, mask = split.batch(group, config.input_size, config.data == "events")
        nll, n = step_loss(model, config, x.to(device), y.to(device), mask.to(device))
        total += float(nll.double())
        steps += n
    model.train(was)
    return total, steps
