import Foundation
import Testing
@testable import Neural

/// The training loop on a tiny corpus: it learns, and resuming from a checkpoint continues exactly.
@Suite struct TrainingLoopTests {
    /// Melodies in event indices (0 no event, 1 off, 2... pitches) that walk up and down a small scale with held
    /// notes: predictable from context, far from their unigram distribution.
    static func corpus(_ count: Int, seed: UInt64) -> [TrainingPiece] {
        var rng = TrainingRandom(seed: seed)
        return (0..<count).map { _ in
            var events: [Int] = []
            var pitch = 4 + Int(rng.next() % 4)
            var direction = 1
            for _ in 0..<24 {
                events.append(2 + pitch)
                events.append(0)
                if pitch >= 12 { direction = -1 } else if pitch <= 3 { direction = 1 }
                pitch += direction * 2
            }
            events.append(1)
            return TrainingPiece(events: events)
        }
    }

    static let config = TrainingModelConfig(family: .basic, data: .events, units: 16, hidden: 24, layers: 1, head: .softmax)

    static func trainer(epochs: Int, seed: UInt64 = 5, average: Float? = nil, threads: Int = 1) -> Trainer {
        var options = TrainingOptions()
        options.threads = threads
        options.averageDecay = average
        options.epochs = epochs
        options.batch = 4
        options.steps = 16
        options.learningRate = 1e-2
        options.transpose = 2
        options.patience = 100
        options.seed = seed
        let model = config.makeModel(batch: options.batch, maxSteps: options.steps, seed: seed)
        return Trainer(model: model, encoding: SequenceEncoding(config, firstPitchIndex: 2), train: corpus(24, seed: 1),
                       valid: corpus(6, seed: 2), options: options)
    }

    /// NLL per step of the train set's event frequencies on the valid targets.
    static func unigramNLL() -> Double {
        let encoding = SequenceEncoding(config, firstPitchIndex: 2)
        var counts = [Double](repeating: 1, count: config.units)
        for p in corpus(24, seed: 1) { for t in encoding.encode(p).targets.indices { counts[Int(t)] += 1 } }
        let total = counts.reduce(0, +)
        var nll = 0.0, n = 0
        for p in corpus(6, seed: 2) {
            for t in encoding.encode(p).targets.indices { nll -= log(counts[Int(t)] / total); n += 1 }
        }
        return nll / Double(n)
    }

    @Test func aFewEpochsBeatTheUnigramBaseline() throws {
        let t = Self.trainer(epochs: 8)
        try t.run()
        let unigram = Self.unigramNLL()
        #expect(t.bestValidNLL < 0.5 * unigram, "valid \(t.bestValidNLL) vs unigram \(unigram)")
        #expect(t.history.count == 8)
    }

    @Test(arguments: [nil, Float(0.9)])
    func resumedRunEqualsUninterruptedRun(average: Float?) throws {
        let straight = Self.trainer(epochs: 3, average: average)
        try straight.run()
        let first = Self.trainer(epochs: 1, average: average)
        var saved = WeightSet()
        try first.run(checkpoint: { saved = $0 })
        // Through the file format, as `sideman train --resume` does.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("resume-\(getpid()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try SafeTensors.write(saved, path: path)
        let resumed = Self.trainer(epochs: 3, average: average)
        try resumed.resume(from: try SafeTensors.read(path: path))
        #expect(resumed.epoch == 1)
        try resumed.run()
        #expect(resumed.history == straight.history)
        let a = straight.model.weights().tensors, b = resumed.model.weights().tensors
        #expect(a == b)
    }

