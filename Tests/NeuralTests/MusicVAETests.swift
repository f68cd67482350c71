import Foundation
import Testing
@testable import Neural

@Suite struct MusicVAETests {
    static func tiny(classes: Int = 5, encoder: Int = 4, decoder: Int = 5, bars: Int = 2) -> MusicVAEConfig {
        var config = MusicVAEConfig(content: .melody, classes: classes, stepsPerBar: 3, bars: bars)
        (config.encoderHidden, config.latent, config.conductorHidden, config.decoderHidden, config.decoderLayers) = (encoder, 3, 4, decoder, 2)
        (config.freeBits, config.beta) = (0, 0.7)
        return config
    }

    static func phrases(_ config: MusicVAEConfig, count: Int, seed: UInt64) -> [[Int]] {
        var rng = TrainingRandom(seed: seed)
        return (0..<count).map { _ in (0..<config.steps).map { _ in Int(rng.next() % UInt64(config.classes)) } }
    }

    /// The mean loss per phrase the backward differentiates: NLL + β·KL (free bits 0, so the KL always counts).
    static func loss(_ model: TrainableMusicVAE, _ phrases: [[Int]], train: Bool) -> Double {
        var rng: TrainingRandom? = TrainingRandom(seed: 21)
        let r = model.pass(phrases, beta: model.config.beta, train: train, rng: &rng)
        return (r.nll + Double(model.config.beta) * r.kl) / Double(phrases.count)
    }

    /// Encoder both ways, μ and softplus σ with a drawn ε, the conductor's z input and initial state, the
    /// decoder's per-bar initial states and embedding columns, across a bar line, with a padding phrase.
    @Test(arguments: [2, 4]) func backwardMatchesFiniteDifferences(bars: Int) {
        let config = Self.tiny(bars: bars)
        let model = TrainableMusicVAE(config, batch: 3, seed: 2)
        let phrases = Self.phrases(config, count: 2, seed: 8)
        let (error, name) = TrainingFixtures.worstGradientError(model, samplesPerParameter: 8) { Self.loss(model, phrases, train: $0) }
        #expect(error < TrainingGradientTests.tolerance, "worst: \(name)")
    }

    /// Hidden 17 runs the 16-lane gate loops and their tails; the built-in GEMM runs every product.
    @Test func wideBackwardOnBuiltInGemm() {
        Gemm.$backend.withValue(.builtIn) {
            let config = Self.tiny(classes: 6, encoder: 17, decoder: 17)
            let model = TrainableMusicVAE(config, batch: 2, seed: 4)
            let phrases = Self.phrases(config, count: 2, seed: 9)
            let (error, name) = TrainingFixtures.worstGradientError(model, samplesPerParameter: 4) { Self.loss(model, phrases, train: $0) }
            #expect(error < TrainingGradientTests.tolerance, "worst: \(name)")
        }
    }

    /// Decoding bar after bar, fed the phrase's own classes, gives the teacher-forced logits of training
    /// (2 bars and 4, the two sizes MusicVAE's small models come in).
    @Test(arguments: [2, 4]) func decodingFollowsTheTrainingPass(bars: Int) {
        let config = Self.tiny(classes: 7, bars: bars)
        let model = TrainableMusicVAE(config, batch: 2, seed: 5)
        let phrases = Self.phrases(config, count: 2, seed: 3)
        var none: TrainingRandom? = nil
        model.encode(phrases, rng: &none)
        model.conduct()
        let logits = model.teacherForcedLogits()
        let (S, J, K) = (config.stepsPerBar, config.bars * 2, config.classes)
        var expected = [[Float]](repeating: [], count: 2)
        for p in 0..<config.steps {
            let (u, t) = (p / S, p % S)
            for b in 0..<2 { expected[b] += Array(UnsafeBufferPointer(start: logits + (t * J + u * 2 + b) * K, count: K)) }
        }
        let latents = model.posterior(of: phrases).map(\.mu)
        var seen = [[Float]](repeating: [], count: 2)
        var position = [0, 0]
        let decoded = model.decode(latents) { b, l in
            seen[b] += Array(UnsafeBufferPointer(start: l, count: K))
            defer { position[b] += 1 }
            return phrases[b][position[b]]
        }
        #expect(decoded == phrases)
        for b in 0..<2 {
            let worst = zip(seen[b], expected[b]).map { Swift.abs($0 - $1) }.max()!
            #expect(worst < 1e-4)
        }
    }

    @Test func metadataRoundTripsAndRefusesNonsense() throws {
        var config = MusicVAEConfig(content: .drums, bars: 4)
        config.latent = 64
        #expect(try MusicVAEConfig(metadata: config.metadata) == config)
        var wrong = config.metadata
        wrong["classes"] = "130"
        #expect(throws: WeightsError.self) { try MusicVAEConfig(metadata: wrong) }
        wrong = config.metadata
        wrong["latent"] = "0"
        #expect(throws: WeightsError.self) { try MusicVAEConfig(metadata: wrong) }
        #expect(throws: WeightsError.self) { try MusicVAEConfig(metadata: ["model": "lstm"]) }
    }
}
