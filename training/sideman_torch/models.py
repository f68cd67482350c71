"""Sideman's model families in PyTorch, with Sideman's tensor names and math.

Every module's state_dict names are the tensor names of Sideman's safetensors files (TensorName.swift), so a
file moves between the two by name, unchanged. The math follows the Swift trainers step for step:

- basic / lookback (TrainableRNN): sparse input -> LSTM stack (gates i, f, g, o; both biases, as nn.LSTM),
  dropout after every layer, Linear `head`.
- attention (TrainableAttentionRNN, Magenta's AttentionCellWrapper): x'_t = input_mix [x_t; d_{t-1}], the LSTM
  stack, u_i = v . tanh(W_k h_i + W_q c_t) over the last `window` top outputs (slots before the piece are zero
  vectors that still take part in the softmax), d_t = sum softmax(u)_i h_i, attention.output [h_t; d_t],
  dropout, head.
- conv (TrainableConvPredictor, WaveNet): 1x1 `input`, gated layers with dilations 1, 2, 4, ... per stack
  (tap 0 at t - d, tap 1 at t, left zero padding), skip sum -> ReLU -> dropout -> head.hidden -> ReLU ->
  head.output. The last layer's residual map is saved but feeds nothing, as in Sideman.
- transformer (TrainableTransformer): `input` map, pre-norm blocks of ALiBi causal self-attention over a
  window and a GELU (tanh form) MLP, dropout on each branch (and on the input map's output), final `norm`, head.

The inputs are Sideman's sparse features laid out dense ([batch, steps, input_size]): the first layer's
product with them is the gather-sum Sideman does.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def lstm_name(name):
    """Sideman's name for a parameter of layer k's nn.LSTM (`lstm.{k}.weight_ih_l0`) or nn.LSTMCell
    (`cells.{k}.weight_ih`): nn.LSTM's own stacked name, `weight_ih_l{k}`."""
    for prefix in ("lstm.", "cells."):
        if name.startswith(prefix):
            k, rest = name[len(prefix):].split(".", 1)
            return rest.removesuffix("_l0") + f"_l{k}"
    return name


