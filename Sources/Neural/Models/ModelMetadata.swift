/// Reading and writing a configuration in safetensors `__metadata__` (all values strings).
extension WeightReader {
    func size(_ key: String) throws(WeightsError) -> Int { try integer(key, in: 1...1 << 16) }

    func head() throws(WeightsError) -> OutputHead {
        let text = try metadata("head")
        guard let head = OutputHead(rawValue: text) else { throw WeightsError("metadata head = \(text) is not softmax, multi_hot, pitch_chain or nade_chain") }
        return head
    }

    /// The NADE chain's hidden size K (0 for the other heads), checked against the output count.
    func chainHidden(_ head: OutputHead, outputs: Int) throws(WeightsError) -> Int {
        guard head == .nadeChain else { return 0 }
        let k = try size("chain_hidden")
        guard outputs > k + 1 else { throw WeightsError("metadata outputs = \(outputs) leaves no units beside chain_hidden = \(k) and END") }
        return k
    }

    /// Refuses a configuration whose parameter count differs from the file's, before any layer is allocated
    /// from the (possibly absurd) sizes in the metadata.
    func expectParameters(_ count: Int, in set: WeightSet) throws(WeightsError) {
        let stored = set.tensors.values.reduce(0) { $0 + $1.values.count }
        guard stored == count else {
            throw WeightsError("the configuration needs \(count) parameters, the file holds \(stored)")
        }
    }
}

/// The NADE chain's metadata and parameter count for a streaming configuration (none for the other heads).
func chainMetadata(_ head: OutputHead, _ chainHidden: Int) -> [String: String] {
    head == .nadeChain ? ["chain_hidden": "\(chainHidden)"] : [:]
}

func chainParameters(_ head: OutputHead, outputs: Int, _ chainHidden: Int) -> Int {
    head == .nadeChain ? NADEChain.parameterCount(outputs: outputs, hidden: chainHidden) : 0
}

/// The streaming chain a configuration asks for (random weights), or nil for the other heads.
func makeChain(_ head: OutputHead, outputs: Int, _ chainHidden: Int, _ rng: inout SeededRandom) -> NADEChain? {
    guard head == .nadeChain else { return nil }
    let chain = NADEChain(units: outputs - 1 - chainHidden, hidden: chainHidden)
    chain.randomize(&rng)
    return chain
}

/// Builds the model a weight set describes (its `family` metadata picks the family).
public func makeModel(from set: WeightSet, precision: Precision = .fp32) throws(WeightsError) -> any StreamingModel {
    let name = set.metadata["family"] ?? ""
    guard let family = Family(rawValue: name) else {
        throw WeightsError("metadata family = \"\(name)\" is not one of basic, lookback, attention, conv, transformer")
    }
    let model: any StreamingModel
    switch family {
    case .basic: model = try BasicRNN(weights: set)
    case .lookback: model = try LookbackRNN(weights: set)
    case .attention: model = try AttentionRNN(weights: set)
    case .conv: model = try ConvPredictor(weights: set)
    case .transformer: model = try Transformer(weights: set)
    }
    model.prepare(precision)
    return model
}

/// Reads a safetensors model file and builds its model.
public func loadModel(path: String, precision: Precision = .fp32) throws(WeightsError) -> any StreamingModel {
    try makeModel(from: SafeTensors.read(path: path), precision: precision)
}

/// LSTM parameter count in PyTorch layout.
func lstmParameters(inputs: Int, hidden: Int, layers: Int) -> Int {
    (0..<layers).reduce(0) { total, k in
        total + 4 * hidden * ((k == 0 ? inputs : hidden) + hidden + 2)
    }
}
