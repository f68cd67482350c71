import Foundation
import Testing
@testable import Neural

/// The NADE chain head: its backward against finite differences through whole models, an exact distribution
/// over sets, weights that stream, a streaming NLL equal to the trainer's, and a sampler that draws it.
@Suite struct NADEChainTests {
    static func config(_ family: Family, units: Int = 6, chainHidden: Int = 5) -> TrainingModelConfig {
        var c = TrainingModelConfig(family: family, data: .frames, units: units, hidden: family == .conv ? 1 : 4,
                                    layers: family == .conv ? 1 : 2, head: .nadeChain, window: 3)
        c.chainHidden = chainHidden
        if family == .conv { (c.residual, c.gate, c.skip, c.layersPerStack, c.stacks, c.headHidden) = (3, 4, 5, 2, 1, 4) }
        return c
    }

    /// W, V, and through b and c every layer below, on chunks with resets, padding and empty frames.
    @Test(arguments: [Family.basic, .attention, .conv])
    func gradientsMatchFiniteDifferences(_ family: Family) {
        var config = Self.config(family)
        // The conv head's ReLUs put kinks within a finite-difference step of some samples; its dropout path is
        // checked with the pitch chain (TrainingGradientTests).
        config.dropout = family == .conv ? 0 : 0.2
        let model = config.makeModel(batch: 2, maxSteps: 6, seed: 3)
        #expect(model.parameters.contains { $0.name == "chain.input.weight" })
        let chunk = TrainingFixtures.chunk(config, steps: 6, batch: 2, seed: 11)
        let (error, name) = TrainingFixtures.worstGradientError(model, chunk, training: family != .conv, samplesPerParameter: 10)
        #expect(error < TrainingGradientTests.tolerance, "worst: \(name)")
    }

    /// The head alone: every entry of W and V, and every logit of b and c, against central differences, with
    /// the gradient written over the logits as the trainer does.
    @Test func headGradientsOnRandomLogits() {
        let (units, k) = (7, 3)
        let head = NADEChainHead(units: units, hidden: k)
        var rng = TrainingRandom(seed: 2)
        head.input.randomize(bound: 1, &rng)
        head.output.randomize(bound: 1, &rng)
        var logits = (0..<(3 * head.outputs)).map { _ in rng.uniform(-2, 2) }
        var targets = SparseRows()
        targets.append(indices: [1, 3, 6])
        targets.append(indices: [])
        targets.append(indices: [0, 1, 2, 3, 4, 5, 6])
        let present = [true, true, true]
        func loss(_ l: [Float]) -> Double {
            l.withUnsafeBufferPointer { head.loss($0.baseAddress!, rows: 3, targets: targets, present: present, scale: 1, grad: nil) }
        }
        let before = loss(logits)
        for p in head.parameters { p.grad.zero() }
        var grad = logits
        let withGrad = grad.withUnsafeMutableBufferPointer {
            head.loss($0.baseAddress!, rows: 3, targets: targets, present: present, scale: 1, grad: $0.baseAddress!)
        }
        #expect(Swift.abs(withGrad - before) < 1e-9)
        expectCentralDifferences(
            count: logits.count, read: { logits[$0] }, write: { logits[$0] = $1 }, analytic: { grad[$0] }, absolute: 2e-3,
            label: { "logit \($0)" }, loss: { loss(logits) })
        for p in head.parameters {
            expectCentralDifferences(
                count: p.count, read: { p.value[$0] }, write: { p.value[$0] = $1 }, analytic: { p.grad[$0] }, absolute: 2e-3,
                label: { "\(p.name)[\($0)]" }, loss: { loss(logits) })
        }
    }

    /// exp(-NLL) over all 2^units sets sums to one, in training and in the streaming chain alike.
    @Test func theChainIsANormalisedDistributionOverSets() throws {
        let units = 6
        var config = TrainingModelConfig(family: .basic, data: .frames, units: units, hidden: 4, layers: 1, head: .nadeChain)
        config.chainHidden = 4
        let model = config.makeModel(batch: 1, maxSteps: 1, seed: 7)
        let streaming = try makeModel(from: model.weights())
        let chain = try #require(streaming.chain)
        var rng = TrainingRandom(seed: 4)
        let logits = (0..<config.outputs).map { _ in rng.uniform(-2, 2) }
        var trained = 0.0, streamed = 0.0
        for mask in 0..<(1 << units) {
            let set = (0..<units).filter { mask >> $0 & 1 == 1 }
            var t = SparseRows()
            t.append(indices: set)
            var copy = logits
            let nll = copy.withUnsafeMutableBufferPointer {
                model.headLoss($0.baseAddress!, rows: 1, targets: t, present: [true], scale: 1, grad: nil)
            }
            let logP = logits.withUnsafeBufferPointer { chain.logProbability($0.baseAddress!, of: FeatureList(set)) }
            #expect(Swift.abs(nll + logP) < 1e-4, "set \(set)")
            trained += exp(-nll)
            streamed += exp(logP)
        }
        #expect(Swift.abs(trained - 1) < 1e-5)
        #expect(Swift.abs(streamed - 1) < 1e-5)
    }

