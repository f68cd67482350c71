/// Melody RNN's Lookback RNN: the Basic RNN's LSTM stack and softmax head fed the Lookback encoding.
public final class LookbackRNN: StreamingModel {
    public let config: LookbackRNNConfig
    let core: BasicRNN
    public private(set) var encoder: LookbackEncoder

    public init(config: LookbackRNNConfig, seed: UInt64) {
        self.config = config
        core = BasicRNN(config: Self.coreConfig(config), seed: seed)
        encoder = LookbackEncoder(classes: config.eventClasses, stepsPerBar: config.stepsPerBar)
    }

    public init(weights set: WeightSet) throws(WeightsError) {
        let reader = WeightReader(set)
        config = try LookbackRNNConfig(reader)
        try reader.expectParameters(config.parameterCount, in: set)
        var core = set
        core.metadata = Self.coreConfig(config).metadata
        self.core = try BasicRNN(weights: core)
        encoder = LookbackEncoder(classes: config.eventClasses, stepsPerBar: config.stepsPerBar)
    }

    static func coreConfig(_ c: LookbackRNNConfig) -> BasicRNNConfig {
        BasicRNNConfig(inputSize: c.inputSize, hidden: c.hidden, layers: c.layers, outputs: c.eventClasses)
    }

    public var family: Family { .lookback }
    public var inputSize: Int { config.inputSize }
    public var outputSize: Int { config.eventClasses }
    public var head: OutputHead { .softmax }
    public var logits: UnsafeBufferPointer<Float> { core.logits }
    public var sampler: Sampler { core.sampler }

    public func reset() {
        core.reset()
        encoder.reset()
    }

    public var readsBars: Bool { true }

    public func restart(stepsPerBar: Int, firstStepInBar: Int) {
        core.reset()
        encoder.restart(stepsPerBar: stepsPerBar, firstStepInBar: firstStepInBar)
    }

    /// A step on features the caller encoded; does not advance the encoder's history.
    @discardableResult public func step(_ input: FeatureList) -> UnsafeBufferPointer<Float> { core.step(input) }

    @discardableResult public func step(event: Int) -> UnsafeBufferPointer<Float> { core.step(encoder.encode(event)) }

    public func encode(event: Int) -> FeatureList { encoder.encode(event) }

    public func prepare(_ precision: Precision) { core.prepare(precision) }

    public func prefetch() { core.prefetch() }
    public func touchStepData() { core.touchStepData() }

    public func weights() -> WeightSet {
        var set = core.weights()
        set.metadata = config.metadata
        return set
    }

    public func sequenceForward(_ inputs: [FeatureList]) -> [[Float]] { core.sequenceForward(inputs) }
}
