/// The configuration of a model being trained, written to `__metadata__` in the keys the streaming families
/// read (ModelMetadata.swift), plus the training-only keys `data` (what a step holds), `units` and `dropout`.
public struct TrainingModelConfig: Sendable, Equatable {
    /// What one step of the data is: a melody event (softmax over events) or a set of units (piano-roll frames).
    public enum DataKind: String, Sendable { case events, frames }

    public var family: Family
    public var data: DataKind
    /// Event classes (events) or units (frames): the size of one step's vocabulary.
    public var units: Int
    public var inputSize: Int
    public var hidden: Int
    public var layers: Int
    public var head: HeadKind
    /// Attention window (attention family).
    public var window: Int
    /// Bar length for the Lookback encoding.
    public var stepsPerBar: Int
    /// A transformer whose event inputs are the Lookback features (the Lookback family always reads them).
    public let lookbackInputs: Bool
    /// Whether each event input is the Lookback features rather than the event alone.
    public var readsLookback: Bool { family == .lookback || lookbackInputs }
    /// Causal conv sizes (conv family).
    public var residual = 64, gate = 64, skip = 128, layersPerStack = 8, stacks = 2, headHidden = 128
    /// Transformer sizes: attention heads and MLP units per block (`hidden` is the width, `layers` the
    /// blocks, `window` the steps each block attends over).
    public var heads = 4, mlp = 1024
    public var dropout: Float
    /// Transformer: dropout on the input map's output, the stream entering the first block (GPT-2's embedding
    /// dropout). Metadata `input_dropout`, written only when set.
    public var inputDropout: Float = 0
    /// What the model is told about the step it predicts (nil: only its own previous output).
    public var conditioning: Conditioning?
    /// The styles of a style-conditioned model, in unit order (metadata `styles`).
    public var styles: [String] = []
    /// The NADE chain's hidden size K (nade_chain head).
    public var chainHidden = 128
    /// How a frame's units lay out (frames; `units` is a whole number of blocks).
    public var frameLayout = FrameLayout.pitches
    /// The LSTM families' recurrent products in training (not a property of the model: never in its metadata).
    public var recurrentPrecision = RecurrentPrecision.fp32
    /// Whether the family has recurrent products for `recurrentPrecision` to choose (the LSTM families).
    public var hasRecurrentProducts: Bool { [.basic, .lookback, .attention].contains(family) }

    public init(family: Family, data: DataKind, units: Int, hidden: Int, layers: Int, head: HeadKind, window: Int = 32,
                stepsPerBar: Int = 16, dropout: Float = 0, conditioning: Conditioning? = nil, lookbackInputs: Bool = false) {
        self.family = family
        self.data = data
        self.units = units
        self.hidden = hidden
        self.layers = layers
        self.head = head
        self.window = window
        self.stepsPerBar = stepsPerBar
        self.dropout = dropout
        self.conditioning = conditioning
        self.lookbackInputs = lookbackInputs && family != .lookback
        inputSize = (family == .lookback || self.lookbackInputs ? LookbackEncoder.inputSize(classes: units) : units) + (conditioning?.size ?? 0)
    }

    /// Whether `other` (e.g. read back from a checkpoint's metadata) is the same network, whatever precision
    /// each trains its recurrent products at and whatever dropout each trains with: a run may go on from
    /// another's weights with more or less of it.
    public func isSameModel(as other: TrainingModelConfig) -> Bool {
        var other = other
        other.recurrentPrecision = recurrentPrecision
        (other.dropout, other.inputDropout) = (dropout, inputDropout)
        return self == other
    }

    /// The input width before any condition units: the one-hot event or frame, or the Lookback features.
    public var baseInputSize: Int { inputSize - (conditioning?.size ?? 0) }

    public var outputs: Int { head.outputs(units: units) + (head == .nadeChain ? chainHidden : 0) }

    public var metadata: [String: String] {
        var m: [String: String] = ["family": family.rawValue, "head": head.rawValue, "data": data.rawValue, "units": "\(units)",
                                   "dropout": "\(dropout)"]
        if let conditioning { m["condition"] = conditioning.rawValue }
        if inputDropout > 0 { m["input_dropout"] = "\(inputDropout)" }
        if !styles.isEmpty { m["styles"] = styles.joined(separator: ",") }
        if head == .nadeChain { m["chain_hidden"] = "\(chainHidden)" }
        m.merge(frameLayout.metadata) { $1 }
        switch family {
        case .basic:
            m.merge(["input_size": "\(inputSize)", "hidden": "\(hidden)", "layers": "\(layers)", "outputs": "\(outputs)"]) { $1 }
        case .lookback:
            m.merge(["event_classes": "\(units)", "steps_per_bar": "\(stepsPerBar)", "hidden": "\(hidden)", "layers": "\(layers)"]) { $1 }
        case .attention:
            m.merge(["input_size": "\(inputSize)", "hidden": "\(hidden)", "layers": "\(layers)", "window": "\(window)",
                     "outputs": "\(outputs)"]) { $1 }
        case .transformer:
            m.merge(["input_size": "\(inputSize)", "hidden": "\(hidden)", "layers": "\(layers)", "heads": "\(heads)", "mlp": "\(mlp)",
                     "window": "\(window)", "outputs": "\(outputs)"]) { $1 }
            if lookbackInputs { m.merge(TransformerConfig.lookbackMetadata(eventClasses: units, stepsPerBar: stepsPerBar)) { $1 } }
        case .conv:
            m.merge(["input_size": "\(inputSize)", "residual": "\(residual)", "gate": "\(gate)", "skip": "\(skip)",
                     "layers_per_stack": "\(layersPerStack)", "stacks": "\(stacks)", "head_hidden": "\(headHidden)",
                     "outputs": "\(outputs)"]) { $1 }
        }
        return m
    }

