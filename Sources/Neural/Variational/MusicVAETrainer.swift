import Foundation

/// Settings of one MusicVAE training run.
public struct MusicVAEOptions: Sendable {
    public var epochs = 20
    public var batch = 64
    public var learningRate: Float = 1e-3
    public var clipNorm: Float = 5
    public var seed: UInt64 = 1
    /// Melody phrases: a random transposition per phrase and epoch within ±transpose semitones (classes at or
    /// above `firstPitchIndex` move; a phrase that would leave the vocabulary stays). Drums: none.
    public var transpose = 0
    public var firstPitchIndex = 2
    public var patience = 3
    public var timeLimit: Double? = nil
    /// Multiply the learning rate by this after each epoch without a better validation loss.
    public var learningRateDecay: Float = 1
    /// Cores each batch is spread over, as shards of its phrases (1: the plain loop).
    public var threads = 1

    public init() {}
}

/// What a MusicVAE does on held-out phrases, as the paper reports it: reconstruction NLL, KL per bar, and how
/// many steps come back right, teacher-forced and when the decoder is fed its own (argmax) output.
public struct MusicVAEReport: Sendable, Equatable {
    public var phrases = 0
    /// Reconstruction NLL per step (nats), with z drawn from the posterior.
    public var nllPerStep = Double.nan
    public var klPerBar = Double.nan
    /// The training objective per step: NLL + β·max(KL − free bits, 0), β at its final value.
    public var lossPerStep = Double.nan
    public var teacherForcedAccuracy = Double.nan
    public var sampledAccuracy = Double.nan
}

/// MusicVAE training: shuffled phrases in batches, Adam with global-norm clipping, β annealed per update,
/// validation after each epoch (the objective at the final β chooses the best), early stopping and
/// checkpoints at epoch boundaries that resume exactly, as `Trainer` does for the streaming families.
/// (Unchecked Sendable: a batch's shards run at once, each touching only its own replica and result slot.)
public final class MusicVAETrainer: @unchecked Sendable {
    public let model: TrainableMusicVAE
    /// Phrases of the batch each shard trains, and the shards' replicas (none with one thread).
    public let lanes: [Range<Int>]
    let replicas: [TrainableMusicVAE]
    let shards: GradientShards?
    private let shardPasses: UnsafeMutableBufferPointer<MusicVAEPass>
    public let optimizer: Adam
    public let options: MusicVAEOptions
    let train: [[Int]], valid: [[Int]]
    public private(set) var epoch = 0
    public private(set) var bestValidLoss = Double.infinity
    public private(set) var epochsSinceBest = 0
    public private(set) var history: [EpochResult] = []
    public private(set) var reports: [MusicVAEReport] = []
    public private(set) var best: WeightSet
    /// The validation report of the best epoch of this run (nil before one, and for a resumed run's earlier best).
    public private(set) var bestReport: MusicVAEReport?

    public init(model: TrainableMusicVAE, train: [[Int]], valid: [[Int]], options: MusicVAEOptions) {
        precondition(options.batch == model.batch)
        self.model = model
        self.train = train
        self.valid = valid
        self.options = options
        optimizer = Adam(model.parameters, learningRate: options.learningRate, clipNorm: options.clipNorm)
        best = model.weights()
        let n = max(1, min(options.threads, options.batch))
        lanes = GradientShards.lanes(batch: options.batch, threads: n)
        replicas = n == 1 ? [] : lanes.map { TrainableMusicVAE(model.config, batch: $0.count, seed: 0) }
        shards = n == 1 ? nil : GradientShards(master: model.parameters, shards: replicas.map(\.parameters))
        shardPasses = .allocate(capacity: n)
        shardPasses.initialize(repeating: MusicVAEPass())
    }

    deinit { shardPasses.deallocate() }

    /// Zeroes the gradients, then one training pass over the batch that leaves the mean loss's gradient per
    /// phrase in the model's parameters: on the model itself, or split over the shards (each draws its ε from
    /// its own seed) and summed.
    func trainPass(_ batch: [[Int]], beta: Float, rng: inout TrainingRandom) -> MusicVAEPass {
        guard let shards else {
            model.zeroGradients()
            var draw: TrainingRandom? = rng
            let r = model.pass(batch, beta: beta, train: true, rng: &draw)
            rng = draw!
            return r
        }
        let seed = rng.next(), scale = 1 / Float(batch.count)
        shards.onEveryShard { k in
            shards.zeroGradients(ofShard: k)
            let mine = Array(batch[min(batch.count, self.lanes[k].lowerBound)..<min(batch.count, self.lanes[k].upperBound)])
            guard !mine.isEmpty else { self.shardPasses[k] = MusicVAEPass(); return }
            var draw: TrainingRandom? = TrainingRandom(seed: GradientShards.seed(seed, shard: k))
            self.shardPasses[k] = self.replicas[k].pass(mine, beta: beta, train: true, rng: &draw, gradientScale: scale)
        }
        shards.sumIntoMaster()
        return shardPasses.reduce(MusicVAEPass(), +)
    }

