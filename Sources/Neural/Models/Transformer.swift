import Foundation

/// Decoder-only transformer configuration: sparse input → width, `layers` pre-norm blocks (multi-head causal
/// self-attention with ALiBi over the last `window` steps, GELU MLP of `mlp` units), a final layer norm, a
/// linear head.
public struct TransformerConfig: Sendable, Equatable {
    public var inputSize: Int
    public var width: Int
    public var layers: Int
    public var heads: Int
    public var mlp: Int
    /// Steps each layer attends over, this one included (the KV cache's length).
    public var window: Int
    public var outputs: Int
    public var head: OutputHead
    /// The NADE chain's hidden size K (nade_chain; outputs = units + 1 + K), else 0.
    public var chainHidden: Int
    /// Event inputs as the Lookback features (the input's first LookbackEncoder.inputSize units, a condition
    /// after them): the event classes and the bar they look back by; nil for the event or frame alone.
    public var lookback: LookbackInputs?

    public struct LookbackInputs: Sendable, Equatable {
        public var eventClasses: Int, stepsPerBar: Int
        public init(eventClasses: Int, stepsPerBar: Int) { (self.eventClasses, self.stepsPerBar) = (eventClasses, stepsPerBar) }
    }

    public init(inputSize: Int, width: Int, layers: Int, heads: Int, mlp: Int, window: Int, outputs: Int,
                head: OutputHead = .softmax, chainHidden: Int = 0, lookback: LookbackInputs? = nil) {
        self.inputSize = inputSize
        self.width = width
        self.layers = layers
        self.heads = heads
        self.mlp = mlp
        self.window = window
        self.outputs = outputs
        self.head = head
        self.chainHidden = chainHidden
        self.lookback = lookback
    }

    /// The metadata keys of a transformer reading the Lookback features.
    public static func lookbackMetadata(eventClasses: Int, stepsPerBar: Int) -> [String: String] {
        ["inputs": "lookback", "event_classes": "\(eventClasses)", "steps_per_bar": "\(stepsPerBar)"]
    }

    /// Whether the metadata's `inputs` says Lookback features (absent: the event or frame alone).
    static func readsLookback(inputs: String?) throws(WeightsError) -> Bool {
        switch inputs {
        case nil, "plain": return false
        case "lookback": return true
        case let other?: throw WeightsError("metadata inputs = \(other) is not plain or lookback")
        }
    }

    public var metadata: [String: String] {
        ["family": Family.transformer.rawValue, "input_size": "\(inputSize)", "hidden": "\(width)", "layers": "\(layers)",
         "heads": "\(heads)", "mlp": "\(mlp)", "window": "\(window)", "outputs": "\(outputs)",
         "head": head.rawValue].merging(chainMetadata(head, chainHidden)) { $1 }
            .merging(lookback.map { Self.lookbackMetadata(eventClasses: $0.eventClasses, stepsPerBar: $0.stepsPerBar) } ?? [:]) { $1 }
    }

    init(_ r: WeightReader) throws(WeightsError) {
        let (outputs, head) = (try r.size("outputs"), try r.head())
        let width = try r.size("hidden")
        let heads = try r.integer("heads", in: 1...256)
        guard width % heads == 0 else { throw WeightsError("metadata hidden = \(width) is not a multiple of heads = \(heads)") }
        self.init(inputSize: try r.size("input_size"), width: width, layers: try r.integer("layers", in: 1...32), heads: heads,
                  mlp: try r.size("mlp"), window: try r.integer("window", in: 1...8192), outputs: outputs, head: head,
                  chainHidden: try r.chainHidden(head, outputs: outputs))
        if try Self.readsLookback(inputs: r.optionalMetadata("inputs")) {
            let classes = try r.size("event_classes")
            guard head == .softmax, classes == outputs else {
                throw WeightsError("metadata inputs = lookback needs a softmax head over its \(classes) event classes; the model has \(head.rawValue) of \(outputs)")
            }
            guard inputSize >= LookbackEncoder.inputSize(classes: classes) else {
                throw WeightsError("metadata input_size = \(inputSize) is narrower than the Lookback features of \(classes) events (\(LookbackEncoder.inputSize(classes: classes)))")
            }
            lookback = LookbackInputs(eventClasses: classes, stepsPerBar: try r.integer("steps_per_bar", in: 1...256))
        }
    }

