#!/usr/bin/env python3
"""The PyTorch half's proofs (scripts/test-pytorch.sh runs this), each printed as a PASS or FAIL line:

(a) a model `sideman train` wrote, loaded in PyTorch, gives `sideman eval`'s validation NLL within 1e-4, for
    every family and head on tiny generated data (folk-style events, piano-roll frames, soprano-conditioned
    ATB frames);
(b) a short PyTorch run with 2 processes (torchrun, gloo, CPU) writes a model whose `sideman eval` NLL equals
    PyTorch's own within 1e-3;
(c) `sideman continue` plays that model from a preset.

The data is generated here (seeded), so nothing outside the repository is needed. --shipped adds (a) for every
shipped preset model on the real valid split it was measured on (the corpora of docs/DATA.md). Usage:
  check_pytorch.py --sideman .build/release/sideman [--work DIR] [--quick] [--shipped]
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TRAINING = os.path.dirname(HERE)
REPO = os.path.dirname(TRAINING)
sys.path.insert(0, TRAINING)

results = []


def report(ok, what, detail):
    results.append(ok)
    print(f"{'PASS' if ok else 'FAIL'}: {what}: {detail}", flush=True)


def run(cmd, **kw):
    t = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {r.returncode}:\n{r.stderr[-2000:]}")
    return r.stdout, time.time() - t


# MARK: tiny corpora in docs/DATA.md's formats

def folk(path, count, seed):
    """Folk-style tunes: stepwise lines in a major key, quarters and eighths, bars of 4/4 or 3/4 with pickups."""
    rng = random.Random(seed)
    with open(path, "w") as f:
        for i in range(count):
            meter = rng.choice([[4, 4], [3, 4]])
            bar = 4 * meter[0]
            pickup = rng.choice([0, 0, 4, 2])
            tonic = 60 + rng.choice([0, 2, -3, 5, 7])
            scale = [0, 2, 4, 5, 7, 9, 11, 12, 14]
            degree, step, notes = 0, 0, []
            while step < pickup + bar * rng.randint(4, 8):
                dur = rng.choice([2, 2, 4, 4, 4, 8]) if (step - pickup) % bar else rng.choice([4, 8])
                degree = max(0, min(len(scale) - 1, degree + rng.choice([-2, -1, -1, 0, 1, 1, 2])))
                notes.append([step, dur, tonic + scale[degree]])
                step += dur
            f.write(json.dumps({"id": f"gen/{i}", "title": "", "meter": meter, "key": "C major", "spq": 4,
                                "pickup_steps": pickup, "notes": notes}) + "\n")


def pianoroll(path, count, seed):
    """Quarter-step piano rolls: triads moving by step over a bass, some held."""
    rng = random.Random(seed)
    pieces = []
    for _ in range(count):
        root, steps = 48 + rng.randint(0, 12), []
        for _ in range(rng.randint(16, 40)):
            root = max(40, min(70, root + rng.choice([-5, -2, 0, 2, 5, 7])))
            chord = [root - 12, root, root + rng.choice([3, 4]), root + 7]
            steps.append(sorted(p for p in chord if rng.random() > 0.1))
        pieces.append(steps)
    with open(path, "w") as f:
        json.dump(pieces, f)


def satb(path, count, seed):
    """16th-step SATB chorales ([soprano, alto, tenor, bass], -1 silent): voices held for 2-8 steps."""
    rng = random.Random(seed)
    pieces = []
    for _ in range(count):
        s, steps = 67 + rng.randint(-3, 3), []
        voices = [s, s - 4, s - 9, s - 17]
        for _ in range(rng.randint(6, 14)):
            s = max(60, min(79, s + rng.choice([-2, -1, 0, 1, 2])))
            voices = [s, s - rng.choice([3, 4, 5]), s - rng.choice([8, 9, 12]), s - rng.choice([15, 17, 19, 24])]
            steps += [voices] * rng.choice([2, 4, 4, 8])
        pieces.append(steps)
    with open(path, "w") as f:
        json.dump(pieces, f)


# MARK: the checks

def sideman_eval(sideman, model, data):
    out, _ = run([sideman, "eval", "--model", model, "--data", data, "--json"])
    return json.loads(out)


def torch_eval(model, corpus, split="valid"):
    import torch
    from sideman_torch.corpus import Corpus
    from sideman_torch.model_io import evaluate, load_model
    torch.set_num_threads(1)
    m, config, _ = load_model(model)
    total, steps = evaluate(m, config, Corpus(corpus)[split])
    return total / steps, steps


def check_parity(sideman, work, name, data, valid, train_args, tolerance=1e-4):
    """(a): Sideman trains, both evaluate."""
    model = os.path.join(work, f"{name}.safetensors")
    _, seconds = run([sideman, "train", "--data", data, "--valid", valid, "--out", model, "--seed", "3"] + train_args)
    corpus = os.path.join(work, f"{name}.valid.corpus.safetensors")
    run([sideman, "export", "--model", model, "--valid", valid, "--out", corpus])
    want = sideman_eval(sideman, model, valid)
    got, steps = torch_eval(model, corpus)
    diff = abs(got - want["nll_per_step"])
    report(diff <= tolerance and steps == want["steps"], f"(a) {name}",
           f"sideman eval {want['nll_per_step']:.6f}, PyTorch {got:.6f}, |diff| {diff:.1e} (<= {tolerance:g}) over {steps} steps "
           f"(sideman {want['steps']}); sideman train {seconds:.1f} s")


# The shipped models and the valid split each was measured on (docs/TRAINING.md), with `sideman eval`'s --part
# where the model's metadata does not already choose it.
SHIPPED = [
    ("folk/continuation", "folk/valid.jsonl", None),
    ("chorale/voices", "jsb/satb-16th.valid.json", None),
    ("jsb/frame-model", "jsb/pianoroll-quarter.valid.json", None),
    ("jsb/frame-transformer", "jsb/pianoroll-quarter.valid.json", None),
    ("jsb/sigmoid-conv", "jsb/pianoroll-quarter.valid.json", None),
    ("band/bass", "band/valid.jsonl", "bass"),
    ("band/comping", "band/valid.jsonl", None),
    ("band/drums", "band/valid.jsonl", "drums"),
    ("band-transformer/band", "band/valid.jsonl", None),
]


def corpora_folder():
    """SIDEMAN_CORPORA, else corpora/ in the repository (as the Swift tests look), or None."""
    for folder in (os.environ.get("SIDEMAN_CORPORA"), os.path.join(REPO, "corpora")):
        if folder and os.path.isdir(folder):
            return folder
    return None


def check_shipped(sideman, work, corpora):
    """(a) on the shipped presets' models and the real valid splits."""
    for name, data, part in SHIPPED:
        model = os.path.join(REPO, "presets", name + ".safetensors")
        valid = os.path.join(corpora, data)
        if not os.path.exists(valid):
            print(f"SKIP: (a) presets/{name}: {valid} is not there")
            continue
        extra = ["--part", part] if part else []
        corpus = os.path.join(work, name.replace("/", "-") + ".valid.corpus.safetensors")
        try:
            run([sideman, "export", "--model", model, "--valid", valid, "--out", corpus] + extra)
            out, seconds = run([sideman, "eval", "--model", model, "--data", valid, "--json"] + extra)
            want = json.loads(out)
            t = time.time()
            got, steps = torch_eval(model, corpus)
            diff = abs(got - want["nll_per_step"])
            report(diff <= 1e-4 and steps == want["steps"], f"(a) presets/{name}",
                   f"sideman eval {want['nll_per_step']:.6f}, PyTorch {got:.6f}, |diff| {diff:.1e} (<= 1e-4) over {steps} "
                   f"steps of {data}; {seconds:.1f} s in sideman, {time.time() - t:.1f} s in PyTorch")
        except Exception as e:
            report(False, f"(a) presets/{name}", str(e).strip().splitlines()[-1])


