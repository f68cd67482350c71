import Foundation
import Testing
@testable import Neural

/// Data-parallel shards give the gradient, loss and validation NLL of the whole batch on one core, for every
/// family and head, across chunks (the shards carry their lanes' state) and with uneven shards.
@Suite struct DataParallelStepTests {
    static var configs: [TrainingModelConfig] {
        var conv = TrainingModelConfig(family: .conv, data: .events, units: 6, hidden: 1, layers: 1, head: .softmax)
        (conv.residual, conv.gate, conv.skip, conv.layersPerStack, conv.stacks, conv.headHidden) = (3, 4, 5, 2, 2, 4)
        var chained = TrainingModelConfig(family: .basic, data: .frames, units: 6, hidden: 5, layers: 1, head: .nadeChain)
        chained.chainHidden = 3
        return [
            TrainingModelConfig(family: .basic, data: .events, units: 7, hidden: 5, layers: 2, head: .softmax),
            TrainingModelConfig(family: .lookback, data: .events, units: 5, hidden: 4, layers: 1, head: .softmax, stepsPerBar: 2),
            TrainingModelConfig(family: .attention, data: .events, units: 6, hidden: 4, layers: 2, head: .softmax, window: 3),
            conv, chained,
            TrainingGradientTests.transformer(.events, head: .softmax),
            TrainingModelConfig(family: .basic, data: .frames, units: 6, hidden: 4, layers: 1, head: .pitchChain),
        ]
    }

    @Test(.serialized, arguments: configs)
    func shardsGiveTheWholeBatchGradient(config: TrainingModelConfig) {
        let (batch, steps) = (5, 6)
        // Three shards of 1, 2 and 2 lanes against the plain loop, over two chunks in a row.
        let single = DataParallelStep(master: config.makeModel(batch: batch, maxSteps: steps, seed: 3), batch: batch,
                                      maxSteps: steps, threads: 1)
        let sharded = DataParallelStep(master: config.makeModel(batch: batch, maxSteps: steps, seed: 3), batch: batch,
                                       maxSteps: steps, threads: 3)
        #expect(sharded.threads == 3 && sharded.lanes == [0..<1, 1..<3, 3..<5])
        single.resetState()
        sharded.resetState()
        for seed in [11, 12] as [UInt64] {
            let chunk = TrainingFixtures.chunk(config, steps: steps, batch: batch, seed: seed)
            var (rngA, rngB) = (TrainingRandom(seed: 1), TrainingRandom(seed: 1))
            let a = single.gradient(chunk, scale: 0.1, rng: &rngA)
            let b = sharded.gradient(chunk, scale: 0.1, rng: &rngB)
            #expect(abs(a - b) <= 1e-6 * max(1, abs(a)), "\(config.family) loss \(a) vs \(b)")
            var reached = 0
            for (p, q) in zip(single.master.parameters, sharded.master.parameters) {
                var worst: Float = 0, largest: Float = 0
                for i in 0..<p.count {
                    worst = max(worst, abs(p.grad[i] - q.grad[i]))
                    largest = max(largest, abs(p.grad[i]))
                }
                if largest > 0 { reached += 1 }
                #expect(worst <= 1e-5 * max(largest, 1e-3), "\(config.family) \(p.name): off by \(worst), largest \(largest)")
            }
            // (The conv's last residual projection feeds nothing and gets none.)
            #expect(reached >= single.master.parameters.count - 2, "\(config.family): gradients reached \(reached) tensors")
        }
    }

    @Test func shardsValidateAsTheWholeModel() {
        let config = TrainingModelConfig(family: .basic, data: .events, units: 16, hidden: 8, layers: 2, head: .softmax)
        let encoding = SequenceEncoding(config, firstPitchIndex: 2)
        let pieces = TrainingLoopTests.corpus(7, seed: 4).map { encoding.encode($0) }
        let model = config.makeModel(batch: 4, maxSteps: 16, seed: 2)
        let one = DataParallelStep(master: model, batch: 4, maxSteps: 16, threads: 1).evaluate(pieces, batch: 4, steps: 16)
        let two = DataParallelStep(master: model, batch: 4, maxSteps: 16, threads: 2).evaluate(pieces, batch: 4, steps: 16)
        #expect(one.steps == two.steps && one.steps > 0)
        #expect(abs(one.nll - two.nll) < 1e-6, "\(one.nll) vs \(two.nll)")
    }

    /// Every core for a chunk with work for them, one thread for a toy model.
    @Test func theDefaultIsEveryCoreTheChunkHasWorkFor() {
        #expect(DataParallelStep.defaultThreads(parameters: 3_000, rows: 64) == 1)
        #expect(DataParallelStep.defaultThreads(parameters: 1_020_546, rows: 64 * 64) == min(DataParallelStep.cores, 334))
        #expect(DataParallelStep.defaultThreads(parameters: 200_000, rows: 64 * 64) == min(DataParallelStep.cores, 65))
    }

    /// More threads than streams: one lane per shard, no empty shard.
    @Test func threadsAreCappedAtTheBatch() {
        let config = TrainingModelConfig(family: .basic, data: .events, units: 7, hidden: 5, layers: 1, head: .softmax)
        let step = DataParallelStep(master: config.makeModel(batch: 3, maxSteps: 4, seed: 1), batch: 3, maxSteps: 4, threads: 8)
        #expect(step.threads == 3 && step.lanes.allSatisfy { $0.count == 1 })
    }

    /// A two-thread run learns as the one-thread run does (not bit for bit: the sums run in another order).
    @Test func aTwoThreadRunLearns() throws {
        let one = TrainingLoopTests.trainer(epochs: 8)
        let two = TrainingLoopTests.trainer(epochs: 8, threads: 2)
        #expect(two.step.threads == 2)
        try one.run()
        try two.run()
        #expect(two.bestValidNLL < 0.5 * TrainingLoopTests.unigramNLL())
        #expect(abs(one.bestValidNLL - two.bestValidNLL) < 1e-3 * one.bestValidNLL,
                "one thread \(one.bestValidNLL), two \(two.bestValidNLL)")
    }
}
