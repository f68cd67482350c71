import Foundation
import Testing
@testable import Neural

/// A model built by training loads into the streaming families unchanged, and its streaming step gives the
/// same logits as the training forward over the whole sequence.
@Suite struct TrainingStreamingTests {
    /// Logits of the training forward (one stream, one chunk, from zero state) for the encoded piece.
    func trainingLogits(_ config: TrainingModelConfig, _ piece: EncodedPiece, seed: UInt64) -> (any TrainableModel, [[Float]]) {
        let model = config.makeModel(batch: 1, maxSteps: piece.count, seed: seed)
        let batcher = StreamBatcher([piece], batch: 1, steps: piece.count)
        var rng = TrainingRandom(seed: 0)
        let chunk = batcher.chunks().next()!
        // A few Adam steps first, so the weights compared are trained ones, not only the initialisation.
        let adam = Adam(model.parameters, learningRate: 1e-2)
        for _ in 0..<3 {
            model.resetState()
            model.zeroGradients()
            let logits = model.forward(chunk, training: false, rng: &rng)
            _ = model.headLoss(logits, rows: chunk.rows, targets: chunk.targets, present: chunk.present,
                               scale: 1 / Float(chunk.rows), grad: logits)
            model.backward(logits)
            adam.update()
        }
        model.resetState()
        let logits = model.forward(chunk, training: false, rng: &rng)
        let n = config.outputs
        return (model, (0..<piece.count).map { t in (0..<n).map { logits[t * n + $0] } })
    }

    func maxDifference(_ a: [[Float]], _ b: [[Float]]) -> Float {
        zip(a, b).map { zip($0, $1).map { Swift.abs($0 - $1) }.max()! }.max()!
    }

    func events(_ count: Int, classes: Int, seed: UInt64) -> [Int] {
        var rng = TrainingRandom(seed: seed)
        return (0..<count).map { _ in Int(rng.next() % UInt64(classes)) }
    }

    @Test(arguments: [Family.basic, .attention, .conv, .transformer])
    func streamingStepMatchesTrainingForward(_ family: Family) throws {
        var config = TrainingModelConfig(family: family, data: .events, units: 20, hidden: 24, layers: 2, head: .softmax, window: 5)
        if family == .conv { (config.residual, config.gate, config.skip, config.layersPerStack, config.stacks, config.headHidden) = (8, 8, 12, 3, 2, 10) }
        if family == .transformer { (config.heads, config.mlp) = (3, 40) }
        let encoding = SequenceEncoding(config, firstPitchIndex: 2)
        let piece = encoding.encode(TrainingPiece(events: events(40, classes: 20, seed: 1)))
        let (model, expected) = trainingLogits(config, piece, seed: 7)
        let streaming = try makeModel(from: model.weights())
        streaming.reset()
        let stepped: [[Float]] = (0..<piece.count).map { t in
            let features = FeatureList(piece.inputs.row(t))
            return Array(streaming.step(features))
        }
        #expect(maxDifference(expected, stepped) < 1e-5)
    }

    @Test func lookbackStreamingEncodesAndStepsTheSame() throws {
        let config = TrainingModelConfig(family: .lookback, data: .events, units: 12, hidden: 16, layers: 2, head: .softmax, stepsPerBar: 4)
        let encoding = SequenceEncoding(config, firstPitchIndex: 2)
        let melody = events(30, classes: 12, seed: 2)
        let piece = encoding.encode(TrainingPiece(events: melody))
        let (model, expected) = trainingLogits(config, piece, seed: 8)
        let streaming = try makeModel(from: model.weights())
        streaming.reset()
        let stepped: [[Float]] = (0..<piece.count).map { Array(streaming.step(event: melody[$0])) }
        #expect(maxDifference(expected, stepped) < 1e-5)
    }

    /// A transformer reading the Lookback features in a tune's own bar, under a beat condition: the streaming
    /// model encodes each event itself (after `restart` in the same bar) and takes the condition after the
    /// features, as the engine steps it.
    @Test func aTransformerReadingLookbackFeaturesStreamsAsItTrained() throws {
        var config = TrainingModelConfig(family: .transformer, data: .events, units: 12, hidden: 24, layers: 2, head: .softmax,
                                         window: 7, stepsPerBar: 16, conditioning: .beat, lookbackInputs: true)
        (config.heads, config.mlp) = (3, 40)
        #expect(config.inputSize == LookbackEncoder.inputSize(classes: 12) + Conditioning.beatUnits)
        #expect(try TrainingModelConfig(metadata: config.metadata) == config)
        let melody = events(36, classes: 12, seed: 3)
        var piece = TrainingPiece(events: melody)
        piece.bar = (stepsPerBar: 6, firstStepInBar: 2)
        piece = piece.conditioned(by: (0..<melody.count).map { [($0 + 2) % 6] })
        let encoded = SequenceEncoding(config, firstPitchIndex: 2).encode(piece)
        let (model, expected) = trainingLogits(config, encoded, seed: 9)
        let streaming = try makeModel(from: model.weights())
        #expect(streaming.readsBars && streaming.inputSize == config.inputSize)
        streaming.restart(stepsPerBar: 6, firstStepInBar: 2)
        let offset = streaming.inputSize - Conditioning.beatUnits
        let stepped: [[Float]] = (0..<encoded.count).map { t in
            var input = streaming.encode(event: melody[t])
            input.append(offset + (t + 1 + 2) % 6)
            return Array(streaming.step(input))
        }
        #expect(maxDifference(expected, stepped) < 1e-5)
        // Reading the same tune in another bar gives other inputs, so other logits: the bar is really read.
        streaming.restart(stepsPerBar: 4, firstStepInBar: 0)
        let otherBar: [[Float]] = (0..<encoded.count).map { t in
            var input = streaming.encode(event: melody[t])
            input.append(offset + (t + 1 + 2) % 6)
            return Array(streaming.step(input))
        }
        #expect(maxDifference(expected, otherBar) > 1e-3)
    }