    static func parameterCount(inputSize: Int, width d: Int, layers: Int, mlp: Int, outputs: Int) -> Int {
        let block = 4 * d + (3 * d * d + 3 * d) + (d * d + d) + (mlp * d + mlp) + (d * mlp + d)
        return d * (inputSize + 1) + layers * block + 2 * d + outputs * (d + 1)
    }

    var parameterCount: Int {
        Self.parameterCount(inputSize: inputSize, width: width, layers: layers, mlp: mlp, outputs: outputs)
            + chainParameters(head, outputs: outputs, chainHidden)
    }
}

/// One pre-norm block's step weights and its KV cache.
final class TransformerBlock {
    let attentionNorm: LayerNorm, mlpNorm: LayerNorm
    let qkv: Linear, output: Linear, up: Linear, down: Linear
    let cache: KeyValueCache

    init(_ c: TransformerConfig) {
        attentionNorm = LayerNorm(width: c.width)
        mlpNorm = LayerNorm(width: c.width)
        qkv = Linear(inputs: c.width, outputs: 3 * c.width)
        output = Linear(inputs: c.width, outputs: c.width)
        up = Linear(inputs: c.width, outputs: c.mlp)
        down = Linear(inputs: c.mlp, outputs: c.width)
        cache = KeyValueCache(width: c.width, heads: c.heads, window: c.window, rewindable: Transformer.rewindable)
    }

    var linears: [(Linear, (String) -> String)] {
        [(qkv, TensorName.selfAttentionQKV), (output, TensorName.selfAttentionOutput), (up, TensorName.mlpUp), (down, TensorName.mlpDown)]
    }
}

/// A decoder-only transformer run one step at a time: each block keeps the keys and values of its last
/// `window` steps, so a step costs the same at the thousandth step as at the first, and never allocates.
public final class Transformer: StreamingModel, RehearsingModel {
    public let config: TransformerConfig
    let input: SparseLinear
    let blocks: [TransformerBlock]
    let finalNorm: LayerNorm
    let output: Linear
    /// The residual stream, a normalised copy, [q; k; v], the attention read, a projection, the MLP's units.
    let stream: AlignedBuffer<Float>, normed: AlignedBuffer<Float>, qkv: AlignedBuffer<Float>
    let read: AlignedBuffer<Float>, projected: AlignedBuffer<Float>, units: AlignedBuffer<Float>
    let out: AlignedBuffer<Float>
    public let sampler: Sampler
    public let chain: NADEChain?
    /// Builds each event's Lookback features (a transformer configured to read them), keeping its bars of history.
    public private(set) var encoder: LookbackEncoder?
    let stash = StateStash()

    public init(config: TransformerConfig, seed: UInt64) {
        self.config = config
        let d = config.width
        input = SparseLinear(inputs: config.inputSize, outputs: d)
        blocks = (0..<config.layers).map { _ in TransformerBlock(config) }
        finalNorm = LayerNorm(width: d)
        output = Linear(inputs: d, outputs: config.outputs)
        stream = AlignedBuffer(count: d)
        normed = AlignedBuffer(count: d)
        qkv = AlignedBuffer(count: 3 * d)
        read = AlignedBuffer(count: d)
        projected = AlignedBuffer(count: d)
        units = AlignedBuffer(count: config.mlp)
        out = AlignedBuffer(count: config.outputs)
        sampler = Sampler(count: config.outputs)
        var rng = SeededRandom(seed: seed)
        chain = makeChain(config.head, outputs: config.outputs, config.chainHidden, &rng)
        encoder = config.lookback.map { LookbackEncoder(classes: $0.eventClasses, stepsPerBar: $0.stepsPerBar) }
        input.randomize(&rng)
        for block in blocks {
            block.attentionNorm.randomize(&rng)
            block.mlpNorm.randomize(&rng)
            for (linear, _) in block.linears { linear.randomize(&rng) }
        }
        finalNorm.randomize(&rng)
        output.randomize(&rng)
        sizeRehearsal()
    }

