/// Reading and writing a configuration in safetensors `__metadata__` (all values strings).
extension WeightReader {
    func size(_ key: String) throws(WeightsError) -> Int { try integer(key, in: 1...1 << 16) }

    func head() throws(WeightsError) -> OutputHead {
        let text = try metadata("head")
        guard let head = OutputHead(rawValue: text) else { throw WeightsError("metadata head = \(text) is not softmax, multi_hot or pitch_chain") }
        return head
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

/// Builds the model a weight set describes (its `family` metadata picks the family).
public func makeModel(from set: WeightSet, precision: Precision = .fp32) throws(WeightsError) -> any StreamingModel {
    let name = set.metadata["family"] ?? ""
    guard let family = Family(rawValue: name) else {
        throw WeightsError("metadata family = \"\(name)\" is not one of basic, lookback, attention, conv")
    }
    let model: any StreamingModel
    switch family {
    case .basic: model = try BasicRNN(weights: set)
    case .lookback: model = try LookbackRNN(weights: set)
    case .attention: model = try AttentionRNN(weights: set)
    case .conv: model = try ConvPredictor(weights: set)
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