    @Test func multiHotFramesStreamAsTheSameModel() throws {
        let config = TrainingModelConfig(family: .basic, data: .frames, units: 10, hidden: 16, layers: 1, head: .multiHot)
        let encoding = SequenceEncoding(config, firstPitchIndex: 0)
        var rng = TrainingRandom(seed: 3)
        let frames = (0..<20).map { _ in (0..<10).filter { _ in rng.unit() < 0.3 } }
        let piece = encoding.encode(TrainingPiece(frames: frames))
        let (model, expected) = trainingLogits(config, piece, seed: 9)
        let streaming = try makeModel(from: model.weights())
        #expect(streaming.head == .multiHot)
        streaming.reset()
        let stepped: [[Float]] = (0..<piece.count).map { Array(streaming.step(FeatureList(piece.inputs.row($0)))) }
        #expect(maxDifference(expected, stepped) < 1e-5)
    }

    @Test func pitchChainFramesStreamAsTheSameModel() throws {
        let config = TrainingModelConfig(family: .basic, data: .frames, units: 10, hidden: 16, layers: 1, head: .pitchChain)
        let encoding = SequenceEncoding(config, firstPitchIndex: 0)
        var rng = TrainingRandom(seed: 4)
        let frames = (0..<20).map { _ in (0..<10).filter { _ in rng.unit() < 0.3 } }
        let piece = encoding.encode(TrainingPiece(frames: frames))
        let (model, expected) = trainingLogits(config, piece, seed: 10)
        let streaming = try makeModel(from: model.weights())
        #expect(streaming.head == .pitchChain)
        #expect(streaming.outputSize == 11)
        streaming.reset()
        let stepped: [[Float]] = (0..<piece.count).map { Array(streaming.step(FeatureList(piece.inputs.row($0)))) }
        #expect(maxDifference(expected, stepped) < 1e-5)
    }

    /// The streaming sampler draws note sets with exactly the probabilities the training loss assigns:
    /// over every subset of 5 units, the empirical frequency of 200,000 draws matches exp(-chain NLL).
    @Test func chainSamplerDrawsTheTrainedDistribution() {
        let units = 5
        let logits: [Float] = [0.3, -0.4, 1.1, 0.0, -1.2, 0.6]  // 5 units + END
        let sampler = Sampler(count: units + 1)
        var rng = SeededRandom(seed: 11)
        let draws = 200_000
        let counts = logits.withUnsafeBufferPointer { l in
            ascendingSetCounts(draws: draws) { sampler.sampleChain(l.baseAddress!, temperature: 1, topP: 1, rng: &rng) }
        }
        var total = 0.0
        logits.withUnsafeBufferPointer { l in
            for mask in 0..<(1 << units) {
                let set = (0..<units).filter { mask & (1 << $0) != 0 }.map { Int32($0) }
                let p = Foundation.exp(-HeadKind.chainRow(l.baseAddress!, units: units, set[...], 1, nil))
                total += p
                let observed = Double(counts[mask, default: 0]) / Double(draws)
                #expect(abs(observed - p) < 4 * (p * (1 - p) / Double(draws)).squareRoot() + 1e-4, "set \(set): \(observed) vs \(p)")
            }
        }
        #expect(abs(total - 1) < 1e-6)
        // Temperature 0: the most likely choice at each link (unit 2 beats END at 0.6, then END wins).
        let greedy = logits.withUnsafeBufferPointer { sampler.sampleChain($0.baseAddress!, temperature: 0, topP: 1, rng: &rng) }
        #expect(greedy.activeIndices == [2])
    }

    /// Chunked training forward (state carried across chunks) equals one forward over the whole sequence.
    @Test(arguments: [Family.basic, .attention, .conv, .transformer])
    func chunksCarryStateExactly(_ family: Family) {
        var config = TrainingModelConfig(family: family, data: .events, units: 9, hidden: 8, layers: 2, head: .softmax,
                                         window: family == .transformer ? 5 : 3)
        if family == .conv { (config.residual, config.gate, config.skip, config.layersPerStack, config.stacks, config.headHidden) = (4, 4, 6, 3, 1, 5) }
        if family == .transformer { (config.heads, config.mlp) = (2, 16) }
        let encoding = SequenceEncoding(config, firstPitchIndex: 2)
        let pieces = (0..<3).map { encoding.encode(TrainingPiece(events: events(11 + 4 * $0, classes: 9, seed: UInt64($0)))) }
        // Chunks of 3 and of 24 visit the same present rows in a different interleaving; compare per stream.
        func perStream(steps: Int) -> [[Float]] {
            let model = config.makeModel(batch: 2, maxSteps: steps, seed: 4)
            var rng = TrainingRandom(seed: 0)
            var streams = [[Float]](repeating: [], count: 2)
            for chunk in StreamBatcher(pieces, batch: 2, steps: steps).chunks() {
                let l = model.forward(chunk, training: false, rng: &rng)
                for r in 0..<chunk.rows where chunk.present[r] {
                    streams[r % 2].append(contentsOf: (0..<config.outputs).map { l[r * config.outputs + $0] })
                }
            }
            return streams
        }
        let short = perStream(steps: 3), long = perStream(steps: 24)
        #expect(short.map(\.count) == long.map(\.count))
        #expect(maxDifference(short, long) < 1e-5)
    }
}
