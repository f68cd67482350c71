import Foundation

/// Settings of one training run.
public struct TrainingOptions: Sendable {
    public var epochs = 20
    public var batch = 64
    public var steps = 64
    public var learningRate: Float = 1e-3
    public var clipNorm: Float = 5
    public var seed: UInt64 = 1
    /// Random transposition per piece and epoch, uniform in ±transpose semitones (0: none).
    public var transpose = 5
    /// Stop after this many epochs without a better validation NLL.
    public var patience = 3
    /// Stop (after finishing the current chunk, then validating) once this many seconds have passed.
    public var timeLimit: Double? = nil
    /// Chunks per epoch at most (nil: the whole training set).
    public var chunksPerEpoch: Int? = nil
    /// The learning rate is multiplied by this after each epoch that does not improve the validation NLL
    /// (1: constant).
    public var learningRateDecay: Float = 1
    /// Validate and keep an exponential moving average of the weights with this decay per update (nil: the
    /// weights themselves).
    public var averageDecay: Float? = nil
    /// A style-conditioned model trains this share of its pieces (drawn per piece and epoch) without their
    /// style, so it also plays when no style is chosen, and for a style it never heard.
    public var styleDropout = 0.15
    /// Cores the chunks are spread over, as data-parallel shards of the batch (DataParallelStep); 1 runs the
    /// plain loop.
    public var threads = 1

    public init() {}
}

/// A report after each chunk, for the progress line.
public struct TrainingProgress: Sendable {
    public var epoch: Int
    public var chunk: Int
    public var chunksPerEpoch: Int
    public var loss: Double
    public var sampleStepsPerSecond: Double
    public var elapsed: Double
    public var totalEpochs: Int
    /// Chunks trained since this run (or resume) started, for the ETA.
    public var chunksThisRun: Int
}

/// A finished epoch.
public struct EpochResult: Sendable, Equatable {
    public var epoch: Int
    public var trainNLL: Double
    public var validNLL: Double
    public var improved: Bool

    /// A run's epochs as a checkpoint's `history` metadata, and back.
    static func text(_ history: [EpochResult]) -> String {
        history.map { "\($0.epoch):\($0.trainNLL):\($0.validNLL):\($0.improved ? 1 : 0)" }.joined(separator: ",")
    }

    static func history(_ text: String) -> [EpochResult] {
        text.split(separator: ",").compactMap { item in
            let f = item.split(separator: ":")
            guard f.count == 4, let e = Int(f[0]), let t = Double(f[1]), let v = Double(f[2]) else { return nil }
            return EpochResult(epoch: e, trainNLL: t, validNLL: v, improved: f[3] == "1")
        }
    }
}

/// The training loop: shuffled, transposed pieces in streams, truncated BPTT chunks, Adam with global-norm
/// clipping, validation after each epoch, early stopping and checkpoints at epoch boundaries.
///
/// Every random choice of epoch e derives from (seed, e), and state restarts at each epoch, so a run resumed
/// from the checkpoint after epoch e continues exactly as the uninterrupted run would have.
public final class Trainer {
    public let model: any TrainableModel
    public let optimizer: Adam
    public let average: WeightAverage?
    public let encoding: SequenceEncoding
    public let options: TrainingOptions
    /// Forward and backward over a chunk, on `options.threads` cores.
    public let step: DataParallelStep
    let train: [TrainingPiece]
    let validEncoded: [EncodedPiece]
    public private(set) var epoch = 0
    public private(set) var bestValidNLL = Double.infinity
    public private(set) var epochsSinceBest = 0
    public private(set) var history: [EpochResult] = []
    /// The weights at the best validation NLL so far.
    public private(set) var best: WeightSet

    public init(model: any TrainableModel, encoding: SequenceEncoding, train: [TrainingPiece], valid: [TrainingPiece],
                options: TrainingOptions) {
        self.model = model
        self.encoding = encoding
        self.options = options
        self.train = train
        validEncoded = valid.map { encoding.encode($0) }
        step = DataParallelStep(master: model, batch: options.batch, maxSteps: options.steps, threads: options.threads)
        optimizer = Adam(model.parameters, learningRate: options.learningRate, clipNorm: options.clipNorm)
        average = options.averageDecay.map { WeightAverage(model.parameters, decay: $0) }
        best = model.weights()
    }

    /// Mean NLL per predicted step (nats) over encoded pieces, no dropout.
    public static func evaluate(_ model: any TrainableModel, _ pieces: [EncodedPiece], batch: Int, steps: Int) -> (nll: Double, steps: Int) {
        DataParallelStep(master: model, batch: batch, maxSteps: steps, threads: 1).evaluate(pieces, batch: batch, steps: steps)
    }

    public func validate() -> Double {
        step.evaluate(validEncoded, batch: options.batch, steps: options.steps).nll
    }

