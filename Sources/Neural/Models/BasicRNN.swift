/// Basic RNN configuration: one-hot (or any sparse) input → LSTM stack → output head.
public struct BasicRNNConfig: Sendable, Equatable {
    public var inputSize: Int
    public var hidden: Int
    public var layers: Int
    public var outputs: Int
    public var head: OutputHead
    /// The NADE chain's hidden size K (nade_chain; outputs = units + 1 + K), else 0.
    public var chainHidden: Int

    public init(inputSize: Int, hidden: Int, layers: Int, outputs: Int, head: OutputHead = .softmax, chainHidden: Int = 0) {
        self.inputSize = inputSize
        self.hidden = hidden
        self.layers = layers
        self.outputs = outputs
        self.head = head
        self.chainHidden = chainHidden
    }

    public var metadata: [String: String] {
        ["family": Family.basic.rawValue, "input_size": "\(inputSize)", "hidden": "\(hidden)",
         "layers": "\(layers)", "outputs": "\(outputs)", "head": head.rawValue].merging(chainMetadata(head, chainHidden)) { $1 }
    }

    init(_ r: WeightReader) throws(WeightsError) {
        let (outputs, head) = (try r.size("outputs"), try r.head())
        self.init(inputSize: try r.size("input_size"), hidden: try r.size("hidden"),
                  layers: try r.integer("layers", in: 1...16), outputs: outputs, head: head,
                  chainHidden: try r.chainHidden(head, outputs: outputs))
    }

    var parameterCount: Int {
        lstmParameters(inputs: inputSize, hidden: hidden, layers: layers) + outputs * (hidden + 1)
            + chainParameters(head, outputs: outputs, chainHidden)
    }
}

/// Melody RNN's Basic RNN: the previous event one-hot, an LSTM stack, logits over the events.
public final class BasicRNN: StreamingModel, RehearsingModel {
    public let config: BasicRNNConfig
    let lstm: LSTMStack
    let output: Linear
    let out: AlignedBuffer<Float>
    public let sampler: Sampler
    public let chain: NADEChain?
    let stash = StateStash()

    public init(config: BasicRNNConfig, seed: UInt64) {
        self.config = config
        lstm = LSTMStack(inputs: config.inputSize, hidden: config.hidden, layers: config.layers, sparseInput: true)
        output = Linear(inputs: config.hidden, outputs: config.outputs)
        out = AlignedBuffer(count: config.outputs)
        sampler = Sampler(count: config.outputs)
        var rng = SeededRandom(seed: seed)
        chain = makeChain(config.head, outputs: config.outputs, config.chainHidden, &rng)
        lstm.randomize(&rng)
        output.randomize(&rng)
        sizeRehearsal()
    }

    func keepStepState(in stash: StateStash) { lstm.keepState(in: stash) }

    public convenience init(weights set: WeightSet) throws(WeightsError) {
        let reader = WeightReader(set)
        let config = try BasicRNNConfig(reader)
        try reader.expectParameters(config.parameterCount, in: set)
        self.init(config: config, seed: 0)
        try lstm.load(reader)
        try output.load(reader, TensorName.head)
        try chain?.load(reader)
        try reader.finish()
    }

    public var family: Family { .basic }
    public var inputSize: Int { config.inputSize }
    public var outputSize: Int { config.outputs }
    public var head: OutputHead { config.head }
    public var logits: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: out.base, count: config.outputs) }

    public func reset() { lstm.reset() }

    @discardableResult public func step(_ input: FeatureList) -> UnsafeBufferPointer<Float> {
        lstm.step(input)
        output.forward(lstm.top, into: out.base)
        return logits
    }

    @discardableResult public func step(event: Int) -> UnsafeBufferPointer<Float> { step(FeatureList(oneHot: event)) }

    public func prefetch() { ready() }

    public func touchStepData() {
        lstm.touchStepData()
        output.weight.touch()
        chain?.touch()
    }

    public func prepare(_ precision: Precision) {
        lstm.prepare(precision)
        output.prepare(precision)
    }

    public func weights() -> WeightSet {
        var set = WeightSet(metadata: config.metadata)
        lstm.save(&set)
        output.save(&set, TensorName.head)
        chain?.save(&set)
        return set
    }

    public func sequenceForward(_ inputs: [FeatureList]) -> [[Float]] {
        let set = weights()
        let (layers, hidden) = (config.layers, config.hidden)
        var h = [[Float]](repeating: Plain.zeros(hidden), count: layers), c = h
        return inputs.map { x in
            Plain.lstmStep(set, layers: layers, hidden: hidden, x: x.dense(size: config.inputSize), h: &h, c: &c)
            return Plain.affine(set.tensors[TensorName.weight(TensorName.head)]!, set.tensors[TensorName.bias(TensorName.head)]!, h[layers - 1])
        }
    }
}