    /// Held-out figures; z is drawn with a fixed seed so the same weights give the same report.
    public static func evaluate(_ model: TrainableMusicVAE, _ phrases: [[Int]], sampled: Bool = true) -> MusicVAEReport {
        let config = model.config
        var rng: TrainingRandom? = TrainingRandom(seed: 0)
        var nll = 0.0, kl = 0.0, loss = 0.0, right = 0, sampledRight = 0
        var start = 0
        while start < phrases.count {
            let batch = Array(phrases[start..<min(phrases.count, start + model.batch)])
            start += batch.count
            let r = model.pass(batch, beta: config.beta, train: false, rng: &rng)
            nll += r.nll
            kl += r.kl
            right += r.right
            loss += r.nll + Double(config.beta) * r.klPastFreeBits
            guard sampled else { continue }
            // z as the pass drew it: decode with the model's own argmax fed back.
            let K = config.classes
            let decoded = model.decodeFromZ(batch.count) { _, logits in
                var best = 0
                for k in 1..<K where logits[k] > logits[best] { best = k }
                return best
            }
            for (b, phrase) in batch.enumerated() { sampledRight += zip(decoded[b], phrase).filter { $0 == $1 }.count }
        }
        let steps = Double(phrases.count * config.steps)
        var report = MusicVAEReport()
        report.phrases = phrases.count
        guard !phrases.isEmpty else { return report }
        report.nllPerStep = nll / steps
        report.klPerBar = kl / Double(phrases.count * config.bars)
        report.lossPerStep = loss / steps
        report.teacherForcedAccuracy = Double(right) / steps
        if sampled { report.sampledAccuracy = Double(sampledRight) / steps }
        return report
    }

    public func run(progress: (TrainingProgress) -> Void = { _ in }, checkpoint: (WeightSet) throws -> Void = { _ in }) throws {
        let start = Date()
        var stop = false
        var batchesThisRun = 0
        let config = model.config
        while epoch < options.epochs, epochsSinceBest < options.patience, !stop {
            var rng = TrainingRandom(seed: options.seed &* 0x9E37_79B9 &+ UInt64(epoch) &* 0x1_0000_0001)
            let phrases = epochPhrases(&rng)
            let batches = (phrases.count + options.batch - 1) / options.batch
            var loss = 0.0, steps = 0
            let epochStart = Date()
            for k in 0..<batches {
                let batch = Array(phrases[(k * options.batch)..<min(phrases.count, (k + 1) * options.batch)])
                let beta = config.beta(after: optimizer.step)
                let r = trainPass(batch, beta: beta, rng: &rng)
                optimizer.update()
                loss += r.nll + Double(beta) * r.klPastFreeBits
                steps += batch.count * config.steps
                batchesThisRun += 1
                let elapsed = Date().timeIntervalSince(epochStart)
                progress(TrainingProgress(epoch: epoch, chunk: k + 1, chunksPerEpoch: batches, loss: loss / Double(steps),
                                          sampleStepsPerSecond: Double(steps) / max(elapsed, 1e-9),
                                          elapsed: Date().timeIntervalSince(start), totalEpochs: options.epochs,
                                          chunksThisRun: batchesThisRun))
                if let limit = options.timeLimit, Date().timeIntervalSince(start) > limit { stop = true; break }
            }
            let report = Self.evaluate(model, valid)
            let improved = report.lossPerStep < bestValidLoss
            if improved {
                bestValidLoss = report.lossPerStep
                epochsSinceBest = 0
                best = model.weights()
                bestReport = report
            } else {
                epochsSinceBest += 1
                optimizer.learningRate *= options.learningRateDecay
            }
            reports.append(report)
            history.append(EpochResult(epoch: epoch, trainNLL: loss / Double(max(steps, 1)), validNLL: report.lossPerStep, improved: improved))
            epoch += 1
            try checkpoint(checkpointState())
        }
    }

    /// This epoch's phrases, shuffled, melodies each moved by a random transposition that keeps it in range.
    func epochPhrases(_ rng: inout TrainingRandom) -> [[Int]] {
        var order = Array(train.indices)
        order.shuffle(using: &rng)
        let (k, first, classes) = (options.transpose, options.firstPitchIndex, model.config.classes)
        return order.map { i in
            guard k > 0 else { return train[i] }
            let shift = Int(rng.next() % UInt64(2 * k + 1)) - k
            let fits = train[i].allSatisfy { $0 < first || (first..<classes).contains($0 + shift) }
            return fits ? train[i].map { $0 >= first ? $0 + shift : $0 } : train[i]
        }
    }

    // MARK: checkpoints

    public func checkpointState() -> WeightSet {
        var set = model.weights()
        optimizer.state(into: &set)
        for (name, t) in best.tensors { set.tensors["best.\(name)"] = t }
        set.metadata["epoch"] = "\(epoch)"
        set.metadata["best_valid_loss"] = "\(bestValidLoss)"
        set.metadata["epochs_since_best"] = "\(epochsSinceBest)"
        set.metadata["history"] = EpochResult.text(history)
        return set
    }

    public func resume(from set: WeightSet) throws(WeightsError) {
        let own = set.tensors.filter { !$0.key.hasPrefix("adam.") && !$0.key.hasPrefix("best.") }
        try model.load(WeightSet(tensors: own, metadata: set.metadata))
        try optimizer.restore(from: set)
        guard let e = set.metadata["epoch"].flatMap({ Int($0) }), e >= 0,
              let b = set.metadata["best_valid_loss"].flatMap({ Double($0) }),
              let s = set.metadata["epochs_since_best"].flatMap({ Int($0) })
        else { throw WeightsError("checkpoint lacks its epoch counters") }
        (epoch, bestValidLoss, epochsSinceBest) = (e, b, s)
        var bestSet = WeightSet(metadata: model.metadata)
        for (name, t) in set.tensors where name.hasPrefix("best.") { bestSet.tensors[String(name.dropFirst(5))] = t }
        best = bestSet.tensors.isEmpty ? model.weights() : bestSet
        history = EpochResult.history(set.metadata["history"] ?? "")
    }
}
