import Foundation

/// Attention RNN configuration (Melody RNN's Attention RNN; the reference `attn` shape is inputSize 192,
/// hidden 256, 2 layers, window 32, 130 outputs).
public struct AttentionRNNConfig: Sendable, Equatable {
    public var inputSize: Int
    public var hidden: Int
    public var layers: Int
    public var window: Int
    public var outputs: Int
    public var head: OutputHead
    /// The NADE chain's hidden size K (nade_chain; outputs = units + 1 + K), else 0.
    public var chainHidden: Int

    public init(inputSize: Int, hidden: Int, layers: Int, window: Int, outputs: Int, head: OutputHead = .softmax,
                chainHidden: Int = 0) {
        self.inputSize = inputSize
        self.hidden = hidden
        self.layers = layers
        self.window = window
        self.outputs = outputs
        self.head = head
        self.chainHidden = chainHidden
    }

    public var metadata: [String: String] {
        ["family": Family.attention.rawValue, "input_size": "\(inputSize)", "hidden": "\(hidden)", "layers": "\(layers)",
         "window": "\(window)", "outputs": "\(outputs)", "head": head.rawValue].merging(chainMetadata(head, chainHidden)) { $1 }
    }

    init(_ r: WeightReader) throws(WeightsError) {
        let (outputs, head) = (try r.size("outputs"), try r.head())
        self.init(inputSize: try r.size("input_size"), hidden: try r.size("hidden"), layers: try r.integer("layers", in: 1...16),
                  window: try r.integer("window", in: 1...4096), outputs: outputs, head: head,
                  chainHidden: try r.chainHidden(head, outputs: outputs))
    }

    var parameterCount: Int {
        let (i, h) = (inputSize, hidden)
        return i * (i + h) + i + lstmParameters(inputs: i, hidden: h, layers: layers)
            + 2 * h * h + h + h * 2 * h + h + outputs * (h + 1) + chainParameters(head, outputs: outputs, chainHidden)
    }
}

/// The LSTM stack with attention (Magenta AttentionCellWrapper): the input is mixed with the previous
/// attention read, x' = W_in [x; d_{t-1}] + b_in; the top layer's output attends over the last `window`
/// outputs; the head reads W_o [h_t; d_t] + b_o.
public final class AttentionRNN: StreamingModel, RehearsingModel {
    public let config: AttentionRNNConfig
    /// W_in split at the step: the sparse x columns gathered, the dense d part multiplied.
    let mixInput: SparseLinear
    let mixRead: Linear
    let lstm: LSTMStack
    let attention: Attention
    let output: Linear
    /// W_out·W_o on [h_t; d] with bias W_out·b_o + b_out: projection and head have no nonlinearity between
    /// them, so the step applies them as one product ([outputs, 2H] streams fewer bytes than [H, 2H] + [outputs, H]).
    let projectedHead: Linear
    let out: AlignedBuffer<Float>
    public let sampler: Sampler
    public let chain: NADEChain?
    let stash = StateStash()

    public init(config: AttentionRNNConfig, seed: UInt64) {
        self.config = config
        let (i, h) = (config.inputSize, config.hidden)
        mixInput = SparseLinear(inputs: i, outputs: i)
        mixRead = Linear(inputs: h, outputs: i)
        lstm = LSTMStack(inputs: i, hidden: h, layers: config.layers, sparseInput: false)
        attention = Attention(hidden: h, window: config.window)
        output = Linear(inputs: h, outputs: config.outputs)
        projectedHead = Linear(inputs: 2 * padded16(h), outputs: config.outputs)
        out = AlignedBuffer(count: config.outputs)
        sampler = Sampler(count: config.outputs)
        var rng = SeededRandom(seed: seed)
        chain = makeChain(config.head, outputs: config.outputs, config.chainHidden, &rng)
        let bound = 1 / Float(i + h).squareRoot()
        for r in 0..<i {
            for c in 0..<i { mixInput.columns[c, r] = rng.uniform(-bound, bound) }
            for c in 0..<h { mixRead.weight[r, c] = rng.uniform(-bound, bound) }
            mixInput.bias[r] = rng.uniform(-bound, bound)
        }
        lstm.randomize(&rng)
        attention.randomize(&rng)
        output.randomize(&rng)
        composeHead()
        sizeRehearsal()
    }

    /// What a step carries to the next: the LSTM's h and c, the attention's ring slot, read and cursor.
    func keepStepState(in stash: StateStash) {
        lstm.keepState(in: stash)
        attention.keepState(in: stash)
    }

    /// Recomputes the folded head from W_o, b_o, W_out and b_out (in double precision).
    func composeHead() {
        let (h, columns) = (config.hidden, 2 * padded16(config.hidden))
        let wo = attention.output
        for r in 0..<config.outputs {
            for c in 0..<columns {
                var s = 0.0
                for k in 0..<h { s += Double(output.weight[r, k]) * Double(wo.weight[k, c]) }
                projectedHead.weight[r, c] = Float(s)
            }
            var b = Double(output.bias[r])
            for k in 0..<h { b += Double(output.weight[r, k]) * Double(wo.bias[k]) }
            projectedHead.bias[r] = Float(b)
        }
    }

