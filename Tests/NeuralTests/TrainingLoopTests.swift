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

    static func trainer(epochs: Int, seed: UInt64 = 5) -> Trainer {
        var options = TrainingOptions()
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

    @Test func resumedRunEqualsUninterruptedRun() throws {
        let straight = Self.trainer(epochs: 3)
        try straight.run()
        let first = Self.trainer(epochs: 1)
        var saved = WeightSet()
        try first.run(checkpoint: { saved = $0 })
        // Through the file format, as `sideman train --resume` does.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("resume-\(getpid()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try SafeTensors.write(saved, path: path)
        let resumed = Self.trainer(epochs: 3)
        try resumed.resume(from: try SafeTensors.read(path: path))
        #expect(resumed.epoch == 1)
        try resumed.run()
        #expect(resumed.history == straight.history)
        let a = straight.model.weights().tensors, b = resumed.model.weights().tensors
        #expect(a == b)
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
