"""The shapes of models.py as ONNX graphs for onnxruntime: one step per run, the state passed in and
returned (recurrent h and c, the attention window, each WaveNet layer's past inputs, each transformer block's
keys and values and the count of steps seen), the same weights."""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import models as M


class Graph:
    def __init__(self):
        self.nodes, self.inits, self.inputs, self.outputs, self.n = [], [], [], [], 0

    def const(self, array):
        name = "w%d" % len(self.inits)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(self, kind, *args, **attrs):
        self.n += 1
        out = "t%d" % self.n
        self.nodes.append(helper.make_node(kind, list(args), [out], **attrs))
        return out

    def input(self, name, shape):
        self.inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, shape))
        return name

    def output(self, value, name, shape):
        self.nodes.append(helper.make_node("Identity", [value], [name]))
        self.outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, shape))

    def linear(self, x, W, b=None):
        y = self.op("MatMul", x, self.const(W.T.copy()))
        return self.op("Add", y, self.const(b.reshape(1, -1))) if b is not None else y

    def model(self):
        graph = helper.make_graph(self.nodes, "sideman_reference", self.inputs, self.outputs, self.inits)
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _lstm_layer(g, x, h, c, W, b, H):
    z = g.linear(g.op("Concat", x, h, axis=1), W, b)
    i = g.op("Sigmoid", g.op("Slice", z, g.const(np.array([0])), g.const(np.array([H])), g.const(np.array([1]))))
    f = g.op("Sigmoid", g.op("Slice", z, g.const(np.array([H])), g.const(np.array([2 * H])), g.const(np.array([1]))))
    u = g.op("Tanh", g.op("Slice", z, g.const(np.array([2 * H])), g.const(np.array([3 * H])), g.const(np.array([1]))))
    o = g.op("Sigmoid", g.op("Slice", z, g.const(np.array([3 * H])), g.const(np.array([4 * H])), g.const(np.array([1]))))
    c2 = g.op("Add", g.op("Mul", f, c), g.op("Mul", i, u))
    return g.op("Mul", o, g.op("Tanh", c2)), c2


def _lstm_stack(g, x, w, H):
    states = [g.input(n, [1, H]) for n in ("h1", "c1", "h2", "c2")]
    h1, c1 = _lstm_layer(g, x, states[0], states[1], w["W1"], w["b1"], H)
    h2, c2 = _lstm_layer(g, h1, states[2], states[3], w["W2"], w["b2"], H)
    for value, name in zip((h1, c1, h2, c2), ("h1", "c1", "h2", "c2")):
        g.output(value, name + "_out", [1, H])
    return h2, c2


def _transformer(g, x, w, H, W, state):
    """The KV cache as a queue per block, oldest first: keys [heads, dh, W] (transposed, so the scores are one
    MatMul), values [heads, W, dh]. A step drops the oldest and appends its own, so the newest is at W - 1 and
    ALiBi's age of slot j is W - 1 - j, a constant. Until W steps have been seen the slots before the first step
    hold zeros; `count` (steps seen, capped at W) masks them out, as Sideman attends only over the steps written."""
    heads, dh = M.HEADS, H // M.HEADS
    age = np.arange(W - 1, -1, -1, dtype=np.float32)
    alibi = g.const((-M.alibi_slopes(heads)[:, None] * age[None, :]).reshape(heads, 1, W).astype(np.float32))
    count = g.input("count", [1])
    unseen = g.op("Less", g.const(np.arange(W, dtype=np.float32)), g.op("Sub", g.const(np.array([W - 1], np.float32)), count))
    # -1e30, not -inf: exp underflows to exactly 0 either way, and no kernel can turn it into a NaN.
    mask = g.op("Where", unseen, g.const(np.array([-1e30], np.float32)), g.const(np.array([0], np.float32)))
    g.output(g.op("Min", g.op("Add", count, g.const(np.array([1], np.float32))), g.const(np.array([W], np.float32))),
             "count_out", [1])
    state["count"] = np.zeros(1, np.float32)
    part = lambda t, a, b, axis: g.op("Slice", t, g.const(np.array([a])), g.const(np.array([b])), g.const(np.array([axis])))
    shape = lambda *dims: g.const(np.array(dims, np.int64))
    norm = lambda t, gain, shift: g.op("LayerNormalization", t, g.const(gain), g.const(shift), axis=-1, epsilon=M.LN_EPS)
    r = g.linear(x, w["Win"], w["bin"])
    for l, layer in enumerate(w["layers"]):
        keys, values = g.input("k_cache_l%d" % l, [heads, dh, W]), g.input("v_cache_l%d" % l, [heads, W, dh])
        state["k_cache_l%d" % l] = np.zeros((heads, dh, W), np.float32)
        state["v_cache_l%d" % l] = np.zeros((heads, W, dh), np.float32)
        qkv = g.linear(norm(r, layer["g1"], layer["s1"]), layer["Wqkv"], layer["bqkv"])
        q = g.op("Reshape", part(qkv, 0, H, 1), shape(heads, 1, dh))
        keys = g.op("Concat", part(keys, 1, W, 2), g.op("Reshape", part(qkv, H, 2 * H, 1), shape(heads, dh, 1)), axis=2)
        values = g.op("Concat", part(values, 1, W, 1), g.op("Reshape", part(qkv, 2 * H, 3 * H, 1), shape(heads, 1, dh)), axis=1)
        g.output(keys, "k_cache_l%d_out" % l, [heads, dh, W])
        g.output(values, "v_cache_l%d_out" % l, [heads, W, dh])
        scores = g.op("Mul", g.op("MatMul", q, keys), g.const(np.array([1 / np.sqrt(dh)], np.float32)))
        weights = g.op("Softmax", g.op("Add", g.op("Add", scores, alibi), mask), axis=-1)
        read = g.op("Reshape", g.op("MatMul", weights, values), shape(1, H))
        r = g.op("Add", r, g.linear(read, layer["Wo"], layer["bo"]))
        u = g.linear(norm(r, layer["g2"], layer["s2"]), layer["Wup"], layer["bup"])
        inner = g.op("Mul", g.op("Add", u, g.op("Mul", g.const(np.array([0.044715], np.float32)), g.op("Mul", u, g.op("Mul", u, u)))),
                     g.const(np.array([0.7978845608], np.float32)))
        gelu = g.op("Mul", g.op("Mul", g.const(np.array([0.5], np.float32)), u),
                    g.op("Add", g.const(np.array([1], np.float32)), g.op("Tanh", inner)))
        r = g.op("Add", r, g.linear(gelu, layer["Wdown"], layer["bdown"]))
    g.output(g.linear(norm(r, w["gf"], w["sf"]), w["Wout"], w["bout"]), "logits", [1, M.N_OUT])


