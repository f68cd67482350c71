/// A multi-layer LSTM (PyTorch nn.LSTM semantics, tensor names weight_ih_l{k} ...). Layer 0 takes either a
/// sparse input (gathered) or a dense one written at `denseInput`; each layer's h is copied into the next
/// layer's input slot.
public struct LSTMStack {
    public let inputs: Int
    public let hidden: Int
    public let layers: [LSTMLayer]

    public init(inputs: Int, hidden: Int, layers count: Int, sparseInput: Bool) {
        precondition(count >= 1)
        self.inputs = inputs
        self.hidden = hidden
        layers = (0..<count).map { k in
            LSTMLayer(inputs: k == 0 ? inputs : hidden, hidden: hidden, sparseInput: k == 0 && sparseInput)
        }
    }

    /// The top layer's output h_t and cell state c_t.
    public var top: UnsafeMutablePointer<Float> { layers[layers.count - 1].h }
    public var topCell: UnsafeMutablePointer<Float> { layers[layers.count - 1].cell.base }
    /// Where a dense input goes before `step()`.
    public var denseInput: UnsafeMutablePointer<Float> { layers[0].input }

    public func randomize(_ rng: inout SeededRandom) { for layer in layers { layer.randomize(&rng) } }

    public func load(_ reader: WeightReader) throws(WeightsError) {
        for (k, layer) in layers.enumerated() { try layer.load(reader, layer: k) }
    }

    public func save(_ set: inout WeightSet) {
        for (k, layer) in layers.enumerated() { layer.save(&set, layer: k) }
    }

    public func prepare(_ precision: Precision) {
        for layer in layers { layer.prepare(precision) }
    }

    /// Reads one byte of every cache line of the layers' step weights (`prefetch()`).
    public func touchStepData() {
        for layer in layers {
            layer.recurrent?.touch()
            layer.fused?.touch()
        }
    }

    public func reset() { for layer in layers { layer.reset() } }

    /// What a step carries to the next: each layer's h and c (a dense layer's x is written anew each step).
    func keepState(in stash: StateStash) {
        for layer in layers {
            stash.keep(layer.h, count: layer.hs)
            stash.keep(layer.cell.base, count: layer.hs)
        }
    }

    @inline(__always) public func step(_ x: FeatureList) {
        layers[0].step(x)
        propagate()
    }

    @inline(__always) public func step() {
        layers[0].step()
        propagate()
    }

    @inline(__always) private func propagate() {
        var k = 1
        while k < layers.count {
            layers[k].input.update(from: layers[k - 1].h, count: layers[k].hs)
            layers[k].step()
            k += 1
        }
    }
}
