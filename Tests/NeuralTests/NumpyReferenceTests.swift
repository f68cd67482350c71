import Foundation
import Testing
@testable import Neural

/// Drives benchmarks/reference/models.py: Python (json + struct + numpy) writes the reference weights in our
/// tensor names as a safetensors file, plus the inputs and the numpy step's logits; Swift loads the file as a
/// model and must reproduce the logits step by step. This also checks our reader against an independent
/// writer.
@Suite struct NumpyReferenceTests {
    static let script = #"""
import json, struct, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import models as M

def write(path, tensors, meta=None, dtypes=None):
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        dt = (dtypes or {}).get(name, "F32")
        a = tensors[name]
        if dt == "F32": b = np.ascontiguousarray(a, dtype="<f4").tobytes()
        elif dt == "F16": b = np.ascontiguousarray(a, dtype="<f2").tobytes()
        elif dt == "BF16": b = (np.ascontiguousarray(a, dtype="<f4").view("<u4") >> 16).astype("<u2").tobytes()
        elif dt == "I8": b = np.ascontiguousarray(a, dtype="i1").tobytes()
        elif dt == "I32": b = np.ascontiguousarray(a, dtype="<i4").tobytes()
        header[name] = {"dtype": dt, "shape": list(np.shape(a)), "data_offsets": [off, off + len(b)]}
        off += len(b); blobs.append(b)
    if meta: header["__metadata__"] = meta
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h))); f.write(h)
        for b in blobs: f.write(b)

def lstm_tensors(p, H, d_in):
    z = lambda n: np.zeros(n, np.float32)
    return {"weight_ih_l0": p["W1"][:, :d_in], "weight_hh_l0": p["W1"][:, d_in:], "bias_ih_l0": p["b1"], "bias_hh_l0": z(4 * H),
            "weight_ih_l1": p["W2"][:, :H], "weight_hh_l1": p["W2"][:, H:], "bias_ih_l1": p["b2"], "bias_hh_l1": z(4 * H),
            "head.weight": p["Wout"], "head.bias": p["bout"]}

kind, H, L, T, out = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
model, p = M.np_model(kind, H=H, L=L)
if kind == "lstm":
    t = lstm_tensors(p, H, M.D_IN)
    meta = {"family": "basic", "input_size": "192", "hidden": str(H), "layers": "2", "outputs": "130", "head": "softmax"}
elif kind == "attn":
    t = lstm_tensors(p, H, M.D_IN)
    t.update({"input_mix.weight": p["Win"], "input_mix.bias": p["bin"], "attention.key.weight": p["Wk"],
              "attention.query.weight": p["Wq"], "attention.score": p["v"], "attention.output.weight": p["Wo"],
              "attention.output.bias": p["bo"]})
    meta = {"family": "attention", "input_size": "192", "hidden": str(H), "layers": "2", "window": str(L),
            "outputs": "130", "head": "softmax"}
elif kind == "transformer":
    t = {"input.weight": p["Win"], "input.bias": p["bin"], "norm.weight": p["gf"], "norm.bias": p["sf"],
         "head.weight": p["Wout"], "head.bias": p["bout"]}
    for l, layer in enumerate(p["layers"]):
        for name, (a, b) in {"norm1": ("g1", "s1"), "attention.qkv": ("Wqkv", "bqkv"), "attention.output": ("Wo", "bo"),
                             "norm2": ("g2", "s2"), "mlp.up": ("Wup", "bup"), "mlp.down": ("Wdown", "bdown")}.items():
            t[f"blocks.{l}.{name}.weight"], t[f"blocks.{l}.{name}.bias"] = layer[a], layer[b]
    meta = {"family": "transformer", "input_size": "192", "hidden": str(H), "layers": str(M.LAYERS), "heads": str(M.HEADS),
            "mlp": str(4 * H), "window": str(L), "outputs": "130", "head": "softmax"}
