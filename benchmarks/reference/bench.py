"""Times one reference shape per step in numpy or onnxruntime (batch 1, state carried between steps) and
checks onnxruntime's logits against numpy's. Prints one JSON line.

    python bench.py lstm ort --hidden 256 --steps 5000
    python bench.py transformer ort --steps 1000    # window 256 unless --window says otherwise
"""
import argparse
import json
import time

import numpy as np

import models as M

parser = argparse.ArgumentParser()
parser.add_argument("kind", choices=["lstm", "attn", "wavenet", "transformer"])
parser.add_argument("runtime", choices=["numpy", "ort"])
parser.add_argument("--hidden", type=int, default=256)
parser.add_argument("--window", type=int, default=None, help="attention window (attn 32, transformer 256)")
parser.add_argument("--steps", type=int, default=5000)
parser.add_argument("--warmup", type=int, default=500)
args = parser.parse_args()
if args.window is None:
    args.window = M.default_window(args.kind)

rng = np.random.default_rng(7)
inputs = [M.step_input(rng) for _ in range(64)]
reference, _ = M.np_model(args.kind, H=args.hidden, L=args.window)

if args.runtime == "numpy":
    step = reference.step
    drift = 0.0
else:
    import onnxruntime as ort
    import onnx_models
    model, state, _ = onnx_models.build(args.kind, H=args.hidden, L=args.window)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    feeds = dict(state)

    def step(x):
        feeds["x"] = x.reshape(1, -1)
        results = session.run(names, feeds)
        for name, value in zip(names, results):
            if name.endswith("_out"):
                feeds[name[:-4]] = value
        return results[names.index("logits")][0]

    drift = 0.0
    # Past the window, so a KV cache or attention ring is compared after it has filled and slid.
    for k in range(max(200, args.window + 64)):
        x = inputs[k % len(inputs)]
        drift = max(drift, float(np.max(np.abs(step(x) - reference.step(x)))))

for k in range(args.warmup):
    step(inputs[k % len(inputs)])
times = np.empty(args.steps)
for k in range(args.steps):
    x = inputs[k % len(inputs)]
    started = time.perf_counter()
    step(x)
    times[k] = time.perf_counter() - started
micros = times * 1e6
print(json.dumps({"shape": args.kind, "runtime": args.runtime, "hidden": args.hidden, "window": args.window,
                  "median_us": round(float(np.median(micros)), 2), "p99_us": round(float(np.percentile(micros, 99)), 2),
                  "steps": args.steps, "flops": M.flops(args.kind, args.hidden, args.window), "max_abs_vs_numpy": drift}))