def check_ddp(sideman, work, name, data, valid, family, extra):
    """(b): torchrun, 2 processes, gloo; sideman eval of what it wrote."""
    corpus = os.path.join(work, f"{name}.corpus.safetensors")
    run([sideman, "export", "--family", family, "--data", data, "--valid", valid, "--out", corpus, "--transpose", "2"])
    model = os.path.join(work, f"{name}.safetensors")
    summary = os.path.join(work, f"{name}.json")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    _, seconds = run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", os.path.join(TRAINING, "train.py"),
                      "--corpus", corpus, "--out", model, "--json", summary, "--threads", "1", "--device", "cpu",
                      "--seed", "5"] + extra, env=env)
    with open(summary) as f:
        s = json.load(f)
    want = sideman_eval(sideman, model, valid)
    diff = abs(s["best_valid_nll"] - want["nll_per_step"])
    first = s["epochs"][0]["valid_nll"]
    report(s["processes"] == 2 and diff <= 1e-3, f"(b) {name}",
           f"torchrun 2 processes (gloo): valid NLL {first:.4f} after epoch 1, best {s['best_valid_nll']:.6f} after "
           f"{len(s['epochs'])} epochs; sideman eval {want['nll_per_step']:.6f}, |diff| {diff:.1e} (<= 1e-3); {seconds:.1f} s")
    return model