else:
    t = {"input.weight": p["Win"], "input.bias": p["bin"], "head.hidden.weight": p["Wp1"], "head.hidden.bias": p["bp1"],
         "head.output.weight": p["Wp2"], "head.output.bias": p["bp2"]}
    for l, layer in enumerate(p["layers"]):
        t[f"layers.{l}.dilated.weight"] = np.stack([layer["Wf"][:, :M.R], layer["Wf"][:, M.R:]], axis=2)
        t[f"layers.{l}.dilated.bias"] = layer["bf"]
        t[f"layers.{l}.residual.weight"] = layer["Wr"]; t[f"layers.{l}.residual.bias"] = layer["br"]
        t[f"layers.{l}.skip.weight"] = layer["Ws"]; t[f"layers.{l}.skip.bias"] = layer["bs"]
    meta = {"family": "conv", "input_size": "192", "residual": "64", "gate": "64", "skip": "128", "layers_per_stack": "8",
            "stacks": "2", "head_hidden": "128", "outputs": "130", "head": "softmax"}
write(out + "/model.safetensors", t, meta)

rng = np.random.default_rng(5)
idx = np.zeros((T, 4), np.int32)
logits = np.zeros((T, M.N_OUT), np.float32)
for s in range(T):
    idx[s, 0] = rng.integers(0, 128)
    idx[s, 1:] = 128 + rng.choice(64, 3, replace=False)
    x = np.zeros(M.D_IN, np.float32); x[idx[s]] = 1.0
    logits[s] = model.step(x)
values = np.array([1.5, -2.25, 0.0078125, -65504.0], np.float32)
write(out + "/case.safetensors", {"inputs": idx, "logits": logits, "f16": values, "bf16": values,
      "i8": np.array([-128, 0, 127], np.int8)}, dtypes={"inputs": "I32", "f16": "F16", "bf16": "BF16", "i8": "I8"})
print("ok")
"""#

    @Test(arguments: [("lstm", 256, 32), ("attn", 256, 32), ("wavenet", 0, 0), ("transformer", 256, 256)])
    func streamingStepMatchesNumpyReference(kind: String, hidden: Int, window: Int) throws {
        guard numpyPython != nil else {
            print("SKIP NumpyReferenceTests: no python3 with numpy on this machine (scripts/setup.sh installs python3-numpy)")
            return
        }
        let folder = temporaryFolder("numpy-\(kind)")
        defer { try? FileManager.default.removeItem(at: folder) }
        // Long enough for every queue (dilations up to 128) and the attention ring to wrap several times, and
        // for the transformer's KV cache to fill its window of 256 and slide 44 steps on (and past its ring's
        // 288 slots, so the wrap of the ring is compared too).
        let steps = kind == "wavenet" ? 300 : kind == "transformer" ? 320 : 120
        let run = runPython(Self.script, [referenceFolder.path, kind, "\(max(hidden, 1))", "\(max(window, 1))", "\(steps)", folder.path])
        try #require(run.status == 0, "python: \(run.output)")

        let model = try loadModel(path: folder.appendingPathComponent("model.safetensors").path)
        let reference = try SafeTensors.read(path: folder.appendingPathComponent("case.safetensors").path)
        let inputs = reference.tensors["inputs"]!.values.map { Int($0) }
        let expected = reference.tensors["logits"]!.values
        var worst: Float = 0
        for t in 0..<steps {
            let x = FeatureList(Array(inputs[(4 * t)..<(4 * t + 4)]))
            let logits = Array(model.step(x))
            worst = max(worst, maxAbsDifference(logits, Array(expected[(130 * t)..<(130 * t + 130)])))
        }
        print("NumpyReferenceTests \(kind): max |Swift - numpy| over \(steps) steps = \(worst)")
        #expect(worst < 1e-4, "\(kind): max |Swift - numpy| = \(worst)")

        // Dtypes written by the independent writer decode to the same values.
        #expect(reference.tensors["f16"]!.values == [1.5, -2.25, 0.0078125, -65504])
        // bf16 by truncation: -65504 (0xC77FE000) keeps its top half, -65280.
        #expect(reference.tensors["bf16"]!.values == [1.5, -2.25, 0.0078125, -65280])
        #expect(reference.tensors["i8"]!.values == [-128, 0, 127])
    }
}