    public convenience init(weights set: WeightSet) throws(WeightsError) {
        let reader = WeightReader(set)
        let config = try AttentionRNNConfig(reader)
        try reader.expectParameters(config.parameterCount, in: set)
        self.init(config: config, seed: 0)
        let (i, h) = (config.inputSize, config.hidden)
        let w = try reader.take(TensorName.weight(TensorName.inputMix), shape: [i, i + h])
        for r in 0..<i {
            for c in 0..<i { mixInput.columns[c, r] = w[r * (i + h) + c] }
            for c in 0..<h { mixRead.weight[r, c] = w[r * (i + h) + i + c] }
        }
        mixInput.bias.copy(from: try reader.take(TensorName.bias(TensorName.inputMix), shape: [i]))
        try lstm.load(reader)
        try attention.load(reader)
        try output.load(reader, TensorName.head)
        try chain?.load(reader)
        try reader.finish()
        composeHead()
    }

    public var family: Family { .attention }
    public var inputSize: Int { config.inputSize }
    public var outputSize: Int { config.outputs }
    public var head: OutputHead { config.head }
    public var logits: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: out.base, count: config.outputs) }

    public func reset() {
        lstm.reset()
        attention.reset()
    }

    @discardableResult public func step(_ input: FeatureList) -> UnsafeBufferPointer<Float> {
        let x = lstm.denseInput
        mixInput.forward(input, into: x)
        mixRead.weight.multiply(attention.read, into: x, accumulate: true)
        lstm.step()
        attention.step(h: lstm.top, c: lstm.topCell)
        projectedHead.forward(attention.joined.base, into: out.base)
        return logits
    }

    @discardableResult public func step(event: Int) -> UnsafeBufferPointer<Float> { step(FeatureList(oneHot: event)) }

    public func prefetch() { ready() }

    public func touchStepData() {
        mixRead.weight.touch()
        lstm.touchStepData()
        attention.touchStepData()
        projectedHead.weight.touch()
        chain?.touch()
    }

    public func prepare(_ precision: Precision) {
        mixRead.prepare(precision)
        lstm.prepare(precision)
        attention.prepare(precision)
        composeHead()
        projectedHead.prepare(precision)
    }

    public func weights() -> WeightSet {
        var set = WeightSet(metadata: config.metadata)
        let (i, h) = (config.inputSize, config.hidden)
        var w = [Float](repeating: 0, count: i * (i + h))
        for r in 0..<i {
            for c in 0..<i { w[r * (i + h) + c] = mixInput.columns[c, r] }
            for c in 0..<h { w[r * (i + h) + i + c] = mixRead.weight[r, c] }
        }
        set.tensors[TensorName.weight(TensorName.inputMix)] = Tensor(shape: [i, i + h], values: w)
        set.tensors[TensorName.bias(TensorName.inputMix)] = Tensor(shape: [i], values: mixInput.bias.array)
        lstm.save(&set)
        attention.save(&set)
        output.save(&set, TensorName.head)
        chain?.save(&set)
        return set
    }

    public func sequenceForward(_ inputs: [FeatureList]) -> [[Float]] {
        let set = weights()
        let (layers, h, n) = (config.layers, config.hidden, config.window)
        var hs = [[Float]](repeating: Plain.zeros(h), count: layers), cs = hs
        var read = Plain.zeros(h)
        var past = [[Float]](repeating: Plain.zeros(h), count: n)  // oldest first
        let t = set.tensors
        return inputs.map { x in
            let mixed = Plain.affine(t[TensorName.weight(TensorName.inputMix)]!, t[TensorName.bias(TensorName.inputMix)]!, x.dense(size: config.inputSize) + read)
            Plain.lstmStep(set, layers: layers, hidden: h, x: mixed, h: &hs, c: &cs)
            let top = hs[layers - 1]
            let q = Plain.affine(t[TensorName.weight(TensorName.attentionQuery)]!, nil, cs[layers - 1])
            let u = past.map { p in
                let k = Plain.affine(t[TensorName.weight(TensorName.attentionKey)]!, nil, p)
                return (0..<h).reduce(Float(0)) { $0 + t[TensorName.attentionScore]!.values[$1] * Foundation.tanh(k[$1] + q[$1]) }
            }
            let m = u.max()!
            let e = u.map { Foundation.exp($0 - m) }
            let total = e.reduce(0, +)
            read = (0..<h).map { j in (0..<n).reduce(Float(0)) { $0 + e[$1] / total * past[$1][j] } }
            let projected = Plain.affine(t[TensorName.weight(TensorName.attentionOutput)]!, t[TensorName.bias(TensorName.attentionOutput)]!, top + read)
            past.removeFirst()
            past.append(top)
            return Plain.affine(t[TensorName.weight(TensorName.head)]!, t[TensorName.bias(TensorName.head)]!, projected)
        }
    }
}
