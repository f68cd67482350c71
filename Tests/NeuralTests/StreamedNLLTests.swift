import Testing
@testable import Neural

/// `sideman eval --precision` rests on StreamedNLL: streamed through the fp32 step it must give the trainer's
/// own validation NLL, and a reduced precision's cost must be what it costs, not zero by construction.
@Suite struct StreamedNLLTests {
    static func pieces(_ config: TrainingModelConfig, seed: UInt64) -> [EncodedPiece] {
        var rng = TrainingRandom(seed: seed)
        let encoding = SequenceEncoding(config, firstPitchIndex: config.data == .events ? 2 : 0)
        return (0..<3).map { k in
            let length = 30 + 7 * k
            let piece: TrainingPiece = config.data == .events
                ? TrainingPiece(events: (0..<length).map { _ in Int(rng.unit() * Float(config.units)) % config.units })
                : TrainingPiece(frames: (0..<length).map { _ in (0..<config.units).filter { _ in rng.unit() < 0.3 } })
            return encoding.encode(piece)
        }
    }

    @Test(arguments: [(Family.lookback, HeadKind.softmax), (.basic, .multiHot), (.attention, .pitchChain), (.conv, .softmax)])
    func theFp32StepGivesTheTrainersNLL(_ family: Family, _ head: HeadKind) throws {
        var config = TrainingModelConfig(family: family, data: head == .softmax ? .events : .frames, units: 10,
                                         hidden: family == .conv ? 1 : 8, layers: family == .conv ? 1 : 2, head: head, window: 4)
        if family == .conv { (config.residual, config.gate, config.skip, config.layersPerStack, config.stacks, config.headHidden) = (4, 4, 6, 2, 1, 6) }
        let trainable = config.makeModel(batch: 2, maxSteps: 16, seed: 11)
        let pieces = Self.pieces(config, seed: 12)
        let (expected, steps) = Trainer.evaluate(trainable, pieces, batch: 2, steps: 16)
        let streaming = try makeModel(from: trainable.weights())
        let streamed = StreamedNLL.measure(streaming, pieces, reference: try makeModel(from: trainable.weights()))
        #expect(streamed.steps == steps)
        #expect(abs(streamed.nll - expected) < 1e-4 * max(1, expected), "streamed \(streamed.nll), trainer \(expected)")
        // Two fp32 copies cost nothing and diverge by nothing.
        #expect(streamed.referenceNLL == streamed.nll)
        if head == .softmax { #expect(streamed.klFromReference == 0) } else { #expect(streamed.klFromReference == nil) }
    }

    /// int8 storage moves the NLL and the distribution by a small, non-zero amount.
    @Test func int8HasAMeasuredSmallCost() throws {
        let config = TrainingModelConfig(family: .basic, data: .events, units: 24, hidden: 64, layers: 2, head: .softmax)
        let trainable = config.makeModel(batch: 2, maxSteps: 16, seed: 21)
        let pieces = Self.pieces(config, seed: 22)
        let reduced = try makeModel(from: trainable.weights())
        reduced.prepare(.int8)
        let streamed = StreamedNLL.measure(reduced, pieces, reference: try makeModel(from: trainable.weights()))
        let kl = try #require(streamed.klFromReference)
        #expect(kl > 0 && kl < 1e-3, "KL \(kl)")
        #expect(streamed.nll != streamed.referenceNLL && abs(streamed.nll - streamed.referenceNLL!) < 1e-2)
    }
}
