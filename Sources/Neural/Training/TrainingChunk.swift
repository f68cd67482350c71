/// One truncated-BPTT chunk: `steps` steps of `batch` streams, rows time-major (row t·batch + b).
public struct TrainingChunk: Sendable {
    public var steps: Int
    public var batch: Int
    /// Sparse input per row (one-hot event, Lookback features, previous frame's units).
    public var inputs = SparseRows()
    /// Target per row: one class (softmax) or the sorted set of units (multi-hot, pitch chain).
    public var targets = SparseRows()
    /// False for padding rows past the end of a stream: no loss, no gradient.
    public var present: [Bool] = []
    /// True where a row is the first step of a piece: the recurrent state restarts from zero.
    public var resets: [Bool] = []
    /// Step index within its piece (for the causal convolution's left edge).
    public var positions: [Int32] = []

    public init(steps: Int, batch: Int) {
        self.steps = steps
        self.batch = batch
    }

    public var rows: Int { steps * batch }
    public var predictedSteps: Int { present.lazy.filter { $0 }.count }
}

/// What every trainable family provides to the trainer: parameters under their saved names, a forward over a
/// chunk that leaves logits, a backward from dLogits, and state carried between chunks.
public protocol TrainableModel: ParameterHolder {
    var configuration: TrainingModelConfig { get }
    /// Forward over the chunk; returns the logits [rows × outputs]. Dropout is active only when training.
    func forward(_ chunk: TrainingChunk, training: Bool, rng: inout TrainingRandom) -> UnsafeMutablePointer<Float>
    /// Backward from dLogits (consumed); accumulates every parameter's gradient.
    func backward(_ dLogits: UnsafeMutablePointer<Float>)
    /// Zero state in every stream.
    func resetState()
    /// The NADE chain head's own weights (nade_chain), nil for the other heads.
    var chain: NADEChainHead? { get }
}

/// A trainable network's tensors under their saved names, and the metadata saved with them.
public protocol ParameterHolder: AnyObject {
    var parameters: [Parameter] { get }
    var metadata: [String: String] { get }
}

extension ParameterHolder {
    /// The parameters and configuration as a weight set the streaming families load.
    public func weights() -> WeightSet {
        var set = WeightSet(metadata: metadata)
        for p in parameters { set.tensors[p.name] = Tensor(shape: p.shape, values: p.saved) }
        return set
    }

    /// Sets every parameter from a weight set, checking names and shapes.
    public func load(_ set: WeightSet) throws(WeightsError) {
        for p in parameters {
            guard let t = set.tensors[p.name] else { throw WeightsError("missing tensor \(p.name)") }
            guard t.shape == p.shape else { throw WeightsError("tensor \(p.name) has shape \(t.shape), the configuration needs \(p.shape)") }
            p.load(t.values)
        }
        let known = Set(parameters.map(\.name))
        if let extra = set.tensors.keys.filter({ !known.contains($0) }).sorted().first {
            throw WeightsError("unexpected tensor \(extra) for this configuration")
        }
    }

    public func zeroGradients() { for p in parameters { p.grad.zero() } }

    /// Trainable numbers in all.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }
}

extension TrainableModel {
    public var metadata: [String: String] { configuration.metadata }

    /// The head's summed NLL over a chunk's logits, with dLoss/dlogits into `grad` (may be the logits) when
    /// given: the NADE chain through its weights (accumulating their gradients), the other heads directly.
    public func headLoss(
        _ logits: UnsafeMutablePointer<Float>, rows: Int, targets: SparseRows, present: [Bool], scale: Float,
        grad: UnsafeMutablePointer<Float>?
    ) -> Double {
        if let chain {
            return chain.loss(logits, rows: rows, targets: targets, present: present, scale: scale, grad: grad)
        }
        return configuration.head.loss(logits, rows: rows, outputs: configuration.outputs, targets: targets,
                                       present: present, scale: scale, grad: grad)
    }
}
