import Foundation

/// Settings of one MidiNet training run (MidiNet's: Adam at 2e-4 with β1 0.5, two generator updates per
/// discriminator update).
public struct MidiNetOptions: Sendable {
    public var epochs = 20
    public var batch = 64
    public var learningRate: Float = 2e-4
    public var beta1: Float = 0.5
    public var generatorUpdates = 2
    public var seed: UInt64 = 1
    /// A random transposition per bar and epoch within ±transpose semitones (one that would leave the range
    /// is not taken), so every chord root is heard.
    public var transpose = 6
    public var timeLimit: Double? = nil

    public init() {}
}

/// What a set of bars is like, for comparing generated bars with real ones.
public struct BarFigures: Sendable, Equatable {
    public var bars = 0
    /// Struck notes per bar.
    public var onsetsPerBar = Double.nan
    /// The share of struck notes whose pitch class is in the bar's triad (bars with a chord).
    public var notesInChord = Double.nan
    /// Distinct bars among them, per 100 bars.
    public var distinctPer100 = Double.nan
    /// Bars with no note struck, as a share.
    public var silentBars = Double.nan

    public init() {}

    public init(_ lines: [[Int]], chords: [MidiNetChord?], config: MidiNetConfig) {
        self.init(lines, chords: chords, pitch: config.pitch(of:))
    }

    /// Bars in any event classes, `pitch` telling which strike which pitch.
    public init(_ lines: [[Int]], chords: [MidiNetChord?], pitch: (Int) -> Int?) {
        bars = lines.count
        guard !lines.isEmpty else { return }
        var onsets = 0, inChord = 0, judged = 0, silent = 0
        for (line, chord) in zip(lines, chords) {
            let struck = line.compactMap(pitch)
            onsets += struck.count
            if struck.isEmpty { silent += 1 }
            guard let chord else { continue }
            judged += struck.count
            inChord += struck.filter { chord.triad & (1 << ($0 % 12)) != 0 }.count
        }
        onsetsPerBar = Double(onsets) / Double(lines.count)
        notesInChord = judged > 0 ? Double(inChord) / Double(judged) : .nan
        distinctPer100 = 100 * Double(Set(lines).count) / Double(lines.count)
        silentBars = Double(silent) / Double(lines.count)
    }
}

/// An epoch's figures: the two losses and the discriminator's scores over training, and the generated
/// bars against the held-out ones (the held-out chords and previous bars, one noise each).
public struct MidiNetReport: Sendable, Equatable {
    public var discriminatorLoss = Double.nan
    public var generatorAdversarial = Double.nan
    public var featureMatching = Double.nan
    /// Mean probability the discriminator gives real and generated bars of being real.
    public var realScore = Double.nan
    public var fakeScore = Double.nan
    public var generated = BarFigures()
    public var real = BarFigures()
    /// Distinct bars among 100 drawn for one chord (C) after no bar: the mode-collapse check.
    public var distinctForOneChord = Double.nan

    public init() {}
}

/// MidiNet training: shuffled bars, each transposed at random per epoch; per batch one discriminator update
/// then `generatorUpdates` generator updates (fresh noise each); checkpoints at epoch ends that resume
/// exactly. A GAN has no held-out loss to choose an epoch by, so the model is the last epoch's.
public final class MidiNetTrainer {
    public let model: TrainableMidiNet
    public let generatorOptimizer: Adam, discriminatorOptimizer: Adam
    public let options: MidiNetOptions
    let train: [MidiNetBar], valid: [MidiNetBar]
    public private(set) var epoch = 0
    public private(set) var reports: [MidiNetReport] = []

    public init(model: TrainableMidiNet, train: [MidiNetBar], valid: [MidiNetBar], options: MidiNetOptions) {
        precondition(options.batch == model.batch)
        self.model = model
        self.train = train
        self.valid = valid
        self.options = options
        generatorOptimizer = Adam(model.generator.trainable, learningRate: options.learningRate, beta1: options.beta1, clipNorm: 1e6)
        discriminatorOptimizer = Adam(model.discriminator.trainable, learningRate: options.learningRate, beta1: options.beta1, clipNorm: 1e6)
    }