    /// The average is an exponential moving average of the values after each update, warmed up from a low
    /// decay, and swapping it in twice leaves the parameters as they were.
    @Test func weightAverageFollowsTheUpdatesAndSwapsBack() {
        let p = Parameter("w", shape: [3, 7])  // 21 values: a SIMD block and a scalar tail
        for i in 0..<p.count { p.value[i] = Float(i) }
        let average = WeightAverage([p], decay: 0.95)
        var expected = (0..<p.count).map { Float($0) }
        for t in 1...40 {
            for i in 0..<p.count { p.value[i] = Float(i) + Float(t) * (i.isMultiple(of: 2) ? 1 : -0.5) }
            average.update()
            let d = min(Float(0.95), Float(1 + t) / Float(10 + t))
            for i in 0..<p.count { expected[i] = d * expected[i] + (1 - d) * p.value[i] }
        }
        let raw = p.value.array
        average.swapIntoParameters()
        for i in 0..<p.count { #expect(abs(p.value[i] - expected[i]) < 1e-4 * max(1, abs(expected[i]))) }
        #expect(p.value.array != raw)
        average.swapIntoParameters()
        #expect(p.value.array == raw)
    }

    /// With an average, validation and the best weights are the average's, and training goes on from the raw
    /// weights: the model after the run is not the saved best, and the best reproduces its logged NLL.
    @Test func anAveragedRunValidatesAndSavesTheAverage() throws {
        let t = Self.trainer(epochs: 4, average: 0.9)
        try t.run()
        let last = try #require(t.history.last)
        let raw = t.model.weights()
        t.average!.swapIntoParameters()
        #expect(abs(t.validate() - last.validNLL) < 1e-9)
        t.average!.swapIntoParameters()
        #expect(t.model.weights().tensors == raw.tensors)
        let bestModel = Self.config.makeModel(batch: 4, maxSteps: 16, seed: 5)
        try bestModel.load(t.best)
        let encoding = SequenceEncoding(Self.config, firstPitchIndex: 2)
        let bestNLL = Trainer.evaluate(bestModel, Self.corpus(6, seed: 2).map { encoding.encode($0) }, batch: 4, steps: 16).nll
        #expect(abs(bestNLL - t.bestValidNLL) < 1e-9)
        #expect(t.best.tensors != raw.tensors)
    }

    @Test func earlyStoppingEndsARunThatStopsImproving() throws {
        var options = TrainingOptions()
        options.epochs = 50
        options.batch = 2
        options.steps = 8
        options.learningRate = 0.5  // far too high: validation gets worse and the run stops on patience
        options.patience = 2
        let model = Self.config.makeModel(batch: 2, maxSteps: 8, seed: 1)
        let t = Trainer(model: model, encoding: SequenceEncoding(Self.config, firstPitchIndex: 2),
                        train: Self.corpus(4, seed: 1), valid: Self.corpus(2, seed: 2), options: options)
        try t.run()
        #expect(t.history.count < 50)
        #expect(t.epochsSinceBest == 2)
    }

    /// A plateau lowers the learning rate once per epoch that did not improve, and a checkpoint keeps it.
    @Test func aPlateauLowersTheLearningRateAndACheckpointKeepsIt() throws {
        var options = TrainingOptions()
        options.epochs = 6
        options.batch = 2
        options.steps = 8
        options.learningRate = 0.5
        options.patience = 10
        options.learningRateDecay = 0.5
        let model = Self.config.makeModel(batch: 2, maxSteps: 8, seed: 1)
        let t = Trainer(model: model, encoding: SequenceEncoding(Self.config, firstPitchIndex: 2),
                        train: Self.corpus(4, seed: 1), valid: Self.corpus(2, seed: 2), options: options)
        var saved = WeightSet()
        try t.run(checkpoint: { saved = $0 })
        let plateaus = t.history.filter { !$0.improved }.count
        #expect(plateaus > 0, "the rate 0.5 should stall validation at least once")
        #expect(t.optimizer.learningRate == 0.5 * pow(0.5, Float(plateaus)))
        let resumed = Trainer(model: Self.config.makeModel(batch: 2, maxSteps: 8, seed: 1),
                              encoding: SequenceEncoding(Self.config, firstPitchIndex: 2),
                              train: Self.corpus(4, seed: 1), valid: Self.corpus(2, seed: 2), options: options)
        try resumed.resume(from: saved)
        #expect(resumed.optimizer.learningRate == t.optimizer.learningRate)
    }
}

@Suite struct HeldOutTests {
    /// 3,372 windows and 2,048 wanted: spread from first to last, not the first 2,048.
    @Test func aCheckSpreadsOverTheWholeFile() {
        let items = Array(0..<3372)
        let picked = HeldOut.spread(items, count: 2048)
        #expect(picked.count == 2048 && picked.first == 0 && picked.last! > 3300)
        #expect(zip(picked, picked.dropFirst()).allSatisfy { $0 < $1 })
        #expect(HeldOut.spread(items, count: 5000) == items)
        #expect(HeldOut.spread([1, 2, 3], count: 0).isEmpty)
    }
}