def check_play(sideman, work, model):
    """(c): the PyTorch model as a preset's continuation part, played offline on the daemon's engine."""
    shutil.copy(model, os.path.join(work, "torch-answer.safetensors"))
    with open(os.path.join(REPO, "presets", "folk.yaml")) as f:
        preset = f.read().replace("model: folk/continuation.safetensors", "model: torch-answer.safetensors")
    preset = preset.replace("name: folk", "name: torch-folk")
    path = os.path.join(work, "torch-folk.yaml")
    with open(path, "w") as f:
        f.write(preset)
    out = os.path.join(work, "answer.mid")
    phrase = os.path.join(REPO, "examples", "twinkle.mid")
    run([sideman, "continue", phrase, "-o", out, "--preset", path, "--bars", "4", "--seed", "1"])
    before = json.loads(run([sideman, "inspect", "--json", phrase])[0])
    after = json.loads(run([sideman, "inspect", "--json", out])[0])
    count = lambda info: info["notes"] if isinstance(info["notes"], int) else len(info["notes"])
    played = count(after) - count(before)
    report(played > 0, "(c) sideman continue plays the PyTorch model from a preset",
           f"{count(before)} notes in the phrase, {played} notes answered in 4 bars")
    return path


def check_live(sideman, work, preset):
    """(c) live: `sideman run` on a private JACK server (dummy backend) with the PyTorch model's preset; a
    phrase goes in through scripts/jack_peer.py, and the answer part (channel 2) must come out after it."""
    peer_py = os.path.join(REPO, "scripts", "jack_peer.py")
    have_jack = os.path.exists("/usr/bin/jackd") and subprocess.run(
        ["/usr/bin/python3", "-c", "import jack"], capture_output=True).returncode == 0
    if not have_jack:
        print("SKIP: (c) sideman run live: jackd or python3-jack-client missing (scripts/setup.sh installs them)")
        return
    name = f"smtorch{os.getpid()}"
    env = dict(os.environ, JACK_NO_START_SERVER="1", JACK_DEFAULT_SERVER=name)
    procs = []
    try:
        server = subprocess.Popen(["/usr/bin/jackd", "-n", name, "-d", "dummy", "-r", "48000", "-p", "256"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        procs.append(server)
        lsp = lambda: subprocess.run(["jack_lsp", "-s", name], capture_output=True, text=True, env=env)
        deadline = time.time() + 20
        while lsp().returncode != 0:
            if time.time() > deadline:
                raise RuntimeError("jackd did not answer within 20 s")
            time.sleep(0.1)
        log = open(os.path.join(work, "run.log"), "w")
        daemon = subprocess.Popen([sideman, "run", "--backend", "jack", "--preset", preset, "--client-name", "sideman"],
                                  stdout=log, stderr=subprocess.STDOUT, env=env)
        procs.append(daemon)
        deadline = time.time() + 30
        while "sideman:in" not in lsp().stdout:
            if time.time() > deadline or daemon.poll() is not None:
                raise RuntimeError(f"sideman run did not register its ports: {open(log.name).read()[-400:]}")
            time.sleep(0.1)
        peer = subprocess.Popen(["/usr/bin/python3", peer_py, "--name", "peer", "--server", name], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True, env=env)
        procs.append(peer)
        if not peer.stdout.readline().startswith("ready"):
            raise RuntimeError("scripts/jack_peer.py did not start")

        def ask(line):
            peer.stdin.write(line + "\n")
            peer.stdin.flush()
            return peer.stdout.readline().split()

        for src, dst in (("peer:out", "sideman:in"), ("sideman:out", "peer:in")):
            if ask(f"connect {src} {dst}")[0] != "ok":
                raise RuntimeError(f"could not connect {src} to {dst}")
        now = int(ask("now")[1])
        quarter = 28800  # the preset's 100 bpm at 48 kHz
        start = now + 48000
        for k, pitch in enumerate([60, 62, 64, 65, 67, 65, 64, 62]):
            peer.stdin.write(f"at {start + k * quarter} 90{pitch:02x}64\n")
            peer.stdin.write(f"at {start + k * quarter + quarter * 3 // 4} 80{pitch:02x}00\n")
        peer.stdin.flush()
        # The phrase (4.8 s), two silent beats, then the answer's two bars (4.8 s), with a second to spare.
        time.sleep(1 + 8 * 0.6 + 1.2 + 4.8 + 1.0)
        header = ask("recv")
        events = [peer.stdout.readline().split() for _ in range(int(header[1]))]
        answered = [e for e in events if e[1][:2] == "91" and int(e[1][4:6], 16) > 0]
        thru = [e for e in events if e[1][:2] == "90" and int(e[1][4:6], 16) > 0]
        first = (int(answered[0][0]) - start) / 48000 if answered else None
        report(len(answered) > 0, "(c) sideman run plays the PyTorch model live (JACK, dummy backend)",
               f"{len(thru)} phrase notes passed through, {len(answered)} notes answered on channel 2"
               + (f", the first {first:.2f} s after the phrase began" if answered else ""))
        peer.stdin.write("quit\n")
        peer.stdin.flush()
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sideman", default=os.path.join(REPO, ".build", "release", "sideman"))
    p.add_argument("--work")
    p.add_argument("--quick", action="store_true", help="(a) on three families only")
    p.add_argument("--shipped", action="store_true",
                   help="also (a) on every shipped model and its real valid split (SIDEMAN_CORPORA or corpora/ in the repository)")
    args = p.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="sideman-pytorch-")
    os.makedirs(work, exist_ok=True)
    start = time.time()
    d = lambda n: os.path.join(work, n)
    folk(d("train.jsonl"), 48, 1)
    folk(d("valid.jsonl"), 10, 2)
    pianoroll(d("pianoroll-quarter.train.json"), 24, 3)
    pianoroll(d("pianoroll-quarter.valid.json"), 6, 4)
    satb(d("satb-16th.train.json"), 16, 5)
    satb(d("satb-16th.valid.json"), 4, 6)
    tiny = ["--hidden", "24", "--layers", "2", "--batch", "8", "--seq-len", "32", "--epochs", "2", "--dropout", "0.1"]
    conv = ["--family", "conv", "--residual", "8", "--stacks", "2", "--layers-per-stack", "3", "--batch", "8",
            "--seq-len", "32", "--epochs", "2"]
    folk_pair = (d("train.jsonl"), d("valid.jsonl"))
    roll_pair = (d("pianoroll-quarter.train.json"), d("pianoroll-quarter.valid.json"))
    cases = [
        ("basic-softmax-events", folk_pair, ["--family", "basic"] + tiny),
        ("lookback-softmax-events", folk_pair, ["--family", "lookback"] + tiny),
        ("attention-softmax-events", folk_pair, ["--family", "attention", "--window", "8"] + tiny),
        ("conv-softmax-events", folk_pair, conv),
        ("transformer-softmax-events", folk_pair, ["--family", "transformer", "--heads", "4", "--window", "16", "--mlp", "48"] + tiny),
        ("transformer-lookback-beat-events", folk_pair,
         ["--family", "transformer", "--lookback", "--condition", "beat", "--heads", "4", "--window", "16", "--mlp", "48"] + tiny),
        ("basic-multi_hot-frames", roll_pair, ["--family", "basic", "--head", "multi_hot"] + tiny),
        ("conv-nade_chain-frames", roll_pair, conv + ["--head", "nade_chain", "--chain-hidden", "8"]),
        ("transformer-pitch_chain-frames", roll_pair, ["--family", "transformer", "--head", "pitch_chain", "--window", "8", "--mlp", "48"] + tiny),
        ("attention-nade_chain-soprano", (d("satb-16th.train.json"), d("satb-16th.valid.json")),
         ["--family", "attention", "--format", "jsb-atb", "--head", "nade_chain", "--chain-hidden", "8", "--window", "8"] + tiny),
    ]
    if args.quick:
        cases = cases[1:2] + cases[3:4] + cases[7:8]
    for name, (data, valid), train_args in cases:
        try:
            check_parity(args.sideman, work, name, data, valid, train_args)
        except Exception as e:  # one family's failure should not hide the others'
            report(False, f"(a) {name}", str(e).strip().splitlines()[-1])
    corpora = corpora_folder()
    if args.shipped and corpora:
        check_shipped(args.sideman, work, corpora)
    elif args.shipped:
        report(False, "(a) the shipped models", "the training corpora are not here (set SIDEMAN_CORPORA to a folder "
               "laid out as docs/DATA.md describes)")
    else:
        print("skipped: the shipped models on the real valid splits (about 10 minutes on 2 cores; --shipped runs them, "
              "with the corpora)")
    model = None
    try:
        model = check_ddp(args.sideman, work, "torch-lookback", *folk_pair, "lookback",
                          ["--hidden", "32", "--layers", "2", "--batch", "8", "--epochs", "4", "--lr", "3e-3"])
    except Exception as e:
        report(False, "(b) torch-lookback", str(e).strip()[-600:])
    if not args.quick:
        try:
            check_ddp(args.sideman, work, "torch-conv-nade", *roll_pair, "conv",
                      ["--residual", "8", "--stacks", "2", "--layers-per-stack", "3", "--head", "nade_chain",
                       "--chain-hidden", "8", "--batch", "4", "--epochs", "3"])
        except Exception as e:
            report(False, "(b) torch-conv-nade", str(e).strip()[-600:])
    if model:
        try:
            preset = check_play(args.sideman, work, model)
        except Exception as e:
            report(False, "(c) play", str(e).strip()[-600:])
            preset = None
        if preset:
            try:
                check_live(args.sideman, work, preset)
            except Exception as e:
                report(False, "(c) sideman run live", str(e).strip()[-600:])
    passed = sum(results)
    print(f"{passed} of {len(results)} checks passed in {time.time() - start:.0f} s (work folder {work})")
    if not args.work and all(results):
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(0 if results and all(results) else 1)


if __name__ == "__main__":
    main()