def build(kind, H=256, L=32):
    """(onnx model, initial state {name: array}, weights); L is the attention window of attn and transformer."""
    _, w = M.np_model(kind, H=H, L=L)
    g = Graph()
    x = g.input("x", [1, M.D_IN])
    state = {}
    if kind == "transformer":
        _transformer(g, x, w, H, L, state)
    elif kind == "lstm":
        h2, _ = _lstm_stack(g, x, w, H)
        g.output(g.linear(h2, w["Wout"], w["bout"]), "logits", [1, M.N_OUT])
    elif kind == "attn":
        previous = g.input("attention", [1, H])
        keys, values = g.input("keys", [L, H]), g.input("values", [L, H])
        mixed = g.linear(g.op("Concat", x, previous, axis=1), w["Win"], w["bin"])
        h2, c2 = _lstm_stack(g, mixed, w, H)
        scores = g.op("MatMul", g.op("Tanh", g.op("Add", keys, g.linear(c2, w["Wq"]))), g.const(w["v"].reshape(H, 1)))
        weights = g.op("Softmax", g.op("Transpose", scores, perm=[1, 0]), axis=1)
        attention = g.op("MatMul", weights, values)
        out = g.linear(g.op("Concat", h2, attention, axis=1), w["Wo"], w["bo"])
        g.output(g.linear(out, w["Wout"], w["bout"]), "logits", [1, M.N_OUT])
        # The window as a queue: oldest out, newest in (the softmax does not care about order).
        rest = lambda t: g.op("Slice", t, g.const(np.array([1])), g.const(np.array([L])), g.const(np.array([0])))
        g.output(g.op("Concat", rest(keys), g.linear(h2, w["Wk"]), axis=0), "keys_out", [L, H])
        g.output(g.op("Concat", rest(values), h2, axis=0), "values_out", [L, H])
        g.output(attention, "attention_out", [1, H])
        state.update({"attention": np.zeros((1, H), np.float32), "keys": np.zeros((L, H), np.float32),
                      "values": np.zeros((L, H), np.float32)})
    elif kind == "wavenet":
        r = g.linear(x, w["Win"], w["bin"])
        skip = None
        for k, layer in enumerate(w["layers"]):
            d = layer["d"]
            past = g.input("past%d" % k, [d, M.R])
            oldest = g.op("Slice", past, g.const(np.array([0])), g.const(np.array([1])), g.const(np.array([0])))
            z = g.linear(g.op("Concat", oldest, r, axis=1), layer["Wf"], layer["bf"])
            split = lambda a, b: g.op("Slice", z, g.const(np.array([a])), g.const(np.array([b])), g.const(np.array([1])))
            gated = g.op("Mul", g.op("Tanh", split(0, M.G)), g.op("Sigmoid", split(M.G, 2 * M.G)))
            layer_skip = g.linear(gated, layer["Ws"], layer["bs"])
            skip = layer_skip if skip is None else g.op("Add", skip, layer_skip)
            newer = r if d == 1 else g.op(
                "Concat", g.op("Slice", past, g.const(np.array([1])), g.const(np.array([d])), g.const(np.array([0]))), r, axis=0)
            g.output(newer, "past%d_out" % k, [d, M.R])
            r = g.op("Add", r, g.linear(gated, layer["Wr"], layer["br"]))
            state["past%d" % k] = np.zeros((d, M.R), np.float32)
        hidden = g.op("Relu", g.linear(g.op("Relu", skip), w["Wp1"], w["bp1"]))
        g.output(g.linear(hidden, w["Wp2"], w["bp2"]), "logits", [1, M.N_OUT])
    if kind in ("lstm", "attn"):
        state.update({n: np.zeros((1, H), np.float32) for n in ("h1", "c1", "h2", "c2")})
    model = g.model()
    onnx.checker.check_model(model)
    return model, state, w
