/// Basic and Lookback RNN for training: sparse input → LSTM stack (dropout between layers and before the head)
/// → linear head `head.*`. Same tensors as BasicRNN / LookbackRNN, so the trained weights stream as they are.
public final class TrainableRNN: TrainableModel {
    public let configuration: TrainingModelConfig
    let lstm: [SequenceLSTMLayer]
    let dropouts: [Dropout]
    let head: SequenceLinear
    public let chain: NADEChainHead?
    let batch: Int
    private var rows = 0

    init(_ config: TrainingModelConfig, batch: Int, maxSteps: Int, rng: inout TrainingRandom) {
        configuration = config
        self.batch = batch
        let maxRows = batch * maxSteps
        lstm = (0..<config.layers).map { k in
            SequenceLSTMLayer(layer: k, inputs: k == 0 ? config.inputSize : config.hidden, hidden: config.hidden,
                              sparseInput: k == 0, batch: batch, maxSteps: maxSteps,
                              recurrentPrecision: config.recurrentPrecision)
        }
        dropouts = (0..<config.layers).map { _ in Dropout(rate: config.dropout, maxCount: maxRows * config.hidden) }
        head = SequenceLinear(TensorName.head, inputs: config.hidden, outputs: config.outputs, maxRows: maxRows)
        chain = NADEChainHead.make(config, rng: &rng)
        for layer in lstm { layer.randomize(&rng) }
        head.randomize(&rng)
    }

    public var parameters: [Parameter] { lstm.flatMap(\.parameters) + head.parameters + (chain?.parameters ?? []) }

    public func resetState() { for layer in lstm { layer.resetState() } }

    public func forward(_ chunk: TrainingChunk, training: Bool, rng: inout TrainingRandom) -> UnsafeMutablePointer<Float> {
        rows = chunk.rows
        let n = rows * configuration.hidden
        var x: UnsafePointer<Float>? = nil
        for (k, layer) in lstm.enumerated() {
            layer.forward(dense: x, sparse: k == 0 ? chunk.inputs : nil, resets: chunk.resets, steps: chunk.steps)
            x = dropouts[k].forward(layer.output.base, count: n, training: training, &rng)
        }
        head.forward(x!, rows: rows)
        return head.output.base
    }

    public func backward(_ dLogits: UnsafeMutablePointer<Float>) {
        let n = rows * configuration.hidden
        head.backward(dLogits)
        var d = head.dInput.base
        for k in stride(from: lstm.count - 1, through: 0, by: -1) {
            dropouts[k].backward(d, count: n)
            lstm[k].backward(d)
            if k > 0 { d = lstm[k].dInput.base }
        }
    }
}
