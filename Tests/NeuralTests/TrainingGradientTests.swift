import Foundation
import Testing
@testable import Neural

/// Every layer's backward against central finite differences, through whole tiny models so that each layer is
/// checked with the gradient it really receives (resets inside the chunk, padding rows, ±1 input values).
@Suite struct TrainingGradientTests {
    static let tolerance = 2e-2

    /// `spread`: redraw every weight but the layer norms' uniformly in ±spread first. The transformer starts
    /// at GPT-2's σ 0.02, where its layer norms divide by a stream that small and a finite difference of 1e-2
    /// is no longer small; weights of ordinary size make the check a check of the backward.
    func check(_ config: TrainingModelConfig, steps: Int = 5, batch: Int = 2, training: Bool = false, spread: Float? = nil) {
        let model = config.makeModel(batch: batch, maxSteps: steps, seed: 3)
        if let spread {
            var rng = TrainingRandom(seed: 4)
            for p in model.parameters where !p.name.contains("norm") {
                for i in 0..<p.count { p.value[i] = rng.uniform(-spread, spread) }
            }
        }
        let chunk = TrainingFixtures.chunk(config, steps: steps, batch: batch, seed: 11)
        let (error, name) = TrainingFixtures.worstGradientError(model, chunk, training: training)
        #expect(error < Self.tolerance, "worst: \(name)")
    }

    @Test func basicLSTMStackWithSoftmax() {
        check(TrainingModelConfig(family: .basic, data: .events, units: 7, hidden: 5, layers: 2, head: .softmax))
    }

    /// Hidden 17 runs the 16-lane gate loops and their scalar tail; the built-in GEMM runs every product.
    @Test func wideLSTMOnBuiltInGemm() {
        Gemm.$backend.withValue(.builtIn) {
            check(TrainingModelConfig(family: .basic, data: .events, units: 9, hidden: 17, layers: 2, head: .softmax))
        }
    }

    @Test func lstmWithDropoutActive() {
        check(TrainingModelConfig(family: .basic, data: .events, units: 6, hidden: 4, layers: 2, head: .softmax, dropout: 0.3),
              training: true)
    }

    @Test func lstmWithMultiHotHead() {
        check(TrainingModelConfig(family: .basic, data: .frames, units: 6, hidden: 4, layers: 1, head: .multiHot))
    }

    @Test func lstmWithPitchChainHead() {
        check(TrainingModelConfig(family: .basic, data: .frames, units: 6, hidden: 4, layers: 1, head: .pitchChain))
    }

    @Test func lookbackInputs() {
        check(TrainingModelConfig(family: .lookback, data: .events, units: 5, hidden: 4, layers: 1, head: .softmax, stepsPerBar: 2))
    }

    @Test func attentionRNN() {
        check(TrainingModelConfig(family: .attention, data: .events, units: 6, hidden: 4, layers: 2, head: .softmax, window: 3),
              steps: 6)
    }

    @Test func causalConvStack() {
        var config = TrainingModelConfig(family: .conv, data: .events, units: 6, hidden: 1, layers: 1, head: .softmax)
        (config.residual, config.gate, config.skip, config.layersPerStack, config.stacks, config.headHidden) = (3, 4, 5, 2, 2, 4)
        check(config, steps: 6)
    }

    @Test func attentionAndConvWithDropoutActive() {
        check(TrainingModelConfig(family: .attention, data: .events, units: 6, hidden: 4, layers: 1, head: .softmax, window: 2,
                                  dropout: 0.3), steps: 5, training: true)
        var config = TrainingModelConfig(family: .conv, data: .frames, units: 6, hidden: 1, layers: 1, head: .pitchChain, dropout: 0.3)
        (config.residual, config.gate, config.skip, config.layersPerStack, config.stacks, config.headHidden) = (3, 4, 5, 2, 1, 4)
        check(config, steps: 6, training: true)
    }

