import Testing
@testable import Neural

@Suite struct SamplingTests {
    func melody(_ model: any StreamingModel, seed: UInt64, temperature: Float = 1, topP: Float = 0.9) -> [Int] {
        model.reset()
        var rng = SeededRandom(seed: seed)
        var event = 0
        var out: [Int] = []
        for _ in 0..<64 {
            model.step(event: event)
            event = model.sample(temperature: temperature, topP: topP, rng: &rng).activeIndices[0]
            out.append(event)
        }
        return out
    }

    static func model(_ index: Int) -> any StreamingModel {
        [
        BasicRNN(config: BasicRNNConfig(inputSize: 40, hidden: 32, layers: 2, outputs: 40), seed: 7),
        LookbackRNN(config: LookbackRNNConfig(eventClasses: 40, hidden: 32, layers: 2), seed: 7),
        AttentionRNN(config: AttentionRNNConfig(inputSize: 40, hidden: 32, layers: 2, window: 8, outputs: 40), seed: 7),
        ConvPredictor(config: ConvPredictorConfig(inputSize: 40, residual: 16, gate: 16, skip: 32, layersPerStack: 4,
                                                  headHidden: 32, outputs: 40), seed: 7),
        ][index]
    }

    @Test(arguments: 0..<4) func sameSeedSameNotesForEveryFamily(index: Int) {
        let model = Self.model(index)
        #expect(melody(model, seed: 3) == melody(model, seed: 3))
        #expect(melody(model, seed: 3) != melody(model, seed: 4))
    }

    @Test func zeroTemperatureAndTinyTopPPickTheMostLikelyEvent() {
        let sampler = Sampler(count: 5)
        let logits: [Float] = [0.1, 2.5, -1, 2.4, 0]
        var rng = SeededRandom(seed: 1)
        for _ in 0..<50 {
            #expect(sampler.sampleEvent(logits, temperature: 0, topP: 1, rng: &rng) == 1)
            #expect(sampler.sampleEvent(logits, temperature: 1, topP: 0.01, rng: &rng) == 1)
        }
        // With top-p 0.9 the two unlikely events (-1 and 0.1 / 0 are small) are cut: only 1 and 3 remain.
        var seen = Set<Int>()
        for _ in 0..<500 { seen.insert(sampler.sampleEvent(logits, temperature: 1, topP: 0.8, rng: &rng)) }
        #expect(seen == [1, 3])
    }

    @Test func samplingFrequenciesFollowTheSoftmax() {
        let sampler = Sampler(count: 3)
        let logits: [Float] = [0, Float.log(2), Float.log(5)]  // probabilities 1/8, 2/8, 5/8
        var rng = SeededRandom(seed: 2)
        var counts = [0, 0, 0]
        for _ in 0..<40_000 { counts[sampler.sampleEvent(logits, temperature: 1, topP: 1, rng: &rng)] += 1 }
        #expect(abs(Double(counts[0]) / 40_000 - 0.125) < 0.01)
        #expect(abs(Double(counts[2]) / 40_000 - 0.625) < 0.01)
    }

    @Test func multiHotHeadSamplesEachUnit() {
        let sampler = Sampler(count: 4)
        let logits: [Float] = [20, -20, 20, -20]
        var rng = SeededRandom(seed: 3)
        #expect(sampler.sampleSet(logits, temperature: 1, rng: &rng).activeIndices == [0, 2])
        #expect(sampler.sampleSet(logits, temperature: 0, rng: &rng).activeIndices == [0, 2])
    }
}

private extension Float {
    static func log(_ x: Float) -> Float { Float(Foundation.log(Double(x))) }
}

import Foundation
