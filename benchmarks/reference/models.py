"""Sideman's four streaming step families in plain numpy, with deterministic random weights.

The shapes `sideman bench --reference` runs and that onnxruntime is compared with:
  lstm     two LSTM layers of H over a 192-wide input (a 128 one-hot beside a 64 multi-hot), 130 logits.
  attn     the same LSTM under Magenta's attention: the input mixed with the last attention vector,
           additive attention u_i = v . tanh(Wk h_i + Wq c_t) over the last L top-layer outputs,
           softmax, d = sum_i a_i h_i, out = Wo [h_t; d] + bo, logits from out.
  wavenet  a 1x1 input projection 192 -> 64, two stacks of eight gated layers (dilations 1..128,
           kernel 2, 64 residual and gate channels, 128 skip), ReLU, 128 -> 128, ReLU, 128 -> 130;
           each layer keeps the inputs of its last `dilation` steps.
  transformer  decoder-only, width 256, 4 pre-norm blocks of 4 heads and a GELU MLP of 4x the width, causal
           attention over the last `window` (256) steps with ALiBi distances instead of position embeddings,
           a final LayerNorm, 130 logits; each block keeps the keys and values of the window (a KV cache).

Weights follow the tensor layout Sideman's loader reads (LSTM gates in the order i, f, g, o; each LSTM
matrix acting on [input; own previous h]; the transformer's q, k and v in one [3H, H] map, heads
contiguous). `np_model(kind, H, L)` returns (model, weights); the model's
`step(x)` takes one input vector and returns the logits, keeping state between calls. L is the attention
window of attn and transformer; `default_window(kind)` is the reference shape's.
"""
import numpy as np

D_IN, N_OUT = 192, 130
R, G, S = 64, 64, 128  # WaveNet residual, gate and skip channels
DILATIONS = [1 << k for k in range(8)] * 2
LAYERS, HEADS = 4, 4  # transformer blocks and heads; its MLP is 4 x the width
LN_EPS = 1e-5  # Sideman's LayerNorm.epsilon (PyTorch's default)


def _matrix(rng, rows, cols):
    return (rng.standard_normal((rows, cols)) / np.sqrt(cols)).astype(np.float32)


def _bias(rng, n):
    return (0.1 * rng.standard_normal(n)).astype(np.float32)


def lstm_weights(H, seed=0):
    rng = np.random.default_rng(seed)
    return {"W1": _matrix(rng, 4 * H, D_IN + H), "b1": _bias(rng, 4 * H),
            "W2": _matrix(rng, 4 * H, 2 * H), "b2": _bias(rng, 4 * H),
            "Wout": _matrix(rng, N_OUT, H), "bout": _bias(rng, N_OUT)}


def attn_weights(H, L, seed=0):
    w = lstm_weights(H, seed)
    rng = np.random.default_rng(seed + 1)
    w.update({"Win": _matrix(rng, D_IN, D_IN + H), "bin": _bias(rng, D_IN),
              "Wk": _matrix(rng, H, H), "Wq": _matrix(rng, H, H),
              "v": (rng.standard_normal(H) / np.sqrt(H)).astype(np.float32),
              "Wo": _matrix(rng, H, 2 * H), "bo": _bias(rng, H), "L": L})
    return w


def wavenet_weights(seed=0):
    rng = np.random.default_rng(seed + 2)
    w = {"Win": _matrix(rng, R, D_IN), "bin": _bias(rng, R), "layers": []}
    for d in DILATIONS:
        w["layers"].append({"d": d, "Wf": _matrix(rng, 2 * G, 2 * R), "bf": _bias(rng, 2 * G),
                            "Wr": _matrix(rng, R, G), "br": _bias(rng, R),
                            "Ws": _matrix(rng, S, G), "bs": _bias(rng, S)})
    w.update({"Wp1": _matrix(rng, S, S), "bp1": _bias(rng, S), "Wp2": _matrix(rng, N_OUT, S), "bp2": _bias(rng, N_OUT)})
    return w


