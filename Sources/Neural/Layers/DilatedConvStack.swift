/// Causal dilated convolutions with gated residual and skip paths (WaveNet), streamed Fast-WaveNet style.
///
/// Layer l (dilation d) sees its input at t - d and t: z = W_f [x_{t-d}; x_t] + b_f, g = tanh(z_f)·σ(z_g),
/// skip += W_s g + b_s, x ← x + W_r g + b_r. Each layer keeps a ring of its last d inputs, so the input d
/// steps back is one read and a step costs one column per layer. Before the first d steps the past input is
/// zero, as with left zero padding in the full-sequence convolution.
///
/// Saved as PyTorch Conv1d tensors: `layers.{l}.dilated.weight` [2G, R, 2] (tap 0 at t - d, tap 1 at t),
/// 1x1 convs `layers.{l}.residual.weight` [R, G] and `layers.{l}.skip.weight` [S, G] with biases.
public struct DilatedConvStack {
    public let residual: Int
    public let gate: Int
    public let skipChannels: Int
    public let dilations: [Int]
    public private(set) var layers: [GatedResidualLayer]
    /// The running residual stream x and the summed skip output.
    public let stream: AlignedBuffer<Float>
    public let skip: AlignedBuffer<Float>
    let skipBiasSum: AlignedBuffer<Float>
    private let clock: AlignedBuffer<Int>

    public init(residual: Int, gate: Int, skip: Int, dilations: [Int]) {
        self.residual = residual
        self.gate = gate
        skipChannels = skip
        self.dilations = dilations
        layers = dilations.map { GatedResidualLayer(residual: residual, gate: gate, skip: skip, dilation: $0) }
        stream = AlignedBuffer(count: residual)
        self.skip = AlignedBuffer(count: skip)
        skipBiasSum = AlignedBuffer(count: skip)
        clock = AlignedBuffer(count: 1)
    }

    public func randomize(_ rng: inout SeededRandom) {
        for layer in layers { layer.randomize(&rng) }
        sumSkipBiases()
    }

    public func load(_ reader: WeightReader) throws(WeightsError) {
        for (l, layer) in layers.enumerated() { try layer.load(reader, "layers.\(l)") }
        sumSkipBiases()
    }

    public func save(_ set: inout WeightSet) {
        for (l, layer) in layers.enumerated() { layer.save(&set, "layers.\(l)") }
    }

    /// The skip biases are constant per step, so they are added once as their sum.
    private func sumSkipBiases() {
        skipBiasSum.zero()
        for layer in layers { for j in 0..<skipChannels { skipBiasSum[j] += layer.skip.bias[j] } }
    }

    public mutating func prepare(_ precision: Precision) {
        for l in layers.indices { layers[l].prepare(precision) }
    }

    public func reset() {
        for layer in layers { layer.reset() }
        stream.zero()
        skip.zero()
        clock[0] = 0
    }

    /// Runs every layer on the input already in `stream`; leaves the summed skip (with biases) in `skip`.
    @inline(__always) public func step() {
        let t = clock[0]
        skip.base.update(from: skipBiasSum.base, count: skip.paddedCount)
        for layer in layers { layer.step(stream: stream.base, skip: skip.base, time: t) }
        clock[0] = t &+ 1
    }
}

/// One gated residual layer of a dilated causal conv stack, with its queue of past inputs.
public struct GatedResidualLayer {
    public let residual: Int, gate: Int, dilation: Int
    let rs: Int, gs: Int
    /// [W_past | W_now] on [x_{t-d}; x_t] → [filter (gs rows); gate (gs rows)].
    public var dilated: Matrix
    public let dilatedBias: AlignedBuffer<Float>
    public var residualOut: Linear
    public var skip: Linear
    /// Ring of the last `dilation` inputs, and the [x_{t-d}; x_t] vector the product reads.
    let queue: AlignedBuffer<Float>, window: AlignedBuffer<Float>
    let z: AlignedBuffer<Float>

