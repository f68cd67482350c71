import Testing
@testable import Neural

/// The streaming step (SIMD kernels, caches, rings, queues) against the plain full-sequence forward, for
/// every family, on sizes off the 16-lane padding.
@Suite struct StreamingEquivalenceTests {
    func check(_ model: any StreamingModel, _ inputs: [FeatureList], tolerance: Float = 1e-5) {
        let expected = model.sequenceForward(inputs)
        for pass in 0..<2 {  // the second pass checks that reset() really clears every state
            model.reset()
            var worst: Float = 0
            for (t, x) in inputs.enumerated() {
                if pass == 1 { model.prefetch() }  // touching the weights must not change anything
                worst = max(worst, maxAbsDifference(Array(model.step(x)), expected[t]))
            }
            #expect(worst < tolerance, "pass \(pass): max |streaming - full sequence| = \(worst)")
        }
    }

    @Test func basicRNN() {
        let model = BasicRNN(config: BasicRNNConfig(inputSize: 45, hidden: 20, layers: 3, outputs: 38), seed: 1)
        check(model, randomInputs(40, size: 45, oneHot: 38, extra: 2, seed: 2))
    }

    @Test func basicRNNMultiHotHead() {
        let model = BasicRNN(config: BasicRNNConfig(inputSize: 12, hidden: 33, layers: 1, outputs: 9, head: .multiHot), seed: 3)
        check(model, randomInputs(30, size: 12, oneHot: 9, extra: 3, seed: 4))
    }

    @Test func lookbackRNN() {
        let config = LookbackRNNConfig(eventClasses: 14, stepsPerBar: 4, hidden: 24, layers: 2)
        let model = LookbackRNN(config: config, seed: 5)
        var encoder = LookbackEncoder(classes: 14, stepsPerBar: 4)
        var rng = SeededRandom(seed: 6)
        // A melody with repeats, so the repeat flags fire.
        let motif = (0..<8).map { _ in Int(rng.next() % 14) }
        let events = (0..<48).map { t in t % 16 < 8 ? motif[t % 8] : Int(rng.next() % 14) }
        let inputs = events.map { encoder.encode($0) }
        check(model, inputs)
        // The family's own encoder gives the same logits as the explicitly encoded features.
        let expected = model.sequenceForward(inputs)
        model.reset()
        var worst: Float = 0
        for (t, e) in events.enumerated() { worst = max(worst, maxAbsDifference(Array(model.step(event: e)), expected[t])) }
        #expect(worst < 1e-5)
    }

    @Test func attentionRNN() {
        let config = AttentionRNNConfig(inputSize: 30, hidden: 20, layers: 2, window: 5, outputs: 26)
        let model = AttentionRNN(config: config, seed: 7)
        check(model, randomInputs(25, size: 30, oneHot: 26, extra: 2, seed: 8))
    }

    @Test func causalConvPredictor() {
        let config = ConvPredictorConfig(inputSize: 21, residual: 12, gate: 10, skip: 18, layersPerStack: 4, stacks: 2,
                                         headHidden: 14, outputs: 17)
        let model = ConvPredictor(config: config, seed: 9)
        // Longer than the receptive field (31), so every queue wraps.
        check(model, randomInputs(70, size: 21, oneHot: 17, extra: 2, seed: 10))
    }

    /// Width 24 in 3 heads of 8 (off the 16 lanes), a window of 6 over 40 steps, so the KV ring wraps many
    /// times, and a NADE chain head.
    @Test func transformer() {
        let config = TransformerConfig(inputSize: 29, width: 24, layers: 3, heads: 3, mlp: 40, window: 6, outputs: 11 + 1 + 5,
                                       head: .nadeChain, chainHidden: 5)
        let model = Transformer(config: config, seed: 13)
        check(model, randomInputs(40, size: 29, oneHot: 11, extra: 3, seed: 14))
    }

