import Foundation

/// Causal conv predictor configuration (WaveNet). The reference `wavenet` shape: input 192, residual 64,
/// gate 64, skip 128, 2 stacks of 8 layers (dilations 1...128), head hidden 128, 130 outputs.
public struct ConvPredictorConfig: Sendable, Equatable {
    public var inputSize: Int
    public var residual: Int
    public var gate: Int
    public var skip: Int
    public var layersPerStack: Int
    public var stacks: Int
    public var headHidden: Int
    public var outputs: Int
    public var head: OutputHead
    /// The NADE chain's hidden size K (nade_chain; outputs = units + 1 + K), else 0.
    public var chainHidden: Int

    public init(inputSize: Int, residual: Int = 64, gate: Int = 64, skip: Int = 128, layersPerStack: Int = 8,
                stacks: Int = 2, headHidden: Int = 128, outputs: Int, head: OutputHead = .softmax, chainHidden: Int = 0) {
        self.inputSize = inputSize
        self.residual = residual
        self.gate = gate
        self.skip = skip
        self.layersPerStack = layersPerStack
        self.stacks = stacks
        self.headHidden = headHidden
        self.outputs = outputs
        self.head = head
        self.chainHidden = chainHidden
    }

    /// 1, 2, 4, ... 2^(layersPerStack-1), repeated for each stack.
    public var dilations: [Int] { (0..<stacks).flatMap { _ in (0..<layersPerStack).map { 1 << $0 } } }
    /// Steps of past input one output depends on (the receptive field).
    public var receptiveField: Int { dilations.reduce(1, +) }

    public var metadata: [String: String] {
        ["family": Family.conv.rawValue, "input_size": "\(inputSize)", "residual": "\(residual)", "gate": "\(gate)",
         "skip": "\(skip)", "layers_per_stack": "\(layersPerStack)", "stacks": "\(stacks)",
         "head_hidden": "\(headHidden)", "outputs": "\(outputs)", "head": head.rawValue].merging(chainMetadata(head, chainHidden)) { $1 }
    }

    init(_ r: WeightReader) throws(WeightsError) {
        let (outputs, head) = (try r.size("outputs"), try r.head())
        self.init(inputSize: try r.size("input_size"), residual: try r.size("residual"), gate: try r.size("gate"),
                  skip: try r.size("skip"), layersPerStack: try r.integer("layers_per_stack", in: 1...16),
                  stacks: try r.integer("stacks", in: 1...8), headHidden: try r.size("head_hidden"),
                  outputs: outputs, head: head, chainHidden: try r.chainHidden(head, outputs: outputs))
    }

    var parameterCount: Int {
        let perLayer = 2 * gate * (2 * residual + 1) + residual * (gate + 1) + skip * (gate + 1)
        return residual * (inputSize + 1) + stacks * layersPerStack * perLayer
            + headHidden * (skip + 1) + outputs * (headHidden + 1) + chainParameters(head, outputs: outputs, chainHidden)
    }
}

/// WaveNet-style causal conv predictor: 1x1 input conv (a gather, the input being sparse), gated residual
/// layers streamed with Fast-WaveNet queues, ReLU → 1x1 → ReLU → 1x1 head.
public final class ConvPredictor: StreamingModel, RehearsingModel {
    public let config: ConvPredictorConfig
    let input: SparseLinear
    let stack: DilatedConvStack
    let hidden: Linear
    let output: Linear
    let headState: AlignedBuffer<Float>
    let out: AlignedBuffer<Float>
    public let sampler: Sampler
    public let chain: NADEChain?
    let stash = StateStash()

    public init(config: ConvPredictorConfig, seed: UInt64) {
        self.config = config
        input = SparseLinear(inputs: config.inputSize, outputs: config.residual)
        stack = DilatedConvStack(residual: config.residual, gate: config.gate, skip: config.skip, dilations: config.dilations)
        hidden = Linear(inputs: config.skip, outputs: config.headHidden)
        output = Linear(inputs: config.headHidden, outputs: config.outputs)
        headState = AlignedBuffer(count: config.headHidden)
        out = AlignedBuffer(count: config.outputs)
        sampler = Sampler(count: config.outputs)
        var rng = SeededRandom(seed: seed)
        chain = makeChain(config.head, outputs: config.outputs, config.chainHidden, &rng)
        input.randomize(&rng)
        stack.randomize(&rng)
        hidden.randomize(&rng)
        output.randomize(&rng)
        sizeRehearsal()
    }