class RNN(nn.Module):
    """Basic and Lookback RNN (the features differ, the network does not). One nn.LSTM per layer, so dropout
    sits after every layer, the top one included, as in Sideman."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        c = config
        self.lstm = nn.ModuleList(nn.LSTM(c.input_size if k == 0 else c.hidden, c.hidden, batch_first=True)
                                  for k in range(c.layers))
        self.head = nn.Linear(c.hidden, c.outputs)
        self.chain = NADEChain(config) if c.head == "nade_chain" else None

    def sideman_names(self):
        return {lstm_name(name): name for name, _ in self.named_parameters()}

    def forward(self, x, state=None):
        states = []
        for k, layer in enumerate(self.lstm):
            x, s = layer(x, None if state is None else state[k])
            x = F.dropout(x, self.config.dropout, self.training)
            states.append(s)
        return self.head(x), states


class Attention(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        bound = 1 / math.sqrt(hidden)
        self.key = nn.Linear(hidden, hidden, bias=False)
        self.query = nn.Linear(hidden, hidden, bias=False)
        self.score = nn.Parameter(torch.empty(hidden).uniform_(-bound, bound))
        self.output = nn.Linear(2 * hidden, hidden)


class AttentionRNN(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        i, h = config.input_size, config.hidden
        self.input_mix = nn.Linear(i + h, i)
        self.cells = nn.ModuleList(nn.LSTMCell(i if k == 0 else h, h) for k in range(config.layers))
        self.attention = Attention(h)
        self.head = nn.Linear(h, config.outputs)
        self.chain = NADEChain(config) if config.head == "nade_chain" else None

    def sideman_names(self):
        return {lstm_name(name): name for name, _ in self.named_parameters()}

    def initial_state(self, batch, like):
        c = self.config
        z = like.new_zeros(batch, c.hidden)
        window = like.new_zeros(batch, c.window, c.hidden)
        return ([z] * c.layers, [z] * c.layers, z, window, window)

    def forward(self, x, state=None):
        c = self.config
        B, T, _ = x.shape
        hs, cs, read, values, keys = state if state is not None else self.initial_state(B, x)
        hs, cs = list(hs), list(cs)
        # The sparse part of the mix is one product for the whole sequence; only the read part is per step.
        w = self.input_mix.weight
        mixed_x = F.linear(x, w[:, :c.input_size], self.input_mix.bias)
        w_read = w[:, c.input_size:]
        v = self.attention.score
        outputs = []
        for t in range(T):
            inp = mixed_x[:, t] + F.linear(read, w_read)
            for k, cell in enumerate(self.cells):
                hs[k], cs[k] = cell(inp, (hs[k], cs[k]))
                inp = hs[k]
            h, top_cell = hs[-1], cs[-1]
            q = self.attention.query(top_cell)
            u = torch.einsum("bnh,h->bn", torch.tanh(keys + q[:, None, :]), v)
            read = torch.einsum("bn,bnh->bh", torch.softmax(u, dim=1), values)
            outputs.append(torch.cat([h, read], dim=1))
            values = torch.cat([values[:, 1:], h[:, None, :]], dim=1)
            keys = torch.cat([keys[:, 1:], self.attention.key(h)[:, None, :]], dim=1)
        joined = torch.stack(outputs, dim=1)
        y = F.dropout(self.attention.output(joined), c.dropout, self.training)
        return self.head(y), (hs, cs, read, values, keys)


class ConvLayer(nn.Module):
    def __init__(self, r, g, s, dilation):
        super().__init__()
        self.dilation = dilation
        self.dilated = nn.Conv1d(r, 2 * g, kernel_size=2, dilation=dilation)
        self.residual = nn.Linear(g, r)
        self.skip = nn.Linear(g, s)


class ConvHead(nn.Module):
    def __init__(self, s, hidden, outputs):
        super().__init__()
        self.hidden = nn.Linear(s, hidden)
        self.output = nn.Linear(hidden, outputs)


class ConvPredictor(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        r, g, s = config.residual, config.gate, config.skip
        self.input = nn.Linear(config.input_size, r)
        self.layers = nn.ModuleList(ConvLayer(r, g, s, d) for d in config.dilations)
        self.head = ConvHead(s, config.head_hidden, config.outputs)
        self.chain = NADEChain(config) if config.head == "nade_chain" else None

    def sideman_names(self):
        return {name: name for name, _ in self.named_parameters()}

    def forward(self, x, state=None):
        # Whole pieces from their first step: the left edge is zero padding, as Sideman's positions make it.
        assert state is None, "the conv family runs on whole pieces"
        g = self.config.gate
        stream = self.input(x).transpose(1, 2)  # [B, R, T]
        skip = 0
        for l, layer in enumerate(self.layers):
            z = layer.dilated(F.pad(stream, (layer.dilation, 0)))
            a = (torch.tanh(z[:, :g]) * torch.sigmoid(z[:, g:])).transpose(1, 2)  # [B, T, G]
            skip = skip + layer.skip(a)
            if l + 1 < len(self.layers):
                stream = stream + layer.residual(a).transpose(1, 2)
        y = F.dropout(F.relu(skip), self.config.dropout, self.training)
        return self.head.output(F.relu(self.head.hidden(y))), None


class SelfAttention(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.qkv = nn.Linear(d, 3 * d)
        self.output = nn.Linear(d, d)


class MLP(nn.Module):
    def __init__(self, d, f):
        super().__init__()
        self.up = nn.Linear(d, f)
        self.down = nn.Linear(f, d)


class Block(nn.Module):
    def __init__(self, d, f):
        super().__init__()
        self.norm1 = nn.LayerNorm(d, eps=1e-5)
        self.attention = SelfAttention(d)
        self.norm2 = nn.LayerNorm(d, eps=1e-5)
        self.mlp = MLP(d, f)


def alibi_slopes(heads):
    return [2 ** (-8 * (h + 1) / heads) for h in range(heads)]


class Transformer(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        d = config.hidden
        self.input = nn.Linear(config.input_size, d)
        self.blocks = nn.ModuleList(Block(d, config.mlp) for _ in range(config.layers))
        self.norm = nn.LayerNorm(d, eps=1e-5)
        self.head = nn.Linear(d, config.outputs)
        self.chain = NADEChain(config) if config.head == "nade_chain" else None
        # GPT-2's initialisation, as Sideman's: sigma 0.02 and the branch ends scaled by 1/sqrt(2 layers).
        spread = 0.02 * math.sqrt(3)
        end = spread / math.sqrt(2 * config.layers)
        for lin, bound in [(self.input, spread), (self.head, spread)] + [
                (m, b) for blk in self.blocks for m, b in ((blk.attention.qkv, spread), (blk.mlp.up, spread),
                                                           (blk.attention.output, end), (blk.mlp.down, end))]:
            nn.init.uniform_(lin.weight, -bound, bound)
            nn.init.zeros_(lin.bias)

    def sideman_names(self):
        return {name: name for name, _ in self.named_parameters()}

    def forward(self, x, state=None):
        assert state is None, "the transformer runs on whole pieces"
        c = self.config
        B, T, _ = x.shape
        d, nh = c.hidden, c.heads
        dh = d // nh
        i = torch.arange(T, device=x.device)
        distance = (i[:, None] - i[None, :]).to(x.dtype)  # query row, key column
        allowed = (distance >= 0) & (distance <= c.window - 1)
        slopes = torch.tensor(alibi_slopes(nh), device=x.device, dtype=x.dtype)
        bias = (-slopes[:, None, None] * distance[None]).masked_fill(~allowed[None], float("-inf"))  # [heads, T, T]
        s = F.dropout(self.input(x), c.input_dropout, self.training)
        for blk in self.blocks:
            qkv = blk.attention.qkv(blk.norm1(s))
            q, k, v = (qkv[..., j * d:(j + 1) * d].reshape(B, T, nh, dh).transpose(1, 2) for j in range(3))
            scores = q @ k.transpose(-1, -2) / math.sqrt(dh) + bias
            o = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(B, T, d)
            s = s + F.dropout(blk.attention.output(o), c.dropout, self.training)
            m = blk.mlp.down(F.gelu(blk.mlp.up(blk.norm2(s)), approximate="tanh"))
            s = s + F.dropout(m, c.dropout, self.training)
        return self.head(self.norm(s)), None


class NADEChain(nn.Module):
    """The nade_chain head's own weights: chain.input.weight W [K, units], chain.output.weight V [units + 1, K]."""

    def __init__(self, config):
        super().__init__()
        u, k = config.units, config.chain_hidden
        self.input = nn.Linear(u, k, bias=False)
        self.output = nn.Linear(k, u + 1, bias=False)
        nn.init.uniform_(self.input.weight, -1 / math.sqrt(u), 1 / math.sqrt(u))
        nn.init.uniform_(self.output.weight, -1 / math.sqrt(k), 1 / math.sqrt(k))