def transformer_weights(H, seed=0):
    rng = np.random.default_rng(seed + 3)
    # Gains near 1 and shifts near 0, as Sideman's own random LayerNorm, so no norm is the identity.
    norm = lambda: ((1 + rng.uniform(-0.2, 0.2, H)).astype(np.float32), rng.uniform(-0.1, 0.1, H).astype(np.float32))
    w = {"Win": _matrix(rng, H, D_IN), "bin": _bias(rng, H), "layers": []}
    for _ in range(LAYERS):
        layer = {}
        layer["g1"], layer["s1"] = norm()
        layer.update({"Wqkv": _matrix(rng, 3 * H, H), "bqkv": _bias(rng, 3 * H), "Wo": _matrix(rng, H, H), "bo": _bias(rng, H)})
        layer["g2"], layer["s2"] = norm()
        layer.update({"Wup": _matrix(rng, 4 * H, H), "bup": _bias(rng, 4 * H),
                      "Wdown": _matrix(rng, H, 4 * H), "bdown": _bias(rng, H)})
        w["layers"].append(layer)
    w["gf"], w["sf"] = norm()
    w.update({"Wout": _matrix(rng, N_OUT, H), "bout": _bias(rng, N_OUT)})
    return w


def alibi_slopes(heads):
    """Head h's score for a key `age` steps back is lowered by slope_h * age (Sideman's AttentionBias)."""
    return np.array([2.0 ** (-8.0 * (h + 1) / heads) for h in range(heads)], np.float32)


def default_window(kind):
    return 256 if kind == "transformer" else 32


def flops(kind, H=256, L=32):
    """Multiply-adds of one step, times two (the transformer's attention at a full window of L)."""
    if kind == "transformer":
        return 2 * (D_IN * H + LAYERS * (12 * H * H + 2 * L * H) + N_OUT * H)
    lstm = 4 * H * (D_IN + H) + 4 * H * 2 * H
    if kind == "lstm":
        return 2 * (lstm + N_OUT * H)
    if kind == "attn":
        return 2 * (D_IN * (D_IN + H) + lstm + 2 * H * H + 2 * L * H + 2 * H * H + N_OUT * H)
    layer = 2 * G * 2 * R + R * G + S * G
    return 2 * (R * D_IN + len(DILATIONS) * layer + S * S + N_OUT * S)


def _sigmoid(x):
    return 0.5 * np.tanh(0.5 * x) + 0.5


class LSTMStack:
    """Two LSTM layers; `advance(x)` returns the top layer's new h (its cell state is `c[1]`)."""

    def __init__(self, w, H):
        self.w, self.H = w, H
        self.h = [np.zeros(H, np.float32), np.zeros(H, np.float32)]
        self.c = [np.zeros(H, np.float32), np.zeros(H, np.float32)]

    def _layer(self, k, W, b, x):
        H = self.H
        z = W @ np.concatenate([x, self.h[k]]) + b
        i, f, g, o = _sigmoid(z[:H]), _sigmoid(z[H:2 * H]), np.tanh(z[2 * H:3 * H]), _sigmoid(z[3 * H:])
        self.c[k] = f * self.c[k] + i * g
        self.h[k] = (o * np.tanh(self.c[k])).astype(np.float32)
        return self.h[k]

    def advance(self, x):
        first = self._layer(0, self.w["W1"], self.w["b1"], x)
        return self._layer(1, self.w["W2"], self.w["b2"], first)


class LSTMModel:
    def __init__(self, w, H):
        self.w, self.stack = w, LSTMStack(w, H)

    def step(self, x):
        return self.w["Wout"] @ self.stack.advance(x) + self.w["bout"]


class AttentionModel:
    def __init__(self, w, H):
        self.w, self.stack, self.H, self.L = w, LSTMStack(w, H), H, w["L"]
        self.keys = np.zeros((self.L, H), np.float32)    # Wk h_i, computed once as h_i enters
        self.values = np.zeros((self.L, H), np.float32)  # h_i
        self.slot = 0
        self.attention = np.zeros(H, np.float32)         # the last d, mixed into the next input

    def step(self, x):
        w = self.w
        mixed = w["Win"] @ np.concatenate([x, self.attention]) + w["bin"]
        h = self.stack.advance(mixed)
        scores = np.tanh(self.keys + w["Wq"] @ self.stack.c[1]) @ w["v"]
        weights = np.exp(scores - scores.max())
        weights /= weights.sum()
        self.attention = (weights @ self.values).astype(np.float32)
        out = w["Wo"] @ np.concatenate([h, self.attention]) + w["bo"]
        self.keys[self.slot] = w["Wk"] @ h
        self.values[self.slot] = h
        self.slot = (self.slot + 1) % self.L
        return w["Wout"] @ out + w["bout"]


