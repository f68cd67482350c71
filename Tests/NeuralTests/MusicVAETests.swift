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

/// MusicVAE training spread over shards of each batch's phrases.
@Suite struct MusicVAEShardTests {
    /// Three shards (2, 2 and 1 phrases; the last batch of an epoch leaves a shard empty) give the gradient of
    /// the master passing each shard's phrases with the shard's ε seed and the whole batch's scale, summed.
    @Test(.serialized, arguments: [5, 3]) func shardsSumToTheMastersPassesOverTheSamePhrases(phrases count: Int) {
        let config = MusicVAETests.tiny()
        var options = MusicVAEOptions()
        (options.batch, options.threads) = (5, 3)
        let phrases = MusicVAETests.phrases(config, count: count, seed: 4)
        let sharded = MusicVAETrainer(model: TrainableMusicVAE(config, batch: 5, seed: 7), train: phrases, valid: phrases,
                                      options: options)
        #expect(sharded.lanes == [0..<1, 1..<3, 3..<5])
        var rng = TrainingRandom(seed: 3)
        let together = sharded.trainPass(phrases, beta: 0.5, rng: &rng)

        let reference = TrainableMusicVAE(config, batch: 5, seed: 7)
        reference.zeroGradients()
        var fresh = TrainingRandom(seed: 3)
        let seed = fresh.next()
        var expected = MusicVAEPass()
        var total = reference.parameters.map { [Float](repeating: 0, count: $0.count) }
        for (k, lane) in sharded.lanes.enumerated() where lane.lowerBound < count {
            reference.zeroGradients()
            var draw: TrainingRandom? = TrainingRandom(seed: GradientShards.seed(seed, shard: k))
            let mine = Array(phrases[lane.lowerBound..<min(count, lane.upperBound)])
            expected = expected + reference.pass(mine, beta: 0.5, train: true, rng: &draw, gradientScale: 1 / Float(count))
            for (p, parameter) in reference.parameters.enumerated() {
                for i in 0..<parameter.count { total[p][i] += parameter.grad[i] }
            }
        }
        #expect(abs(together.nll - expected.nll) < 1e-9 * abs(expected.nll) && together.right == expected.right)
        #expect(abs(together.kl - expected.kl) < 1e-9 * max(1, abs(expected.kl)))
        for (p, parameter) in sharded.model.parameters.enumerated() {
            var worst: Float = 0, largest: Float = 0
            for i in 0..<parameter.count {
                worst = max(worst, abs(parameter.grad[i] - total[p][i]))
                largest = max(largest, abs(total[p][i]))
            }
            #expect(worst <= 1e-6 * max(largest, 1e-3), "\(parameter.name): off by \(worst) of \(largest)")
        }
    }
}