    /// Reads a configuration back from metadata, refusing absurd sizes before anything is allocated.
    public init(metadata m: [String: String]) throws(WeightsError) {
        let fields = MetadataFields(m)
        let text = fields.text
        func int(_ k: String, _ range: ClosedRange<Int> = 1...65_536) throws(WeightsError) -> Int { try fields.int(k, range) }
        guard let family = Family(rawValue: try text("family")) else { throw WeightsError("metadata family is not basic, lookback, attention, conv or transformer") }
        guard let head = HeadKind(rawValue: m["head"] ?? "softmax") else { throw WeightsError("metadata head = \(m["head"]!) is not softmax, multi_hot, pitch_chain or nade_chain") }
        let data = DataKind(rawValue: m["data"] ?? "events") ?? .events
        let units = family == .lookback ? try int("event_classes") : try int("units")
        let lookbackInputs = family == .transformer ? try TransformerConfig.readsLookback(inputs: m["inputs"]) : false
        let hidden = family == .conv ? 1 : try int("hidden")
        let layers = family == .conv ? 1 : try int("layers", 1...32)
        self.init(family: family, data: data, units: units, hidden: hidden, layers: layers, head: head,
                  window: family == .attention || family == .transformer ? try int("window", 1...8192) : 32,
                  stepsPerBar: family == .lookback || lookbackInputs ? try int("steps_per_bar", 1...256) : 16,
                  dropout: Float(m["dropout"] ?? "0") ?? 0, conditioning: try Conditioning(metadata: m), lookbackInputs: lookbackInputs)
        guard !lookbackInputs || data == .events else {
            throw WeightsError("metadata inputs = lookback: the Lookback features encode events; the model has \(data.rawValue)")
        }
        guard family != .lookback || conditioning == nil else {
            throw WeightsError("metadata condition = \(m["condition"]!): the Lookback family takes no condition inputs")
        }
        if head == .nadeChain { chainHidden = try int("chain_hidden") }
        inputDropout = Float(m["input_dropout"] ?? "0") ?? 0
        styles = try conditioning?.styleNames(metadata: m) ?? []
        frameLayout = try FrameLayout(metadata: m)
        guard frameLayout == .pitches || (data == .frames && frameLayout != .ensemble && units % frameLayout.blocks == 0)
            || (data == .events && frameLayout == .ensemble)
        else {
            throw WeightsError("metadata \(FrameLayout.metadataKey) = \(frameLayout.rawValue) needs frames of \(frameLayout.blocks) equal blocks; "
                + "the model has \(data.rawValue) of \(units) units")
        }
        if family == .conv {
            residual = try int("residual"); gate = try int("gate"); skip = try int("skip")
            layersPerStack = try int("layers_per_stack", 1...16); stacks = try int("stacks", 1...8)
            headHidden = try int("head_hidden")
        }
        if family == .transformer {
            heads = try int("heads", 1...256); mlp = try int("mlp")
            guard hidden % heads == 0 else { throw WeightsError("metadata hidden = \(hidden) is not a multiple of heads = \(heads)") }
        }
        if m["input_size"] != nil, family != .lookback {
            let declared = try int("input_size")
            guard declared == inputSize else {
                throw WeightsError("metadata input_size = \(declared) does not fit units = \(units)"
                    + (conditioning.map { " with a \($0.rawValue) condition of \($0.size)" } ?? ""))
            }
        }
    }

    /// Builds the trainable model for this configuration with seeded initial weights.
    public func makeModel(batch: Int, maxSteps: Int, seed: UInt64) -> any TrainableModel {
        var rng = TrainingRandom(seed: seed)
        switch family {
        case .basic, .lookback: return TrainableRNN(self, batch: batch, maxSteps: maxSteps, rng: &rng)
        case .attention: return TrainableAttentionRNN(self, batch: batch, maxSteps: maxSteps, rng: &rng)
        case .conv: return TrainableConvPredictor(self, batch: batch, maxSteps: maxSteps, rng: &rng)
        case .transformer: return TrainableTransformer(self, batch: batch, maxSteps: maxSteps, rng: &rng)
        }
    }
}