class WaveNetModel:
    def __init__(self, w):
        self.w, self.t = w, 0
        self.history = [np.zeros((layer["d"], R), np.float32) for layer in w["layers"]]

    def step(self, x):
        w = self.w
        r = w["Win"] @ x + w["bin"]
        skip = np.zeros(S, np.float32)
        for layer, past in zip(w["layers"], self.history):
            slot = self.t % layer["d"]
            z = layer["Wf"] @ np.concatenate([past[slot], r]) + layer["bf"]
            past[slot] = r
            gated = np.tanh(z[:G]) * _sigmoid(z[G:])
            skip += layer["Ws"] @ gated + layer["bs"]
            r = r + layer["Wr"] @ gated + layer["br"]
        self.t += 1
        hidden = np.maximum(w["Wp1"] @ np.maximum(skip, 0) + w["bp1"], 0)
        return w["Wp2"] @ hidden + w["bp2"]


def _layer_norm(x, gain, shift):
    centred = x - x.mean()
    return (centred / np.sqrt((centred * centred).mean() + np.float32(LN_EPS)) * gain + shift).astype(np.float32)


def _gelu(x):
    """GPT-2's tanh form, as Sideman's step (not the erf form)."""
    return (0.5 * x * (1 + np.tanh(np.float32(0.7978845608) * (x + np.float32(0.044715) * x * x * x)))).astype(np.float32)


class TransformerModel:
    """Each block's KV cache is a ring of `window` slots; a step writes its key and value over the oldest, then
    attends over the slots written so far (at most the window, this step included) with ALiBi by age."""

    def __init__(self, w, H, window):
        self.w, self.H, self.window = w, H, window
        self.dh = H // HEADS
        self.keys = [np.zeros((window, HEADS, self.dh), np.float32) for _ in range(LAYERS)]
        self.values = [np.zeros((window, HEADS, self.dh), np.float32) for _ in range(LAYERS)]
        self.count = 0
        self.slopes = alibi_slopes(HEADS)

    def step(self, x):
        w, H, dh = self.w, self.H, self.dh
        slot = self.count % self.window
        self.count += 1
        span = min(self.count, self.window)
        # Slot of each age 0..span-1 (newest first) and its ALiBi penalty per head.
        slots = (slot - np.arange(span)) % self.window
        bias = -self.slopes[:, None] * np.arange(span, dtype=np.float32)[None, :]
        r = w["Win"] @ x + w["bin"]
        for layer, keys, values in zip(w["layers"], self.keys, self.values):
            qkv = layer["Wqkv"] @ _layer_norm(r, layer["g1"], layer["s1"]) + layer["bqkv"]
            q = qkv[:H].reshape(HEADS, dh)
            keys[slot] = qkv[H:2 * H].reshape(HEADS, dh)
            values[slot] = qkv[2 * H:].reshape(HEADS, dh)
            scores = np.einsum("hd,shd->hs", q, keys[slots]) / np.float32(np.sqrt(dh)) + bias
            e = np.exp(scores - scores.max(axis=1, keepdims=True))
            a = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
            read = np.einsum("hs,shd->hd", a, values[slots]).reshape(H)
            r = r + layer["Wo"] @ read + layer["bo"]
            units = _gelu(layer["Wup"] @ _layer_norm(r, layer["g2"], layer["s2"]) + layer["bup"])
            r = r + layer["Wdown"] @ units + layer["bdown"]
        return w["Wout"] @ _layer_norm(r, w["gf"], w["sf"]) + w["bout"]


def np_model(kind, H=256, L=32):
    if kind == "lstm":
        w = lstm_weights(H)
        return LSTMModel(w, H), w
    if kind == "attn":
        w = attn_weights(H, L)
        return AttentionModel(w, H), w
    if kind == "wavenet":
        w = wavenet_weights()
        return WaveNetModel(w), w
    if kind == "transformer":
        w = transformer_weights(H)
        w["window"] = L
        return TransformerModel(w, H, L), w
    raise ValueError("unknown reference shape %r (lstm, attn, wavenet, transformer)" % kind)


def step_input(rng):
    """One step's input: a one-hot of 128 beside 3 of 64 set."""
    x = np.zeros(D_IN, np.float32)
    x[rng.integers(128)] = 1
    x[128 + rng.choice(64, 3, replace=False)] = 1
    return x