    /// `prefetch()` runs a rehearsal step and puts back what it changed: at every precision, a model
    /// prefetched before every step (and once more between a step and reading its logits) steps bit for bit
    /// as one never prefetched, in every family, past the point where every ring, queue and KV cache wraps.
    @Test(arguments: Precision.allCases)
    func prefetchingLeavesTheStateExactlyAsItWas(_ precision: Precision) throws {
        let models: [(any StreamingModel, [FeatureList])] = [
            (BasicRNN(config: BasicRNNConfig(inputSize: 45, hidden: 20, layers: 3, outputs: 38), seed: 1),
             randomInputs(40, size: 45, oneHot: 38, extra: 2, seed: 2)),
            (LookbackRNN(config: LookbackRNNConfig(eventClasses: 14, stepsPerBar: 4, hidden: 24, layers: 2), seed: 5),
             randomInputs(40, size: LookbackRNNConfig(eventClasses: 14, stepsPerBar: 4, hidden: 24, layers: 2).inputSize,
                          oneHot: 14, extra: 3, seed: 6)),
            (AttentionRNN(config: AttentionRNNConfig(inputSize: 30, hidden: 20, layers: 2, window: 5, outputs: 26), seed: 7),
             randomInputs(25, size: 30, oneHot: 26, extra: 2, seed: 8)),
            (ConvPredictor(config: ConvPredictorConfig(inputSize: 21, residual: 12, gate: 10, skip: 18, layersPerStack: 4,
                                                       stacks: 2, headHidden: 14, outputs: 17), seed: 9),
             randomInputs(70, size: 21, oneHot: 17, extra: 2, seed: 10)),
            (Transformer(config: TransformerConfig(inputSize: 29, width: 24, layers: 3, heads: 3, mlp: 40, window: 6,
                                                   outputs: 11 + 1 + 5, head: .nadeChain, chainHidden: 5), seed: 13),
             randomInputs(60, size: 29, oneHot: 11, extra: 3, seed: 14)),
        ]
        for (source, inputs) in models {
            let plain = try makeModel(from: source.weights(), precision: precision)
            let prefetched = try makeModel(from: source.weights(), precision: precision)
            var worst: Float = 0
            for x in inputs {
                let expected = Array(plain.step(x))
                prefetched.prefetch()
                prefetched.step(x)
                prefetched.prefetch()
                worst = max(worst, maxAbsDifference(Array(prefetched.logits), expected))
            }
            #expect(worst == 0, "\(source.family) at \(precision): max |prefetched - plain| = \(worst)")
        }
    }

    /// Steps taken back and fed again (as a band decoder does when the chord arrives late) leave the model
    /// exactly where feeding them once would have, also once the KV ring has wrapped.
    @Test func transformerStepsTakenBackAndFedAgainAreAsFedOnce() {
        let config = TransformerConfig(inputSize: 30, width: 16, layers: 2, heads: 2, mlp: 24, window: 7, outputs: 12)
        let inputs = randomInputs(30, size: 30, oneHot: 12, extra: 2, seed: 17)
        let other = randomInputs(30, size: 30, oneHot: 12, extra: 2, seed: 18)
        let once = Transformer(config: config, seed: 19), again = Transformer(config: config, seed: 19)
        var worst: Float = 0
        for t in inputs.indices {
            let expected = Array(once.step(inputs[t]))
            if t % 5 == 4 {
                // Three wrong steps, taken back.
                for k in 0..<3 { again.step(other[(t + k) % other.count]) }
                again.rewind(3)
            }
            worst = max(worst, maxAbsDifference(Array(again.step(inputs[t])), expected))
        }
        #expect(worst == 0)
    }