    func keepStepState(in stash: StateStash) { stack.keepState(in: stash) }

    public convenience init(weights set: WeightSet) throws(WeightsError) {
        let reader = WeightReader(set)
        let config = try ConvPredictorConfig(reader)
        try reader.expectParameters(config.parameterCount, in: set)
        self.init(config: config, seed: 0)
        try input.load(reader, TensorName.convInput)
        try stack.load(reader)
        try hidden.load(reader, TensorName.headHidden)
        try output.load(reader, TensorName.headOutput)
        try chain?.load(reader)
        try reader.finish()
    }

    public var family: Family { .conv }
    public var inputSize: Int { config.inputSize }
    public var outputSize: Int { config.outputs }
    public var head: OutputHead { config.head }
    public var logits: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: out.base, count: config.outputs) }

    public func reset() { stack.reset() }

    @discardableResult public func step(_ x: FeatureList) -> UnsafeBufferPointer<Float> {
        input.forward(x, into: stack.stream.base)
        stack.step()
        applyReLU(stack.skip.base, count: stack.skip.paddedCount)
        hidden.forward(stack.skip.base, into: headState.base)
        applyReLU(headState.base, count: headState.paddedCount)
        output.forward(headState.base, into: out.base)
        return logits
    }

    @discardableResult public func step(event: Int) -> UnsafeBufferPointer<Float> { step(FeatureList(oneHot: event)) }

    public func prefetch() { ready() }

    public func touchStepData() {
        stack.touchStepData()
        hidden.weight.touch()
        output.weight.touch()
        headState.touch()
        out.touch()
        chain?.touch()
    }

    public func prepare(_ precision: Precision) {
        stack.prepare(precision)
        hidden.prepare(precision)
        output.prepare(precision)
    }

    public func weights() -> WeightSet {
        var set = WeightSet(metadata: config.metadata)
        input.save(&set, TensorName.convInput)
        stack.save(&set)
        hidden.save(&set, TensorName.headHidden)
        output.save(&set, TensorName.headOutput)
        chain?.save(&set)
        return set
    }

    /// The ordinary full-sequence causal dilated convolution, layer by layer over all T steps (zero left
    /// padding), with no queues.
    public func sequenceForward(_ inputs: [FeatureList]) -> [[Float]] {
        let set = weights()
        let t = set.tensors
        let c = config
        func affine(_ prefix: String, _ x: [Float]) -> [Float] { Plain.affine(t[TensorName.weight(prefix)]!, t[TensorName.bias(prefix)]!, x) }
        var x = inputs.map { affine(TensorName.convInput, $0.dense(size: c.inputSize)) }
        var skip = [[Float]](repeating: Plain.zeros(c.skip), count: inputs.count)
        for (l, d) in c.dilations.enumerated() {
            let layer = TensorName.convLayer(l)
            let w = t[TensorName.weight(TensorName.dilated(layer))]!.values, b = t[TensorName.bias(TensorName.dilated(layer))]!.values
            var next = x
            for time in 0..<inputs.count {
                let past = time >= d ? x[time - d] : Plain.zeros(c.residual)
                var gated = Plain.zeros(c.gate)
                for o in 0..<c.gate {
                    var f = b[o], g = b[c.gate + o]
                    for ch in 0..<c.residual {
                        f += w[(o * c.residual + ch) * 2] * past[ch] + w[(o * c.residual + ch) * 2 + 1] * x[time][ch]
                        let og = c.gate + o
                        g += w[(og * c.residual + ch) * 2] * past[ch] + w[(og * c.residual + ch) * 2 + 1] * x[time][ch]
                    }
                    gated[o] = Foundation.tanh(f) * Plain.sigmoid(g)
                }
                let s = affine(TensorName.skip(layer), gated)
                let r = affine(TensorName.residual(layer), gated)
                for j in 0..<c.skip { skip[time][j] += s[j] }
                for j in 0..<c.residual { next[time][j] += r[j] }
            }
            x = next
        }
        return skip.map { s in
            let h = affine(TensorName.headHidden, s.map { max($0, 0) })
            return affine(TensorName.headOutput, h.map { max($0, 0) })
        }
    }
}