    /// Nothing: the one slot a rehearsal step writes in each KV ring is taken back by `rewind`.
    func keepStepState(in stash: StateStash) {}

    public convenience init(weights set: WeightSet) throws(WeightsError) {
        let reader = WeightReader(set)
        let config = try TransformerConfig(reader)
        try reader.expectParameters(config.parameterCount, in: set)
        self.init(config: config, seed: 0)
        try input.load(reader, TensorName.convInput)
        for (l, block) in blocks.enumerated() {
            let name = TensorName.block(l)
            try block.attentionNorm.load(reader, TensorName.attentionNorm(name))
            try block.mlpNorm.load(reader, TensorName.mlpNorm(name))
            for (linear, prefix) in block.linears { try linear.load(reader, prefix(name)) }
        }
        try finalNorm.load(reader, TensorName.finalNorm)
        try output.load(reader, TensorName.head)
        try chain?.load(reader)
        try reader.finish()
    }

    public var family: Family { .transformer }
    public var inputSize: Int { config.inputSize }
    public var outputSize: Int { config.outputs }
    public var head: OutputHead { config.head }
    public var logits: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: out.base, count: config.outputs) }

    public func reset() {
        for block in blocks { block.cache.reset() }
        encoder?.reset()
    }

    public var readsBars: Bool { encoder != nil }

    public func restart(stepsPerBar: Int, firstStepInBar: Int) {
        for block in blocks { block.cache.reset() }
        encoder?.restart(stepsPerBar: stepsPerBar, firstStepInBar: firstStepInBar)
    }

    public func encode(event: Int) -> FeatureList {
        guard encoder != nil else { return FeatureList(oneHot: event) }
        return encoder!.encode(event)
    }

    /// Steps `rewind` can take back exactly (the KV ring keeps that many slots beyond the window).
    public static let rewindable = 32

    /// Takes back the last `steps` steps (at most `rewindable`): the next step sees the past as it was before
    /// them. A decoder that fed a step under a condition it then learned was wrong feeds it again.
    public func rewind(_ steps: Int) { for block in blocks { block.cache.rewind(steps) } }

    @discardableResult public func step(_ x: FeatureList) -> UnsafeBufferPointer<Float> {
        let d = config.width
        input.forward(x, into: stream.base)
        for block in blocks {
            block.attentionNorm.forward(stream.base, into: normed.base)
            block.qkv.forward(normed.base, into: qkv.base)
            block.cache.step(qkv.base, into: read.base)
            block.output.forward(read.base, into: projected.base)
            addScaled(1, projected.base, into: stream.base, d)
            block.mlpNorm.forward(stream.base, into: normed.base)
            block.up.forward(normed.base, into: units.base)
            applyGELU(units.base, count: config.mlp)
            block.down.forward(units.base, into: projected.base)
            addScaled(1, projected.base, into: stream.base, d)
        }
        finalNorm.forward(stream.base, into: normed.base)
        output.forward(normed.base, into: out.base)
        return logits
    }

    @discardableResult public func step(event: Int) -> UnsafeBufferPointer<Float> { step(encode(event: event)) }

    public func prefetch() { ready() }

    public func touchStepData() {
        for block in blocks {
            for (linear, _) in block.linears { linear.weight.touch() }
            block.cache.touch()
        }
        output.weight.touch()
        chain?.touch()
    }

    /// The rehearsed step's key and value took a slot of the cache; `rewind` gives it back.
    func forgetRehearsedStep() { rewind(1) }

    /// The weights at `precision`, and the KV cache in fp16 below fp32 (see `KeyValueCache`).
    ///
    /// At int8 the query/key/value projection takes its input at 16 bits (`Int8Input.words`): the scores'
    /// softmax magnifies small errors in q·k. On the band transformer's held-out songs the int8 step drifted
    /// 1.1e-3 nats (mean KL) from fp32 with every product 8-bit, 7.0e-4 of it from this input alone
    /// (docs/PRECISION.md). Its weights stay 8-bit: at fp16, or at 16-bit integers, they were as slow as
    /// the rest of the step's reads from L3 together allow (about 470 µs against 355 on the band model).
    /// An int8 KV cache (keys scaled per slot and head) drifted 1.6e-2 there and was not kept.
    ///
    /// `int8WideAttention` also keeps the attention's output projection at fp16 and the KV cache at fp32: the
    /// projection's input is the heads' reads side by side under one scale, and on the folk transformer that
    /// product and the fp16 cache were most of int8's 1.2% (docs/PRECISION.md).
    public func prepare(_ precision: Precision) {
        let wide = precision == .int8WideAttention
        for block in blocks {
            block.qkv.prepare(precision, int8Input: .words)
            block.output.prepare(wide ? .fp16 : precision)
            for linear in [block.up, block.down] { linear.prepare(precision) }
            block.cache.storeHalves(precision != .fp32 && !wide)
        }
        output.prepare(precision)
    }

    public func weights() -> WeightSet {
        var set = WeightSet(metadata: config.metadata)
        input.save(&set, TensorName.convInput)
        for (l, block) in blocks.enumerated() {
            let name = TensorName.block(l)
            block.attentionNorm.save(&set, TensorName.attentionNorm(name))
            block.mlpNorm.save(&set, TensorName.mlpNorm(name))
            for (linear, prefix) in block.linears { linear.save(&set, prefix(name)) }
        }
        finalNorm.save(&set, TensorName.finalNorm)
        output.save(&set, TensorName.head)
        chain?.save(&set)
        return set
    }

    /// The ordinary full-sequence forward, layer by layer over all T steps with a banded causal mask (each
    /// step sees itself and the `window − 1` before it), no caches, from the saved tensors.
    public func sequenceForward(_ inputs: [FeatureList]) -> [[Float]] {
        let set = weights()
        let t = set.tensors
        let c = config
        let (d, dh) = (c.width, c.width / c.heads)
        let slopes = AttentionBias.slopes(heads: c.heads)
        func affine(_ prefix: String, _ x: [Float]) -> [Float] { Plain.affine(t[TensorName.weight(prefix)]!, t[TensorName.bias(prefix)]!, x) }
        func norm(_ prefix: String, _ x: [Float]) -> [Float] {
            let mean = x.reduce(0, +) / Float(x.count)
            let variance = x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(x.count)
            let g = t[TensorName.weight(prefix)]!.values, b = t[TensorName.bias(prefix)]!.values
            return x.indices.map { (x[$0] - mean) / (variance + LayerNorm.epsilon).squareRoot() * g[$0] + b[$0] }
        }
        var x = inputs.map { affine(TensorName.convInput, $0.dense(size: c.inputSize)) }
        for l in 0..<c.layers {
            let name = TensorName.block(l)
            let qkv = x.map { affine(TensorName.selfAttentionQKV(name), norm(TensorName.attentionNorm(name), $0)) }
            for time in x.indices {
                var read = Plain.zeros(d)
                for h in 0..<c.heads {
                    let first = max(0, time - c.window + 1)
                    let scores = (first...time).map { j -> Float in
                        var s: Float = 0
                        for i in 0..<dh { s += qkv[time][h * dh + i] * qkv[j][d + h * dh + i] }
                        return s / Float(dh).squareRoot() - slopes[h] * Float(time - j)
                    }
                    let peak = scores.max()!
                    let weights = scores.map { Foundation.exp($0 - peak) }
                    let total = weights.reduce(0, +)
                    for (k, j) in (first...time).enumerated() {
                        for i in 0..<dh { read[h * dh + i] += weights[k] / total * qkv[j][2 * d + h * dh + i] }
                    }
                }
                let projected = affine(TensorName.selfAttentionOutput(name), read)
                for i in 0..<d { x[time][i] += projected[i] }
                let units = affine(TensorName.mlpUp(name), norm(TensorName.mlpNorm(name), x[time])).map(gelu)
                let down = affine(TensorName.mlpDown(name), units)
                for i in 0..<d { x[time][i] += down[i] }
            }
        }
        return x.map { affine(TensorName.head, norm(TensorName.finalNorm, $0)) }
    }
}
