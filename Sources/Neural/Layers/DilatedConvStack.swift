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
    public let layers: [GatedResidualLayer]
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
        for (l, layer) in layers.enumerated() { try layer.load(reader, TensorName.convLayer(l)) }
        sumSkipBiases()
    }

    public func save(_ set: inout WeightSet) {
        for (l, layer) in layers.enumerated() { layer.save(&set, TensorName.convLayer(l)) }
    }

    /// The skip biases are constant per step, so they are added once as their sum.
    private func sumSkipBiases() {
        skipBiasSum.zero()
        for layer in layers { for j in 0..<skipChannels { skipBiasSum[j] += layer.skipBias[j] } }
    }

    public func prepare(_ precision: Precision) {
        for layer in layers { layer.prepare(precision) }
    }

    /// The weights, and the state and biases every layer reads: sixteen layers' small buffers are a few
    /// hundred lines on as many pages, which left a prefetched cold step 1.5x the warm one.
    public func touchStepData() {
        for layer in layers {
            layer.dilated.touch()
            layer.outputs.touch()
            // One call each, not a loop over an array of them: an array literal would allocate.
            layer.dilatedBias.touch()
            layer.skipBias.touch()
            layer.residualBias.touch()
            layer.queue.touch()
            layer.window.touch()
            layer.z.touch()
            layer.y.touch()
        }
        stream.touch()
        skip.touch()
        skipBiasSum.touch()
    }

    public func reset() {
        for layer in layers { layer.reset() }
        stream.zero()
        skip.zero()
        clock[0] = 0
    }

    /// What a step carries to the next: each layer's queue slot it overwrites, and the clock (the stream
    /// and the skip sum are written anew each step).
    func keepState(in stash: StateStash) {
        let t = clock[0]
        for layer in layers { stash.keep(layer.queue.base + (t % layer.dilation) * layer.rs, count: layer.rs) }
        stash.keep(clock.base, count: 1)
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
///
/// The skip and residual 1x1 convs read the same gated vector, so the step keeps them as one matrix
/// [W_s; W_r] and does one product (one pass over the input, one quantisation in int8) for both.
public struct GatedResidualLayer {
    public let residual: Int, gate: Int, skipChannels: Int, dilation: Int
    let rs: Int, gs: Int, ss: Int
    /// [W_past | W_now] on [x_{t-d}; x_t] → [filter (gs rows); gate (gs rows)].
    public let dilated: Matrix
    public let dilatedBias: AlignedBuffer<Float>
    /// [W_s (ss rows); W_r (rs rows)] on the gated vector.
    public let outputs: Matrix
    public let skipBias: AlignedBuffer<Float>, residualBias: AlignedBuffer<Float>
    /// Ring of the last `dilation` inputs, and the [x_{t-d}; x_t] vector the product reads.
    let queue: AlignedBuffer<Float>, window: AlignedBuffer<Float>
    let z: AlignedBuffer<Float>, y: AlignedBuffer<Float>

    init(residual: Int, gate: Int, skip: Int, dilation: Int) {
        self.residual = residual
        self.gate = gate
        skipChannels = skip
        self.dilation = dilation
        rs = padded16(residual)
        gs = padded16(gate)
        ss = padded16(skip)
        dilated = Matrix(rows: 2 * gs, columns: 2 * rs)
        dilatedBias = AlignedBuffer(count: 2 * gs)
        outputs = Matrix(rows: ss + rs, columns: gate)
        skipBias = AlignedBuffer(count: skip)
        residualBias = AlignedBuffer(count: residual)
        queue = AlignedBuffer(count: dilation * rs)
        window = AlignedBuffer(count: 2 * rs)
        z = AlignedBuffer(count: 2 * gs)
        y = AlignedBuffer(count: ss + rs)
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
        let b = 1 / Float(gate).squareRoot()
        for r in 0..<residual {
            for c in 0..<gate { outputs[ss + r, c] = rng.uniform(-b, b) }
            residualBias[r] = rng.uniform(-b, b)
        }
        for r in 0..<skipChannels {
            for c in 0..<gate { outputs[r, c] = rng.uniform(-b, b) }
            skipBias[r] = rng.uniform(-b, b)
        }
    }

    func load(_ reader: WeightReader, _ prefix: String) throws(WeightsError) {
        let w = try reader.take(TensorName.weight(TensorName.dilated(prefix)), shape: [2 * gate, residual, 2])
        let b = try reader.take(TensorName.bias(TensorName.dilated(prefix)), shape: [2 * gate])
        for o in 0..<(2 * gate) {
            for c in 0..<residual {
                dilated[row(o), c] = w[(o * residual + c) * 2]
                dilated[row(o), rs + c] = w[(o * residual + c) * 2 + 1]
            }
            dilatedBias[row(o)] = b[o]
        }
        let wr = try reader.take(TensorName.weight(TensorName.residual(prefix)), shape: [residual, gate])
        residualBias.copy(from: try reader.take(TensorName.bias(TensorName.residual(prefix)), shape: [residual]))
        let ws = try reader.take(TensorName.weight(TensorName.skip(prefix)), shape: [skipChannels, gate])
        skipBias.copy(from: try reader.take(TensorName.bias(TensorName.skip(prefix)), shape: [skipChannels]))
        for c in 0..<gate {
            for r in 0..<residual { outputs[ss + r, c] = wr[r * gate + c] }
            for r in 0..<skipChannels { outputs[r, c] = ws[r * gate + c] }
        }
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
        set.tensors[TensorName.weight(TensorName.dilated(prefix))] = Tensor(shape: [2 * gate, residual, 2], values: w)
        set.tensors[TensorName.bias(TensorName.dilated(prefix))] = Tensor(shape: [2 * gate], values: b)
        var wr = [Float](repeating: 0, count: residual * gate), ws = [Float](repeating: 0, count: skipChannels * gate)
        for c in 0..<gate {
            for r in 0..<residual { wr[r * gate + c] = outputs[ss + r, c] }
            for r in 0..<skipChannels { ws[r * gate + c] = outputs[r, c] }
        }
        set.tensors[TensorName.weight(TensorName.residual(prefix))] = Tensor(shape: [residual, gate], values: wr)
        set.tensors[TensorName.bias(TensorName.residual(prefix))] = Tensor(shape: [residual], values: residualBias.array)
        set.tensors[TensorName.weight(TensorName.skip(prefix))] = Tensor(shape: [skipChannels, gate], values: ws)
        set.tensors[TensorName.bias(TensorName.skip(prefix))] = Tensor(shape: [skipChannels], values: skipBias.array)
    }

    func prepare(_ precision: Precision) {
        dilated.prepare(precision)
        outputs.prepare(precision)
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
        outputs.multiply(z.base, into: y.base, accumulate: false)
        addVectors(y.base, to: s, count: ss)
        addVectors(y.base + ss, to: x, count: rs)
        addVectors(residualBias.base, to: x, count: rs)
    }
}

/// z[0..<n] ← tanh(z[0..<n]) · σ(z[n..<2n]).
@inline(never) func gatedActivation(_ z: UnsafeMutablePointer<Float>, count n: Int) {
    var j = 0
    while j < n {
        store16(tanh16(load16(z + j)) * gateSigmoid16(load16(z + n + j)), z + j)
        j &+= 16
    }
}

@inline(__always) func addVectors(_ b: UnsafePointer<Float>, to x: UnsafeMutablePointer<Float>, count n: Int) {
    var j = 0
    while j < n {
        store16(load16(x + j) + load16(b + j), x + j)
        j &+= 16
    }
}