    init(residual: Int, gate: Int, skip: Int, dilation: Int) {
        self.residual = residual
        self.gate = gate
        self.dilation = dilation
        rs = padded16(residual)
        gs = padded16(gate)
        dilated = Matrix(rows: 2 * gs, columns: 2 * rs)
        dilatedBias = AlignedBuffer(count: 2 * gs)
        residualOut = Linear(inputs: gate, outputs: residual)
        self.skip = Linear(inputs: gate, outputs: skip)
        queue = AlignedBuffer(count: dilation * rs)
        window = AlignedBuffer(count: 2 * rs)
        z = AlignedBuffer(count: 2 * gs)
    }

    /// Output channel o of the saved [2G, R, 2] weight, in the padded [filter; gate] row layout.
    @inline(__always) func row(_ o: Int) -> Int { o < gate ? o : gs + o - gate }

    func randomize(_ rng: inout SeededRandom) {
        let bound = 1 / Float(2 * residual).squareRoot()
        for o in 0..<(2 * gate) {
            for c in 0..<residual {
                dilated[row(o), c] = rng.uniform(-bound, bound)
                dilated[row(o), rs + c] = rng.uniform(-bound, bound)
            }
            dilatedBias[row(o)] = rng.uniform(-bound, bound)
        }
        residualOut.randomize(&rng)
        skip.randomize(&rng)
    }

    func load(_ reader: WeightReader, _ prefix: String) throws(WeightsError) {
        let w = try reader.take("\(prefix).dilated.weight", shape: [2 * gate, residual, 2])
        let b = try reader.take("\(prefix).dilated.bias", shape: [2 * gate])
        for o in 0..<(2 * gate) {
            for c in 0..<residual {
                dilated[row(o), c] = w[(o * residual + c) * 2]
                dilated[row(o), rs + c] = w[(o * residual + c) * 2 + 1]
            }
            dilatedBias[row(o)] = b[o]
        }
        try residualOut.load(reader, "\(prefix).residual")
        try skip.load(reader, "\(prefix).skip")
    }

    func save(_ set: inout WeightSet, _ prefix: String) {
        var w = [Float](repeating: 0, count: 2 * gate * residual * 2)
        var b = [Float](repeating: 0, count: 2 * gate)
        for o in 0..<(2 * gate) {
            for c in 0..<residual {
                w[(o * residual + c) * 2] = dilated[row(o), c]
                w[(o * residual + c) * 2 + 1] = dilated[row(o), rs + c]
            }
            b[o] = dilatedBias[row(o)]
        }
        set.tensors["\(prefix).dilated.weight"] = Tensor(shape: [2 * gate, residual, 2], values: w)
        set.tensors["\(prefix).dilated.bias"] = Tensor(shape: [2 * gate], values: b)
        residualOut.save(&set, "\(prefix).residual")
        skip.save(&set, "\(prefix).skip")
    }

    mutating func prepare(_ precision: Precision) {
        dilated.prepare(precision)
        residualOut.prepare(precision)
        skip.prepare(precision)
    }

    func reset() {
        queue.zero()
        window.zero()
    }

    @inline(__always) func step(stream x: UnsafeMutablePointer<Float>, skip s: UnsafeMutablePointer<Float>, time t: Int) {
        let slot = queue.base + (t % dilation) * rs
        window.base.update(from: slot, count: rs)
        (window.base + rs).update(from: x, count: rs)
        slot.update(from: x, count: rs)
        z.base.update(from: dilatedBias.base, count: 2 * gs)
        dilated.multiply(window.base, into: z.base, accumulate: true)
        gatedActivation(z.base, count: gs)
        skip.weight.multiply(z.base, into: s, accumulate: true)
        residualOut.weight.multiply(z.base, into: x, accumulate: true)
        addBias(residualOut.bias.base, to: x, count: rs)
    }
}

/// z[0..<n] ← tanh(z[0..<n]) · σ(z[n..<2n]).
@inline(never) func gatedActivation(_ z: UnsafeMutablePointer<Float>, count n: Int) {
    var j = 0
    while j < n {
        store16(tanh16(load16(z + j)) * sigmoid16(load16(z + n + j)), z + j)
        j &+= 16
    }
}

@inline(__always) func addBias(_ b: UnsafePointer<Float>, to x: UnsafeMutablePointer<Float>, count n: Int) {
    var j = 0
    while j < n {
        store16(load16(x + j) + load16(b + j), x + j)
        j &+= 16
    }
}
