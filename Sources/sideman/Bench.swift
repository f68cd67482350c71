import ArgumentParser
import Foundation
import Live
import Neural
import Service

/// `sideman bench`: per-step latency of a streaming model, warm (back-to-back steps) and cold (each step
/// after a 32 MiB buffer walk has pushed the weights out of the caches, as after the daemon's idle wait).
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure per-step latency of a streaming model (median, p99, max in microseconds).",
        discussion: """
            Pick the model with --model FILE, --family F [--hidden H --layers L --window N], or \
            --reference lstm|attn|wavenet|transformer (the shapes Sideman is compared with onnxruntime on: 192 inputs, 130 \
            logits, the LSTM, attention-LSTM, dilated-conv and transformer (4 blocks of 4 heads, window 256) sizes of the \
            shipped families; random weights, inputs one-hot of 128 plus 3 of 64; benchmarks/reference.sh runs both). Warm steps run back to back after warm-up. Each cold step follows a walk that \
            writes one byte per cache line over a 32 MiB buffer (the size of L3 here), so its weights come from \
            memory or a far cache as after an idle wait; half of them also call the model's prefetch() \
            (untimed) after the walk: the step's data read, and a step rehearsed and taken back, three times, as \
            the daemon does before each step. With --precision other than fp32 the bench also reports how far the \
            logits move from an fp32 copy of the same model.

            Examples:
              sideman bench --model presets/folk/continuation.safetensors
              sideman bench --reference lstm --precision int8 --json
            """)

    enum ReferenceShape: String, ExpressibleByArgument, CaseIterable { case lstm, attn, wavenet, transformer }

    @Option(help: "A safetensors model file.") var model: String?
    @Option(help: "Model family with random weights: basic, lookback, attention, conv, transformer (heads of 64 units, MLP 4 × hidden).") var family: String?
    @Option(help: "A reference shape with random weights: lstm, attn, wavenet, transformer.") var reference: ReferenceShape?
    @Option(help: "LSTM hidden size (conv: residual and gate channels; skip and head get twice that).")
    var hidden: Int = 256
    @Option(help: "LSTM layers (conv: layers per stack of 2).") var layers: Int = 2
    @Option(help: "Attention window (attention, attn, transformer; default 32, 256 for the transformer reference).")
    var window: Int?
    @Option(help: "Timed warm steps.") var steps: Int = 5000
    @Option(help: "Untimed warm-up steps.") var warmup: Int = 1000
    @Option(help: "Timed cold steps (and as many prefetched cold steps).") var coldSteps: Int = 300
    @Option(help: "Weight storage for the step: fp32, fp16, int8 or int8-wide-attention.") var precision: String = "fp32"
    @Option(help: "Seed of the random weights and inputs.") var seed: UInt64 = 1
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        try reportingFailures {
            guard let precision = Precision(rawValue: precision) else {
                throw Failure("bench", "--precision must be one of " + Precision.allCases.map(\.rawValue).joined(separator: ", "),
                              status: .usage)
            }
            guard steps > 0, warmup >= 0, coldSteps >= 0 else {
                throw Failure("bench", "--steps must be positive, --warmup and --cold-steps not negative", status: .usage)
            }
            if let path = model, let set = try? SafeTensors.read(path: path) {
                if MusicVAEConfig.describes(set.metadata) { return try benchVariation(path) }
                if MidiNetConfig.describes(set.metadata) { return try benchLead(path) }
            }
            let (model, label) = try makeModel(precision)
            var rng = SeededRandom(seed: seed &+ 0x5EED)
            let inputs = (0..<(warmup + steps + coldSteps)).map { _ in input(for: model, &rng) }
            let result = measure(model, inputs)
            let drift = precision == .fp32 ? nil : try compare(model, with: makeModel(.fp32).0, inputs)
            report(result, drift, limits: StepLimits(model, precision), label: label, model: model, precision: precision)
        }
    }

    private func makeModel(_ precision: Precision) throws -> (any StreamingModel, String) {
        let chosen = [model != nil, family != nil, reference != nil].filter { $0 }.count
        guard chosen == 1 else { throw Failure("bench", "give exactly one of --model, --family, --reference", status: .usage) }
        let window = self.window ?? (reference == .transformer ? 256 : 32)
        guard (1...8192).contains(hidden), (1...16).contains(layers), (1...4096).contains(window) else {
            throw Failure("bench", "--hidden 1...8192, --layers 1...16, --window 1...4096", status: .usage)
        }
        if let path = model {
            try CommandFiles.requireInput(path)
            do { return (try loadModel(path: path, precision: precision), path) } catch {
                throw Failure(path, error.description, status: .dataError)
            }
        }
        let built: any StreamingModel
        let label: String
        if let reference {
            // The onnxruntime comparison's shapes: 192 inputs (one-hot 128 + multi-hot 64), 130 logits.
            switch reference {
            case .lstm:
                built = BasicRNN(config: BasicRNNConfig(inputSize: 192, hidden: hidden, layers: 2, outputs: 130), seed: seed)
                label = "reference lstm H\(hidden)"
            case .attn:
                built = AttentionRNN(
                    config: AttentionRNNConfig(inputSize: 192, hidden: hidden, layers: 2, window: window, outputs: 130), seed: seed)
                label = "reference attn H\(hidden) L\(window)"
            case .wavenet:
                built = ConvPredictor(config: ConvPredictorConfig(inputSize: 192, outputs: 130), seed: seed)
                label = "reference wavenet"
            case .transformer:
                // ALiBi's slopes depend on the head count: 4 heads, as benchmarks/reference/models.py has them.
                built = Transformer(
                    config: TransformerConfig(inputSize: 192, width: hidden, layers: 4, heads: 4, mlp: 4 * hidden, window: window, outputs: 130),
                    seed: seed)
                label = "reference transformer H\(hidden) L\(window)"
            }
        } else {
            // Melody events: NO_EVENT, NOTE_OFF and 128 pitches.
            let events = 130
            switch Family(rawValue: family!) {
            case .basic:
                built = BasicRNN(config: BasicRNNConfig(inputSize: events, hidden: hidden, layers: layers, outputs: events), seed: seed)
            case .lookback:
                built = LookbackRNN(config: LookbackRNNConfig(eventClasses: events, hidden: hidden, layers: layers), seed: seed)
            case .attention:
                built = AttentionRNN(
                    config: AttentionRNNConfig(inputSize: events, hidden: hidden, layers: layers, window: window, outputs: events),
                    seed: seed)
            case .conv:
                built = ConvPredictor(
                    config: ConvPredictorConfig(inputSize: events, residual: hidden, gate: hidden, skip: 2 * hidden,
                                                layersPerStack: min(layers, 12), headHidden: 2 * hidden, outputs: events),
                    seed: seed)
            case .transformer:
                built = Transformer(
                    config: TransformerConfig(inputSize: events, width: hidden, layers: layers, heads: max(1, hidden / 64), mlp: 4 * hidden,
                                              window: window, outputs: events),
                    seed: seed)
            case nil:
                throw Failure("bench", "--family must be basic, lookback, attention, conv or transformer", status: .usage)
            }
            label = "\(family!) H\(hidden) layers \(layers)"
        }
        built.prepare(precision)
        return (built, label)
    }

    /// A MusicVAE is timed a phrase at a time, as the daemon's variation and groove parts use it: encode a
    /// phrase, move its latent, decode every step of the bars (one per 100 --steps, at least 20).
    private func benchVariation(_ path: String) throws {
        let vae = try VAEFile.load(path)
        var rng = SeededRandom(seed: seed)
        let count = max(20, steps / 100)
        let phrase = { (rng: inout SeededRandom) in (0..<vae.config.steps).map { _ in Int(rng.next() % UInt64(vae.config.classes)) } }
        let w = timed(count) { _ = vae.vary(phrase(&rng), amount: 0.3, temperature: 0.5, rng: &rng) }
        if json {
            print(String(format: "{\"model\": \"%@\", \"family\": \"music_vae\", \"content\": \"%@\", \"bars\": %d, \"phrases\": %d, "
                         + "\"median_ms\": %.2f, \"p99_ms\": %.2f, \"max_ms\": %.2f}",
                         path, vae.config.content.rawValue, vae.config.bars, count, w.median, w.p99, w.max))
        } else {
            print("\(path), MusicVAE of \(vae.config.content.rawValue), \(vae.config.bars) bars (\(vae.config.steps) steps) a phrase, fp32")
            print(String(format: "a phrase (encode, move, decode every step): median %.2f ms, p99 %.2f ms, max %.2f ms  (%d phrases)",
                         w.median, w.p99, w.max, count))
        }
    }

    /// MidiNet is timed a bar at a time, as the daemon's lead part uses it: noise, chord and the bar before
    /// through the generator, and each step drawn (one bar per 100 --steps, at least 20).
    private func benchLead(_ path: String) throws {
        let net: MidiNet
        do { net = try MidiNet(path: path) } catch { throw Failure(path, error.description, status: .dataError) }
        var rng = SeededRandom(seed: seed)
        let count = max(20, steps / 100)
        let previous = (0..<net.config.stepsPerBar).map { _ in Int(rng.next() % UInt64(net.config.classes)) }
        let w = timed(count) {
            _ = net.bar(chord: MidiNetChord(root: Int(rng.next() % 12), minor: rng.next() % 2 == 0), previous: previous, temperature: 0, rng: &rng)
        }
        if json {
            print(String(format: "{\"model\": \"%@\", \"family\": \"midinet\", \"bars\": %d, \"median_ms\": %.3f, \"p99_ms\": %.3f, \"max_ms\": %.3f}",
                         path, count, w.median, w.p99, w.max))
        } else {
            print("\(path), MidiNet generator, \(net.config.stepsPerBar) steps a bar, \(net.config.classes) classes a step, fp32")
            print(String(format: "a bar (generate, draw every step): median %.3f ms, p99 %.3f ms, max %.3f ms  (%d bars)", w.median, w.p99, w.max, count))
        }
    }

    /// Milliseconds per run of `job`, after 3 untimed runs.
    private func timed(_ count: Int, _ job: () -> Void) -> Summary {
        for _ in 0..<3 { job() }
        var times: [Double] = []
        for _ in 0..<count {
            let started = ContinuousClock.now
            job()
            let d = (ContinuousClock.now - started).components
            times.append(Double(d.seconds) * 1e3 + Double(d.attoseconds) / 1e15)
        }
        return Summary(times)
    }

    private enum StepInput { case features(FeatureList), event(Int) }

    /// How far reduced-precision storage moves the outputs: the largest logit difference and the mean
    /// KL(fp32 ‖ reduced) per step, which is the expected NLL increase (nats per step) if the fp32 model's
    /// distribution were the truth. Measured over the warm-up steps from zero state.
    struct Drift { var maxLogit: Double; var meanKL: Double; var steps: Int }

    private func compare(_ model: any StreamingModel, with reference: any StreamingModel, _ inputs: [StepInput]) -> Drift {
        let n = min(max(warmup, 200), inputs.count)
        model.reset()
        reference.reset()
        var maxLogit = 0.0, kl = 0.0
        for k in 0..<n {
            var a = Array(step(reference, inputs[k])), b = Array(step(model, inputs[k]))
            for i in a.indices { maxLogit = max(maxLogit, Double(abs(a[i] - b[i]))) }
            // A NADE chain's first link is b + V tanh(c): compare the distributions the logits stand for.
            if let ca = reference.chain, let cb = model.chain {
                a = a.withUnsafeBufferPointer { ca.linkLogits($0.baseAddress!, after: []) }
                b = b.withUnsafeBufferPointer { cb.linkLogits($0.baseAddress!, after: []) }
            }
            kl += divergence(a, b, head: model.head)
        }
        model.reset()
        return Drift(maxLogit: maxLogit, meanKL: kl / Double(n), steps: n)
    }

    /// KL(p ‖ q) of the distributions two logit vectors stand for (per-unit Bernoulli sums for multi-hot).
    private func divergence(_ p: [Float], _ q: [Float], head: OutputHead) -> Double {
        switch head {
        // For the chain, the first link: the softmax over every unit and END that picks the lowest note.
        case .softmax, .pitchChain, .nadeChain:
            func logSoftmax(_ x: [Float]) -> [Double] {
                let m = Double(x.max()!)
                let lse = m + Foundation.log(x.reduce(0.0) { $0 + Foundation.exp(Double($1) - m) })
                return x.map { Double($0) - lse }
            }
            let lp = logSoftmax(p), lq = logSoftmax(q)
            return zip(lp, lq).reduce(0.0) { $0 + Foundation.exp($1.0) * ($1.0 - $1.1) }
        case .multiHot:
            return zip(p, q).reduce(0.0) { total, pair in
                let a = 1 / (1 + Foundation.exp(-Double(pair.0))), b = 1 / (1 + Foundation.exp(-Double(pair.1)))
                let on = a * Foundation.log(max(a, 1e-300) / max(b, 1e-300))
                let off = (1 - a) * Foundation.log(max(1 - a, 1e-300) / max(1 - b, 1e-300))
                return total + on + off
            }
        }
    }

    @discardableResult @inline(__always)
    private func step(_ model: any StreamingModel, _ x: StepInput) -> UnsafeBufferPointer<Float> {
        switch x {
        case .features(let f): model.step(f)
        case .event(let e): model.step(event: e)
        }
    }

    private func input(for model: any StreamingModel, _ rng: inout SeededRandom) -> StepInput {
        if reference != nil {
            var x = FeatureList(oneHot: Int(rng.next() % 128))
            for _ in 0..<3 { x.append(128 + Int(rng.next() % 64)) }
            return .features(x)
        }
        if model.readsBars { return .event(Int(rng.next() % UInt64(model.outputSize))) }
        return .features(FeatureList(oneHot: Int(rng.next() % UInt64(model.inputSize))))
    }

    struct Result {
        var warm: [Double]
        var cold: [Double]
        /// Cold steps readied (untimed, `prefetch()`: the step's data read and a step rehearsed, three times) after the cache walk, as the daemon
        /// can do in the idle time before a step boundary.
        var prefetched: [Double]
        /// How long each of those `prefetch()` calls took: the idle time the daemon spends readying a step.
        var readying: [Double]
        /// The fixed loop's times, one after each warm step (empty with fewer than 20 warm-up steps).
        var fixedLoop: [Double]
        /// How often this core was taken away in a second measured right after the warm steps (nil with
        /// fewer than 20 warm-up steps): what puts a p99 at the machine's mercy (see `interruptedPercent`).
        var interruptions: (perSecond: Double, medianMicroseconds: Double, p90Microseconds: Double)?
    }

    private func measure(_ model: any StreamingModel, _ inputs: [StepInput]) -> Result {
        // A NADE chain's step is not done until its frame is drawn (its links run W and V): time both.
        let chain = model.chain
        var rng = SeededRandom(seed: seed &+ 0xC4A1)
        @inline(__always) func step(_ x: StepInput) {
            let logits = self.step(model, x)
            if let chain { _ = chain.sample(logits.baseAddress!, temperature: 1, topP: 1, rng: &rng) }
        }
        model.reset()
        let warmupTimes = (0..<warmup).map { k in Self.microseconds { step(inputs[k]) } }
        // A fixed loop as long as the warm-up's median step, timed after each step: what this machine does to
        // any work of that length in the same minutes, so a p99 can be read against the machine's own.
        let loopIterations = warmup >= 20 ? Self.iterations(lasting: Summary(Array(warmupTimes[(warmup / 2)...])).median) : 0
        var warm = [Double](repeating: 0, count: steps), loop = [Double](repeating: 0, count: loopIterations > 0 ? steps : 0)
        for k in 0..<steps {
            warm[k] = Self.microseconds { step(inputs[warmup + k]) }
            if loopIterations > 0 { loop[k] = Self.microseconds { _ = MachineLimits.fixedWork(iterations: loopIterations) } }
        }
        let interruptions = loopIterations > 0 ? MachineLimits.interruptions(seconds: 1) : nil
        // The walk writes one byte per 64-byte line of a buffer the size of L3, evicting the weights from L1,
        // L2 and most of L3 before each cold step.
        let flushBytes = 32 << 20
        let flush = UnsafeMutablePointer<UInt8>.allocate(capacity: flushBytes)
        flush.initialize(repeating: 0, count: flushBytes)
        defer { flush.deallocate() }
        var cold = [Double](repeating: 0, count: coldSteps)
        var prefetched = [Double](repeating: 0, count: coldSteps), readying = prefetched
        for k in 0..<(2 * coldSteps) {
            var line = 0
            while line < flushBytes { flush[line] &+= 1; line += 64 }
            // Alternate plain and prefetched cold steps so both see the same conditions.
            if k % 2 == 1 { readying[k / 2] = Self.microseconds { model.prefetch() } }
            let us = Self.microseconds { step(inputs[warmup + steps + k / 2]) }
            if k % 2 == 0 { cold[k / 2] = us } else { prefetched[k / 2] = us }
        }
        return Result(warm: warm, cold: cold, prefetched: prefetched, readying: readying, fixedLoop: loop,
                      interruptions: interruptions)
    }

    /// How long `body` took, in µs.
    @inline(__always) private static func microseconds(_ body: () -> Void) -> Double {
        let t0 = MonotonicClock.nanoseconds()
        body()
        return Double(MonotonicClock.nanoseconds() - t0) / 1000
    }

    /// The share of steps of this length an interruption lands in, at `perSecond` of them: when it nears 1%,
    /// a p99 is the length of an interrupted step (the step plus tens of µs on a virtual machine's timer tick).
    static func interruptedPercent(_ perSecond: Double, stepMicroseconds: Double) -> Double {
        100 * perSecond * stepMicroseconds * 1e-6
    }

    /// Iterations of `MachineLimits.fixedWork` that take `microseconds`, from the fastest of a few timed runs.
    private static func iterations(lasting microseconds: Double) -> Int {
        let probe = 200_000
        let fastest = (0..<5).map { _ in Self.microseconds { _ = MachineLimits.fixedWork(iterations: probe) } }.min()!
        return Swift.max(1, Int(microseconds / (fastest / Double(probe))))
    }

    struct Summary {
        var median, p99, max, min, mean: Double
        init(_ samples: [Double]) {
            let s = samples.sorted()
            guard !s.isEmpty else { median = 0; p99 = 0; max = 0; min = 0; mean = 0; return }
            func percentile(_ q: Double) -> Double {
                // Linear interpolation between closest ranks, as numpy.percentile does.
                let pos = q * Double(s.count - 1)
                let lo = Int(pos.rounded(.down)), hi = Swift.min(lo + 1, s.count - 1)
                return s[lo] + (s[hi] - s[lo]) * (pos - Double(lo))
            }
            median = percentile(0.5)
            p99 = percentile(0.99)
            max = s.last!
            min = s.first!
            mean = s.reduce(0, +) / Double(s.count)
        }
    }

    /// Whether the products are 8-bit (int8, and int8-wide-attention's all but a transformer's attention).
    private var int8Products: Bool { Precision(rawValue: precision)?.products == .int8 }

    /// Whether the C kernels' AVX-512 (and, for int8, VNNI) paths run here; otherwise the Swift / AVX2 forms do.
    private var avx512Kernels: Bool {
        int8Products ? KernelSupport.int8VNNI : KernelSupport.avx512
    }

    private var kernelDescription: String {
        let pointwise = KernelSupport.avx512 ? "AVX-512 gates and scores" : "AVX2 gates and scores (no AVX-512 on this CPU)"
        let products = int8Products ? "\(precision) products on \(KernelSupport.int8Kernel)" : "\(precision) products on AVX2"
        return products + ", " + pointwise
    }

    private func report(_ result: Result, _ drift: Drift?, limits: StepLimits?, label: String, model: any StreamingModel, precision: Precision) {
        let w = Summary(result.warm), c = Summary(result.cold), pc = Summary(result.prefetched)
        let readying = Summary(result.readying)
        let loop = result.fixedLoop.isEmpty ? nil : Summary(result.fixedLoop)
        func f(_ x: Double) -> String { String(format: "%.2f", x) }
        if json {
            var fields: [(String, String)] = [
                ("model", "\"\(label)\""), ("family", "\"\(model.family.rawValue)\""),
                ("precision", "\"\(precision.rawValue)\""), ("avx512", "\(avx512Kernels)"),
                ("int8_kernel", "\"\(KernelSupport.int8Kernel)\""),
                ("median_us", f(w.median)), ("p99_us", f(w.p99)), ("max_us", f(w.max)), ("min_us", f(w.min)),
                ("mean_us", f(w.mean)), ("steps", "\(steps)"), ("warmup", "\(warmup)"),
                ("cold_median_us", f(c.median)), ("cold_p99_us", f(c.p99)), ("cold_max_us", f(c.max)),
                ("cold_steps", "\(coldSteps)"),
                ("prefetched_cold_median_us", f(pc.median)), ("prefetched_cold_p99_us", f(pc.p99)),
                ("prefetched_cold_max_us", f(pc.max)), ("prefetch_median_us", f(readying.median)),
                ("prefetch_p99_us", f(readying.p99)), ("cold_flush_bytes", "\(32 << 20)"),
            ]
            if let l = loop {
                fields += [("fixed_loop_median_us", f(l.median)), ("fixed_loop_p99_us", f(l.p99)),
                           ("fixed_loop_p99_over_median", f(l.p99 / l.median)), ("p99_over_median", f(w.p99 / w.median))]
            }
            if let i = result.interruptions {
                fields += [("interruptions_per_s", String(format: "%.0f", i.perSecond)), ("interruption_median_us", f(i.medianMicroseconds)),
                           ("interruption_p90_us", f(i.p90Microseconds)),
                           ("steps_interrupted_percent", f(Self.interruptedPercent(i.perSecond, stepMicroseconds: w.median))),
                           ("prefetched_cold_steps_interrupted_percent", f(Self.interruptedPercent(i.perSecond, stepMicroseconds: pc.median)))]
            }
            if let limits {
                fields += [("weight_bytes", "\(limits.bytes)"), ("multiply_adds", "\(limits.multiplyAdds)"),
                           ("read_limit_us", f(limits.readMicroseconds)), ("compute_limit_us", f(limits.computeMicroseconds)),
                           ("limit_us", f(limits.floor)), ("median_over_limit", String(format: "%.2f", w.median / limits.floor))]
            }
            if let drift {
                fields += [("vs_fp32_max_abs_logit", String(format: "%.3g", drift.maxLogit)),
                           ("vs_fp32_mean_kl_nats", String(format: "%.3g", drift.meanKL)), ("vs_fp32_steps", "\(drift.steps)")]
            }
            print("{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}")
        } else {
            print("\(label), \(precision.rawValue), \(model.inputSize) inputs, \(model.outputSize) outputs, "
                  + kernelDescription
                  + (model.chain != nil ? "; each step includes drawing its frame from the NADE chain" : "")
                  + ((model as? Transformer).map { "; a step is one token, attending over the last \($0.config.window) (its KV cache)" } ?? ""))
            print("warm: median \(f(w.median)) us, p99 \(f(w.p99)) us, max \(f(w.max)) us  (\(steps) steps after \(warmup) warm-up)")
            if let l = loop {
                print("this machine: a memory-free loop as long as a step, timed after each: median \(f(l.median)) us, p99 \(f(l.p99)) us "
                      + "(\(f(l.p99 / l.median))x its median; the step's p99 is \(f(w.p99 / w.median))x its median)")
            }
            if let i = result.interruptions {
                let hit = Self.interruptedPercent(i.perSecond, stepMicroseconds: w.median)
                print("this core was taken away \(String(format: "%.0f", i.perSecond)) times a second (timer ticks, the hypervisor), for a median "
                      + "\(f(i.medianMicroseconds)) us, 90% within \(f(i.p90Microseconds)) us: about \(f(hit))% of steps this long meet one"
                      + (hit >= 0.7 ? ", so the p99 rests on which steps they land in" : ""))
            }
            print("cold: median \(f(c.median)) us, p99 \(f(c.p99)) us, max \(f(c.max)) us  (\(coldSteps) steps, each after a 32 MiB cache walk)")
            print("cold after prefetch(): median \(f(pc.median)) us, p99 \(f(pc.p99)) us, max \(f(pc.max)) us  (the same walk, then prefetch(): the step's data read and a step rehearsed, three times, untimed)")
            print("prefetch() itself after the walk: median \(f(readying.median)) us, p99 \(f(readying.p99)) us  (the idle time the daemon spends readying each step)")
            if let limits {
                print(String(format: "limit here: %.2f MB of dense weights read from cache in %.1f us (%.0f GB/s), %.2f M multiply-adds in %.1f us "
                             + "(the %@ loop from registers, %.1f G/s); the median is %.2fx the larger",
                             Double(limits.bytes) / 1e6, limits.readMicroseconds, Double(limits.bytes) / limits.readMicroseconds / 1e3,
                             Double(limits.multiplyAdds) / 1e6, limits.computeMicroseconds, precision.rawValue,
                             Double(limits.multiplyAdds) / limits.computeMicroseconds / 1e3, w.median / limits.floor))
            }
            if let drift {
                print(String(format: "vs fp32: max |logit difference| %.3g, mean KL %.3g nats/step (%d steps)",
                             drift.maxLogit, drift.meanKL, drift.steps))
            }
        }
    }
}

/// The least a step could take on this core: its dense weights read once from cache (where they sit between
/// back-to-back steps), or its multiply-adds at the precision's inner-loop rate, whichever is longer. Both are
/// measured here and now (machine_limits.c), so the ratio to the step's median carries between machines.
struct StepLimits {
    let bytes: Int
    let multiplyAdds: Int
    let readMicroseconds: Double
    let computeMicroseconds: Double
    var floor: Double { max(readMicroseconds, computeMicroseconds) }

    init?(_ model: any StreamingModel, _ precision: Precision) {
        let before = Matrix.touchedTotals
        model.touchStepData()
        let after = Matrix.touchedTotals
        (bytes, multiplyAdds) = (after.bytes - before.bytes, after.multiplyAdds - before.multiplyAdds)
        let read = MachineLimits.readSeconds(bytes: bytes), rate = MachineLimits.multiplyAddsPerSecond(precision)
        guard bytes > 0, read > 0, rate > 0 else { return nil }
        readMicroseconds = read * 1e6
        computeMicroseconds = Double(multiplyAdds) / rate * 1e6
    }
}