    @Test func transformerStepsAtEveryPrecision() throws {
        let config = TransformerConfig(inputSize: 40, width: 64, layers: 2, heads: 4, mlp: 128, window: 16, outputs: 40)
        let model = Transformer(config: config, seed: 15)
        let inputs = randomInputs(50, size: 40, oneHot: 40, extra: 0, seed: 16)
        let full = inputs.map { Array(model.step($0)) }
        var worstAt: [Precision: Float] = [:]
        for precision in [Precision.fp16, .int8, .int8WideAttention] {
            let reduced = try makeModel(from: model.weights(), precision: precision)
            reduced.reset()
            let worst = zip(full, inputs.map { Array(reduced.step($0)) }).map { maxAbsDifference($0, $1) }.max()!
            #expect(worst > 0 && worst < (precision == .fp16 ? 1e-2 : 0.1), "\(precision): \(worst)")
            worstAt[precision] = worst
            // The wide attention's KV cache is fp32; int8's and fp16's are fp16.
            let halves = (reduced as! Transformer).blocks.map { $0.cache.halves }
            #expect(halves.allSatisfy { $0 == (precision != .int8WideAttention) }, "\(precision)")
        }
        // Its attention at fp16 and fp32 takes away part of int8's error, never adds to it.
        #expect(worstAt[.int8WideAttention]! < worstAt[.int8]!, "\(worstAt)")
    }

    /// Below fp32 the KV cache holds fp16. A model prepared between steps carries its cache over (the next
    /// steps stay within fp16's error of the fp32 run, where a cache lost would start the context again),
    /// and steps taken back and fed again on the fp16 cache are exactly as fed once.
    @Test func theCacheGoesToHalvesBelowFp32AndKeepsItsContext() {
        let config = TransformerConfig(inputSize: 30, width: 32, layers: 2, heads: 2, mlp: 48, window: 9, outputs: 12)
        let inputs = randomInputs(40, size: 30, oneHot: 12, extra: 2, seed: 21)
        let full = Transformer(config: config, seed: 22), switched = Transformer(config: config, seed: 22)
        let fresh = Transformer(config: config, seed: 22)
        for t in 0..<20 { full.step(inputs[t]); switched.step(inputs[t]) }
        switched.prepare(.fp16)
        fresh.prepare(.fp16)
        #expect(switched.blocks.allSatisfy { $0.cache.halves })
        var carried: Float = 0, restarted: Float = 0
        for t in 20..<24 {
            let expected = Array(full.step(inputs[t]))
            carried = max(carried, maxAbsDifference(Array(switched.step(inputs[t])), expected))
            restarted = max(restarted, maxAbsDifference(Array(fresh.step(inputs[t])), expected))
        }
        #expect(carried > 0 && carried < 1e-2, "the fp16 cache's error: \(carried)")
        #expect(restarted > 10 * carried, "a cache that lost its context would be this far off: \(restarted)")
        switched.prepare(.fp32)
        #expect(switched.blocks.allSatisfy { !$0.cache.halves })
        // At int8 the q/k/v projection takes a 16-bit input against its 8-bit weights; every other product
        // quantises its input to 8 bits.
        switched.prepare(.int8)
        #expect(switched.blocks.allSatisfy { block in
            block.qkv.weight.half == nil && block.qkv.weight.quantized?.wordScratch != nil && block.cache.halves
                && [block.up, block.down, block.output].allSatisfy { $0.weight.quantized != nil && $0.weight.quantized?.wordScratch == nil }
        })
        #expect(switched.output.weight.quantized != nil)

        let once = Transformer(config: config, seed: 23), again = Transformer(config: config, seed: 23)
        once.prepare(.int8)
        again.prepare(.int8)
        var worst: Float = 0
        for t in inputs.indices {
            let expected = Array(once.step(inputs[t]))
            if t % 6 == 5 {
                for k in 0..<4 { again.step(inputs[(t + 7 + k) % inputs.count]) }
                again.rewind(4)
            }
            worst = max(worst, maxAbsDifference(Array(again.step(inputs[t])), expected))
        }
        #expect(worst == 0)
    }

    @Test func halfPrecisionStaysCloseToFullPrecision() {
        let model = BasicRNN(config: BasicRNNConfig(inputSize: 40, hidden: 64, layers: 2, outputs: 40), seed: 11)
        let inputs = randomInputs(50, size: 40, oneHot: 40, extra: 0, seed: 12)
        let full = inputs.map { Array(model.step($0)) }
        model.prepare(.fp16)
        model.reset()
        let half = inputs.map { Array(model.step($0)) }
        let worst = zip(full, half).map { maxAbsDifference($0, $1) }.max()!
        #expect(worst > 0 && worst < 1e-2)
    }
}