    public func run(progress: (TrainingProgress) -> Void = { _ in }, epochDone: (MidiNetReport, WeightSet) throws -> Void = { _, _ in }) throws {
        let start = Date()
        var stop = false
        var batchesThisRun = 0
        while epoch < options.epochs, !stop {
            var rng = TrainingRandom(seed: options.seed &* 0x9E37_79B9 &+ UInt64(epoch) &* 0x1_0000_0001)
            let bars = epochBars(&rng)
            let batches = bars.count / options.batch
            var report = MidiNetReport()
            var sums = (d: 0.0, g: 0.0, m: 0.0, real: 0.0, fake: 0.0)
            let epochStart = Date()
            var done = 0
            for k in 0..<batches {
                model.set(Array(bars[(k * options.batch)..<((k + 1) * options.batch)]))
                model.discriminator.zeroGradients()
                model.drawNoise(&rng)
                let d = model.discriminatorPass(train: true)
                discriminatorOptimizer.update()
                var g = (loss: 0.0, adversarial: 0.0, matching: 0.0)
                for _ in 0..<options.generatorUpdates {
                    model.generator.zeroGradients()
                    model.drawNoise(&rng)
                    g = model.generatorPass(train: true)
                    generatorOptimizer.update()
                }
                sums.d += d.loss
                sums.g += g.adversarial
                sums.m += g.matching
                sums.real += d.realScore
                sums.fake += d.fakeScore
                done += 1
                batchesThisRun += 1
                let elapsed = Date().timeIntervalSince(epochStart)
                progress(TrainingProgress(epoch: epoch, chunk: k + 1, chunksPerEpoch: batches, loss: sums.d / Double(done),
                                          sampleStepsPerSecond: Double(done * options.batch * model.config.stepsPerBar) / max(elapsed, 1e-9),
                                          elapsed: Date().timeIntervalSince(start), totalEpochs: options.epochs,
                                          chunksThisRun: batchesThisRun))
                if let limit = options.timeLimit, Date().timeIntervalSince(start) > limit { stop = true; break }
            }
            let n = Double(max(done, 1))
            (report.discriminatorLoss, report.generatorAdversarial, report.featureMatching, report.realScore, report.fakeScore) =
                (sums.d / n, sums.g / n, sums.m / n, sums.real / n, sums.fake / n)
            Self.judge(model.generator.weights(), valid, into: &report)
            reports.append(report)
            epoch += 1
            try epochDone(report, checkpointState())
        }
    }

    /// The generated bars' figures against the held-out bars' own, and the mode-collapse check.
    public static func judge(_ weights: WeightSet, _ bars: [MidiNetBar], seed: UInt64 = 7, into report: inout MidiNetReport) {
        guard let net = try? MidiNet(weights, bars: 100) else { return }
        var rng = SeededRandom(seed: seed)
        var generated: [[Int]] = []
        var start = 0
        while start < bars.count {
            let slice = Array(bars[start..<min(bars.count, start + 100)])
            generated += net.generate(chords: slice.map(\.chord), previous: slice.map(\.previous), temperature: 0, rng: &rng)
            start += slice.count
        }
        report.generated = BarFigures(generated, chords: bars.map(\.chord), config: net.config)
        report.real = BarFigures(bars.map(\.steps), chords: bars.map(\.chord), config: net.config)
        let c = MidiNetChord(root: 0, minor: false)
        let hundred = net.generate(chords: Array(repeating: c, count: 100), previous: Array(repeating: nil, count: 100),
                                   temperature: 0, rng: &rng)
        report.distinctForOneChord = Double(Set(hundred).count)
    }

    /// This epoch's bars, shuffled, each moved by a random transposition that keeps it in range.
    func epochBars(_ rng: inout TrainingRandom) -> [MidiNetBar] {
        var order = Array(train.indices)
        order.shuffle(using: &rng)
        let k = options.transpose
        return order.map { i in
            guard k > 0 else { return train[i] }
            let shift = Int(rng.next() % UInt64(2 * k + 1)) - k
            return train[i].transposed(shift, model.config) ?? train[i]
        }
    }

    // MARK: checkpoints

    public func checkpointState() -> WeightSet {
        var set = model.weights()
        var g = WeightSet(), d = WeightSet()
        generatorOptimizer.state(into: &g)
        discriminatorOptimizer.state(into: &d)
        for (name, t) in g.tensors { set.tensors["generator_\(name)"] = t }
        for (name, t) in d.tensors { set.tensors["discriminator_\(name)"] = t }
        set.metadata["generator_adam_step"] = g.metadata["adam_step"]
        set.metadata["discriminator_adam_step"] = d.metadata["adam_step"]
        set.metadata["epoch"] = "\(epoch)"
        return set
    }

    public func resume(from set: WeightSet) throws(WeightsError) {
        let own = set.tensors.filter { !$0.key.contains("adam.") }
        try model.load(WeightSet(tensors: own, metadata: set.metadata))
        for (optimizer, prefix) in [(generatorOptimizer, "generator_"), (discriminatorOptimizer, "discriminator_")] {
            var state = WeightSet()
            for (name, t) in set.tensors where name.hasPrefix(prefix + "adam.") { state.tensors[String(name.dropFirst(prefix.count))] = t }
            state.metadata["adam_step"] = set.metadata[prefix + "adam_step"]
            try optimizer.restore(from: state)
        }
        guard let e = set.metadata["epoch"].flatMap({ Int($0) }), e >= 0 else { throw WeightsError("checkpoint lacks its epoch") }
        epoch = e
    }
}