    /// The weights load into the streaming family (parameter count checked by makeModel), survive a file,
    /// and the streaming model's frame NLL over a piece, step by step, equals Trainer.evaluate's.
    @Test(arguments: [Family.basic, .attention, .conv])
    func streamingFrameNLLEqualsTheTrainers(_ family: Family) throws {
        let config = Self.config(family, units: 12, chainHidden: 8)
        let encoding = SequenceEncoding(config, firstPitchIndex: 0)
        var rng = TrainingRandom(seed: 5)
        let frames = (0..<40).map { _ in (0..<12).filter { _ in rng.unit() < 0.3 } }
        let pieces = [TrainingPiece(frames: frames), TrainingPiece(frames: Array(frames.reversed().prefix(25)))]
        var options = TrainingOptions()
        options.epochs = 2
        options.batch = 2
        options.steps = 16
        options.learningRate = 1e-2
        options.transpose = 0
        let trainer = Trainer(model: config.makeModel(batch: 2, maxSteps: 16, seed: 6), encoding: encoding, train: pieces,
                              valid: pieces, options: options)
        try trainer.run()
        let trained = config.makeModel(batch: 2, maxSteps: 16, seed: 0)
        try trained.load(trainer.best)
        let encoded = pieces.map { encoding.encode($0) }
        let (expected, steps) = Trainer.evaluate(trained, encoded, batch: 2, steps: 16)

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("nade-\(family)-\(getpid()).safetensors").path
        try SafeTensors.write(trainer.best, path: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let streaming = try loadModel(path: path)
        #expect(streaming.head == .nadeChain)
        #expect(streaming.headUnits == 12)
        #expect(streaming.outputSize == 12 + 1 + 8)
        let chain = try #require(streaming.chain)
        var total = 0.0, count = 0
        for piece in encoded {
            streaming.reset()
            for t in 0..<piece.count {
                let logits = streaming.step(FeatureList(piece.inputs.row(t)))
                total -= chain.logProbability(logits.baseAddress!, of: FeatureList(piece.targets.row(t)))
                count += 1
            }
        }
        #expect(count == steps)
        #expect(Swift.abs(total / Double(count) - expected) < 1e-4 * max(1, expected), "streaming \(total / Double(count)), trainer \(expected)")
        // Saving the streaming model gives the same tensors back.
        let again = try makeModel(from: streaming.weights())
        #expect(again.chain?.hidden == 8)
    }

    /// Draws match the chain's probabilities: over every set of 4 units, the frequency of 100,000 draws
    /// against exp(logProbability); temperature 0 is the greedy chain.
    @Test func samplerDrawsTheChainsDistribution() throws {
        var config = TrainingModelConfig(family: .basic, data: .frames, units: 4, hidden: 4, layers: 1, head: .nadeChain)
        config.chainHidden = 3
        let model = config.makeModel(batch: 1, maxSteps: 1, seed: 9)
        for p in model.parameters where p.name.hasPrefix("chain.") {
            var rng = TrainingRandom(seed: 12)
            p.randomize(bound: 1.5, &rng)
        }
        let streaming = try makeModel(from: model.weights())
        let chain = try #require(streaming.chain)
        let logits: [Float] = [0.3, -0.4, 1.1, 0.0, 0.2, 0.8, -1.0, 0.5]
        var rng = SeededRandom(seed: 11)
        let draws = 100_000
        let counts = logits.withUnsafeBufferPointer { l in
            ascendingSetCounts(draws: draws) { chain.sample(l.baseAddress!, temperature: 1, topP: 1, rng: &rng) }
        }
        logits.withUnsafeBufferPointer { l in
            for mask in 0..<16 {
                let set = (0..<4).filter { mask & (1 << $0) != 0 }
                let p = exp(chain.logProbability(l.baseAddress!, of: FeatureList(set)))
                let observed = Double(counts[mask, default: 0]) / Double(draws)
                #expect(abs(observed - p) < 4 * (p * (1 - p) / Double(draws)).squareRoot() + 1e-4, "set \(set): \(observed) vs \(p)")
            }
        }
        // Greedy: at each link the largest of the link's logits.
        let greedy = logits.withUnsafeBufferPointer { chain.sample($0.baseAddress!, temperature: 0, topP: 1, rng: &rng) }
        var drawn: [Int] = []
        while true {
            let link = logits.withUnsafeBufferPointer { chain.linkLogits($0.baseAddress!, after: drawn) }
            let best = link.indices.max { link[$0] < link[$1] }!
            if best == 4 { break }
            drawn.append(best)
            if best == 3 { break }
        }
        #expect(greedy.activeIndices == drawn)
        // A tight nucleus keeps only the most likely choice: top-p near zero is greedy too.
        let nucleus = logits.withUnsafeBufferPointer { chain.sample($0.baseAddress!, temperature: 1, topP: 1e-6, rng: &rng) }
        #expect(nucleus.activeIndices == drawn)
    }

    /// Metadata that cannot hold a chain is refused with a message, not a crash.
    @Test func absurdChainMetadataIsRefused() throws {
        var config = TrainingModelConfig(family: .basic, data: .frames, units: 5, hidden: 4, layers: 1, head: .nadeChain)
        config.chainHidden = 3
        var set = config.makeModel(batch: 1, maxSteps: 1, seed: 1).weights()
        #expect(try TrainingModelConfig(metadata: set.metadata) == config)
        set.metadata["chain_hidden"] = "40"
        #expect(throws: WeightsError.self) { _ = try makeModel(from: set) }
        set.metadata["chain_hidden"] = nil
        #expect(throws: WeightsError.self) { _ = try makeModel(from: set) }
    }
}