@Suite struct LookbackEncoderTests {
    @Test func featuresFollowMagentasLookbackEncoding() {
        let classes = 5, bar = 2
        var encoder = LookbackEncoder(classes: classes, stepsPerBar: bar)
        let events = [3, 4, 3, 1, 3, 4]
        let lists = events.map { encoder.encode($0) }
        // Offsets: event [0,5), 1 bar back [5,10), 2 bars back [10,15), clock [15,20), repeat flags 20, 21.
        func dense(_ t: Int) -> [Float] { lists[t].dense(size: LookbackEncoder.inputSize(classes: classes)) }
        // t = 2: event 3; next position 3 looks back to position 3 - 2 = 1 (event 4) and 3 - 4 < 0 (NO_EVENT).
        let x2 = dense(2)
        #expect(x2[3] == 1 && x2[5 + 4] == 1 && x2[10 + 0] == 1)
        // Clock of position 3 = 0b00011.
        #expect(Array(x2[15..<20]) == [1, 1, -1, -1, -1])
        // Event 3 at t = 2 repeats t = 0 (1 bar before); nothing 2 bars before.
        #expect(x2[20] == 1 && x2[21] == 0)
        // t = 0: nothing before the start; lookbacks are NO_EVENT (0) and no repeat flag.
        let x0 = dense(0)
        #expect(x0[3] == 1 && x0[5 + 0] == 1 && x0[10 + 0] == 1 && x0[20] == 0 && x0[21] == 0)
        #expect(Array(x0[15..<20]) == [1, -1, -1, -1, -1])
        // t = 4: event 3; next position 5 looks back to 3 (event 1) and 1 (event 4); 3 repeats t = 2 and t = 0.
        let x4 = dense(4)
        #expect(x4[3] == 1 && x4[5 + 1] == 1 && x4[10 + 4] == 1)
        #expect(x4[20] == 1 && x4[21] == 1)
        #expect(lists[4].count == 10)
        #expect(lists.allSatisfy { $0.count <= 10 })
        encoder.reset()
        #expect(encoder.encode(3) == lists[0])
    }

    /// A melody read in another meter: the lookbacks reach back by its bar, and the clock counts from the
    /// downbeat before its first step.
    @Test func restartReadsTheMelodyInItsOwnBar() {
        let classes = 5
        var trained = LookbackEncoder(classes: classes, stepsPerBar: 2)
        var waltz = trained
        waltz.restart(stepsPerBar: 3, firstStepInBar: 2)
        #expect(waltz.stepsPerBar == 3 && waltz.clockOffset == 2)
        let events = [3, 4, 1, 3, 4]
        let lists = events.map { waltz.encode($0) }
        func dense(_ t: Int) -> [Float] { lists[t].dense(size: LookbackEncoder.inputSize(classes: classes)) }
        // t = 3: event 3; the next position 4 looks back 3 steps to position 1 (event 4); the event at t = 3
        // repeats the one 3 steps before (t = 0).
        let x3 = dense(3)
        #expect(x3[5 + 4] == 1 && x3[20] == 1)
        // The clock of position 4 counted from the downbeat 2 steps before the first: 4 + 2 = 6 = 0b00110.
        #expect(Array(x3[15..<20]) == [-1, 1, 1, -1, -1])
        // In the trained bar of 2, the same melody looks back to position 2 instead (event 1), from clock 4.
        let plain = events.map { trained.encode($0) }
        let p3 = plain[3].dense(size: LookbackEncoder.inputSize(classes: classes))
        #expect(p3[5 + 1] == 1 && Array(p3[15..<20]) == [-1, -1, 1, -1, -1])
        // A bar past the history's size is held to the longest the encoder keeps.
        waltz.restart(stepsPerBar: 1000, firstStepInBar: -1)
        #expect(waltz.stepsPerBar == LookbackEncoder.maxStepsPerBar && waltz.clockOffset == LookbackEncoder.maxStepsPerBar - 1)
    }
}