    /// Trains until the epochs are done, patience runs out, or the time limit passes. `checkpoint` is called
    /// after every epoch with the state to save.
    public func run(progress: (TrainingProgress) -> Void = { _ in }, checkpoint: (WeightSet) throws -> Void = { _ in }) throws {
        let start = Date()
        var stop = false
        var chunksThisRun = 0
        while epoch < options.epochs, epochsSinceBest < options.patience, !stop {
            var rng = TrainingRandom(seed: options.seed &* 0x9E37_79B9 &+ UInt64(epoch) &* 0x1_0000_0001)
            let pieces = epochPieces(&rng)
            let batcher = StreamBatcher(pieces, batch: options.batch, steps: options.steps)
            let chunks = min(batcher.chunkCount, options.chunksPerEpoch ?? .max)
            step.resetState()
            var lossSum = 0.0, lossSteps = 0, done = 0
            let epochStart = Date()
            var sampleSteps = 0
            for chunk in batcher.chunks() {
                if done == chunks { break }
                let predicted = chunk.predictedSteps
                guard predicted > 0 else { done += 1; continue }
                lossSum += trainChunk(chunk, &rng)
                lossSteps += predicted
                sampleSteps += chunk.rows
                done += 1
                chunksThisRun += 1
                let elapsed = Date().timeIntervalSince(epochStart)
                progress(TrainingProgress(epoch: epoch, chunk: done, chunksPerEpoch: chunks, loss: lossSum / Double(lossSteps),
                                          sampleStepsPerSecond: Double(sampleSteps) / max(elapsed, 1e-9),
                                          elapsed: Date().timeIntervalSince(start), totalEpochs: options.epochs,
                                          chunksThisRun: chunksThisRun))
                if let limit = options.timeLimit, Date().timeIntervalSince(start) > limit { stop = true; break }
            }
            // The average, when kept, is what is validated and saved; training goes on from the raw weights.
            average?.swapIntoParameters()
            let valid = validate()
            let improved = valid < bestValidNLL
            if improved {
                bestValidNLL = valid
                epochsSinceBest = 0
                best = model.weights()
            }
            average?.swapIntoParameters()
            if !improved {
                epochsSinceBest += 1
                optimizer.learningRate *= options.learningRateDecay
            }
            history.append(EpochResult(epoch: epoch, trainNLL: lossSum / Double(max(lossSteps, 1)), validNLL: valid, improved: improved))
            epoch += 1
            try checkpoint(checkpointState())
        }
    }

    /// Forward, loss, backward and one Adam update; returns the chunk's summed NLL.
    func trainChunk(_ chunk: TrainingChunk, _ rng: inout TrainingRandom) -> Double {
        // Normalised by the chunk's capacity, not its predicted steps: the last chunk of an epoch is mostly
        // padding, and a mean over its few rows would give Adam a full-size step from a handful of samples
        // (measured: validation NLL jumped from 1.31 to 1.58 after such an epoch end).
        let loss = step.gradient(chunk, scale: 1 / Float(chunk.rows), rng: &rng)
        optimizer.update()
        average?.update()
        return loss
    }

    /// This epoch's pieces: shuffled, each moved by a random transposition that keeps it in range (and for
    /// a style-conditioned model, some without their style).
    func epochPieces(_ rng: inout TrainingRandom) -> [EncodedPiece] {
        var order = Array(train.indices)
        order.shuffle(using: &rng)
        let styled = encoding.config.conditioning?.hasStyles == true
        return order.map { i in
            let k = options.transpose
            let shift = k > 0 ? Int(rng.next() % UInt64(2 * k + 1)) - k : 0
            var piece = encoding.transposed(train[i], by: shift) ?? train[i]
            if styled, Double(rng.next() % 1_000_000) < options.styleDropout * 1_000_000 {
                piece = piece.droppingConditionUnits(from: Conditioning.firstStyleUnit)
            }
            return encoding.encode(piece)
        }
    }

    // MARK: checkpoints

    /// Model, optimizer moments, the best weights and the loop's counters.
    public func checkpointState() -> WeightSet {
        var set = model.weights()
        optimizer.state(into: &set)
        average?.state(into: &set)
        for (name, t) in best.tensors { set.tensors["best.\(name)"] = t }
        set.metadata["epoch"] = "\(epoch)"
        set.metadata["best_valid_nll"] = "\(bestValidNLL)"
        set.metadata["epochs_since_best"] = "\(epochsSinceBest)"
        set.metadata["history"] = EpochResult.text(history)
        return set
    }

    /// Continues from a checkpoint written by `checkpointState`.
    public func resume(from set: WeightSet) throws(WeightsError) {
        let modelTensors = set.tensors.filter { !$0.key.hasPrefix("adam.") && !$0.key.hasPrefix("best.") && !$0.key.hasPrefix("average.") }
        try model.load(WeightSet(tensors: modelTensors, metadata: set.metadata))
        try optimizer.restore(from: set)
        try average?.restore(from: set)
        guard let e = set.metadata["epoch"].flatMap({ Int($0) }), e >= 0,
              let b = set.metadata["best_valid_nll"].flatMap({ Double($0) }),
              let s = set.metadata["epochs_since_best"].flatMap({ Int($0) })
        else { throw WeightsError("checkpoint lacks its epoch counters") }
        epoch = e
        bestValidNLL = b
        epochsSinceBest = s
        var bestSet = WeightSet(metadata: model.configuration.metadata)
        for (name, t) in set.tensors where name.hasPrefix("best.") { bestSet.tensors[String(name.dropFirst(5))] = t }
        best = bestSet.tensors.isEmpty ? model.weights() : bestSet
        history = EpochResult.history(set.metadata["history"] ?? "")
    }
}