FAMILY_MODULES = {"basic": RNN, "lookback": RNN, "attention": AttentionRNN, "conv": ConvPredictor, "transformer": Transformer}


def make_model(config):
    return FAMILY_MODULES[config.family](config)


# MARK: the heads' NLL

def head_nll(config, model, logits, targets):
    """Summed NLL in nats of the rows' targets. logits [N, outputs]; targets: LongTensor [N] of classes
    (softmax) or [N, k] of each row's sorted units padded with -1 (the frame heads)."""
    head = config.head
    if head == "softmax":
        return F.cross_entropy(logits, targets, reduction="sum")
    u = config.units
    present = targets >= 0
    if head == "multi_hot":
        y = torch.zeros_like(logits)
        rows = torch.arange(targets.shape[0], device=logits.device)[:, None].expand_as(targets)
        y[rows[present], targets[present]] = 1
        return F.binary_cross_entropy_with_logits(logits, y, reduction="sum")
    # Chains: link j of a row with units s_1 < ... < s_k normalises over {u > s_j} and END (index `units`)
    # and picks s_{j+1}, the last link END: the exact NLL of the set.
    b = logits[:, :u + 1]
    count = present.sum(dim=1)
    columns = torch.arange(u + 1, device=logits.device)
    first = torch.zeros_like(count)
    if head == "nade_chain":
        chain = model.chain
        a = logits[:, u + 1:]
        w = chain.input.weight  # [K, units]
    total = logits.new_zeros(())
    for j in range(targets.shape[1] + 1):
        live = count >= j  # rows that still have link j
        if not live.any():
            break
        pick = targets[:, j] if j < targets.shape[1] else torch.full_like(count, u)
        pick = torch.where(count == j, torch.full_like(pick, u), pick)
        z = b + chain.output(torch.tanh(a)) if head == "nade_chain" else b
        z = z.masked_fill(columns[None, :] < first[:, None], float("-inf"))
        nll = torch.logsumexp(z, dim=1) - z.gather(1, pick.clamp(min=0)[:, None])[:, 0]
        total = total + nll[live].sum()
        if j < targets.shape[1]:
            drawn = present[:, j]
            first = torch.where(drawn, targets[:, j] + 1, first)
            if head == "nade_chain":
                a = a + torch.where(drawn[:, None], w[:, targets[:, j].clamp(min=0)].T, torch.zeros_like(a))
    return total