    static func transformer(_ data: TrainingModelConfig.DataKind, head: HeadKind, units: Int = 6, dropout: Float = 0) -> TrainingModelConfig {
        var config = TrainingModelConfig(family: .transformer, data: data, units: units, hidden: 8, layers: 2, head: head, window: 3,
                                         dropout: dropout)
        (config.heads, config.mlp) = (2, 12)
        return config
    }

    /// Layer norms, ALiBi attention over a window shorter than the chunk (so rows reach back across a reset and
    /// are cut by the window), GELU MLP, two blocks.
    @Test func transformerBlocks() {
        check(Self.transformer(.events, head: .softmax), steps: 7, spread: 0.5)
        // The attention's strided products on the built-in GEMM too.
        Gemm.$backend.withValue(.builtIn) { check(Self.transformer(.events, head: .softmax), steps: 7, spread: 0.5) }
    }

    @Test func transformerWithDropoutAndAChainHead() {
        check(Self.transformer(.frames, head: .pitchChain, dropout: 0.3), steps: 6, training: true, spread: 0.5)
    }

    /// The input map's own dropout (GPT-2's embedding dropout) beside the branches'.
    @Test func transformerWithInputDropout() {
        var config = Self.transformer(.events, head: .softmax, dropout: 0.2)
        config.inputDropout = 0.4
        check(config, steps: 6, training: true, spread: 0.5)
    }

    /// The heads alone, on random logits: softmax, sigmoid and the pitch chain.
    @Test(arguments: [HeadKind.softmax, .multiHot, .pitchChain])
    func headGradients(_ head: HeadKind) {
        let units = 7
        let outputs = head.outputs(units: units)
        var rng = TrainingRandom(seed: 2)
        var logits = (0..<(3 * outputs)).map { _ in rng.uniform(-2, 2) }
        var targets = SparseRows()
        targets.append(indices: head == .softmax ? [4] : [1, 3, 6])
        targets.append(indices: head == .softmax ? [0] : [])
        targets.append(indices: head == .softmax ? [6] : [0, 1, 2, 3, 4, 5, 6])
        let present = [true, true, true]
        func loss(_ l: [Float]) -> Double {
            l.withUnsafeBufferPointer { head.loss($0.baseAddress!, rows: 3, outputs: outputs, targets: targets, present: present, scale: 1, grad: nil) }
        }
        var grad = [Float](repeating: 0, count: logits.count)
        _ = logits.withUnsafeBufferPointer { l in
            grad.withUnsafeMutableBufferPointer { head.loss(l.baseAddress!, rows: 3, outputs: outputs, targets: targets, present: present, scale: 1, grad: $0.baseAddress!) }
        }
        // The trainer writes the gradient over the logits: the loss it returns must be the same.
        var aliased = logits
        let inPlace = aliased.withUnsafeMutableBufferPointer {
            head.loss($0.baseAddress!, rows: 3, outputs: outputs, targets: targets, present: present, scale: 1, grad: $0.baseAddress!)
        }
        #expect(Swift.abs(inPlace - loss(logits)) < 1e-9)
        expectCentralDifferences(
            count: logits.count, read: { logits[$0] }, write: { logits[$0] = $1 }, analytic: { grad[$0] }, absolute: 1e-3,
            label: { "logit \($0)" }, loss: { loss(logits) })
    }

    /// The chain's probabilities of all 2^units sets sum to one: its NLL is an exact likelihood.
    @Test func pitchChainIsANormalisedDistributionOverSets() {
        let units = 6
        var rng = TrainingRandom(seed: 4)
        let logits = (0...units).map { _ in rng.uniform(-2, 2) }
        var total = 0.0
        for mask in 0..<(1 << units) {
            var t = SparseRows()
            t.append(indices: (0..<units).filter { mask >> $0 & 1 == 1 })
            let nll = logits.withUnsafeBufferPointer {
                HeadKind.pitchChain.loss($0.baseAddress!, rows: 1, outputs: units + 1, targets: t, present: [true], scale: 1, grad: nil)
            }
            total += exp(-nll)
        }
        #expect(Swift.abs(total - 1) < 1e-6)
    }
}
