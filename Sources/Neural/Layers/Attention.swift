import CNeuralKernels
import Foundation

/// Additive attention over the last n top-layer outputs (Magenta's AttentionCellWrapper, docs/DESIGN-NOTES.md §5):
/// u_i = vᵀ tanh(W1 h_i + W2 c_t), a = softmax(u), d = Σ a_i h_i, out = W_o [h_t; d] + b_o.
/// The step leaves [h_t; d] in `joined`; the owner applies W_o (folded into its head, see AttentionRNN).
///
/// W1 h_i is computed once, when h_i enters the window, and kept in a ring beside h_i, so a step costs one
/// W2 product, n dot products and one W1 product for the newest entry. Keys and query are kept as e^{2x}
/// (`applyTanhExponent`): each of the n·H score terms is then a multiply-add and a division, not a tanh.
/// The window starts as n zero entries (as the reference and Magenta do), and the output of step t attends
/// over h_{t-n} ... h_{t-1}.
public struct Attention {
    public let hidden: Int
    public let window: Int
    let hs: Int
    /// W1 (keys) and W2 (query), [H, H], no bias.
    public let key: Linear
    public let query: Linear
    /// v [H].
    public let score: AlignedBuffer<Float>
    /// W_o on [h_t; d] → H, with bias.
    public let output: Linear

    /// Ring of cached keys, as e^{2·W1·h_i}, and values h_i, one padded row each.
    let keys: AlignedBuffer<Float>, values: AlignedBuffer<Float>
    /// [h_t; d]: the projection's input; d doubles as the attention read the next step mixes into its input.
    public let joined: AlignedBuffer<Float>
    let q: AlignedBuffer<Float>, e: AlignedBuffer<Float>, weights: AlignedBuffer<Float>
    private let cursor: AlignedBuffer<Int>

    public init(hidden: Int, window: Int) {
        precondition(window >= 1)
        self.hidden = hidden
        self.window = window
        hs = padded16(hidden)
        key = Linear(inputs: hidden, outputs: hidden)
        query = Linear(inputs: hidden, outputs: hidden)
        score = AlignedBuffer(count: hidden)
        output = Linear(inputs: 2 * hs, outputs: hidden)
        keys = AlignedBuffer(count: window * hs)
        values = AlignedBuffer(count: window * hs)
        joined = AlignedBuffer(count: 2 * hs)
        q = AlignedBuffer(count: hs)
        e = AlignedBuffer(count: hs)
        weights = AlignedBuffer(count: window)
        cursor = AlignedBuffer(count: 1)
        emptyKeys()
    }

    /// The window's zero entries: their keys W1·0 = 0, kept as e^0.
    private func emptyKeys() {
        for i in 0..<keys.paddedCount { keys[i] = 1 }
    }

    /// d, the attention read of the last step.
    public var read: UnsafeMutablePointer<Float> { joined.base + hs }

    public func randomize(_ rng: inout SeededRandom) {
        key.randomize(&rng)
        query.randomize(&rng)
        let bound = 1 / Float(hidden).squareRoot()
        for j in 0..<hidden { score[j] = rng.uniform(-bound, bound) }
        let ob = 1 / Float(2 * hidden).squareRoot()
        for r in 0..<hidden {
            for c in 0..<(2 * hidden) { output.weight[r, outputColumn(c)] = rng.uniform(-ob, ob) }
            output.bias[r] = rng.uniform(-ob, ob)
        }
    }

    /// Column c of the saved [H, 2H] W_o in the padded [h (hs); d (hs)] layout.
    @inline(__always) func outputColumn(_ c: Int) -> Int { c < hidden ? c : hs + c - hidden }

    public func load(_ reader: WeightReader) throws(WeightsError) {
        try key.load(reader, TensorName.attentionKey, hasBias: false)
        try query.load(reader, TensorName.attentionQuery, hasBias: false)
        score.copy(from: try reader.take(TensorName.attentionScore, shape: [hidden]))
        let w = try reader.take(TensorName.weight(TensorName.attentionOutput), shape: [hidden, 2 * hidden])
        for r in 0..<hidden { for c in 0..<(2 * hidden) { output.weight[r, outputColumn(c)] = w[r * 2 * hidden + c] } }
        output.bias.copy(from: try reader.take(TensorName.bias(TensorName.attentionOutput), shape: [hidden]))
    }

    public func save(_ set: inout WeightSet) {
        key.save(&set, TensorName.attentionKey, hasBias: false)
        query.save(&set, TensorName.attentionQuery, hasBias: false)
        set.tensors[TensorName.attentionScore] = Tensor(shape: [hidden], values: score.array)
        var w = [Float](repeating: 0, count: hidden * 2 * hidden)
        for r in 0..<hidden { for c in 0..<(2 * hidden) { w[r * 2 * hidden + c] = output.weight[r, outputColumn(c)] } }
        set.tensors[TensorName.weight(TensorName.attentionOutput)] = Tensor(shape: [hidden, 2 * hidden], values: w)
        set.tensors[TensorName.bias(TensorName.attentionOutput)] = Tensor(shape: [hidden], values: output.bias.array)
    }

    /// Reads one byte of every cache line of its weights and of the ring the step attends over (`prefetch()`).
    public func touchStepData() {
        query.weight.touch()
        key.weight.touch()
        keys.touch()
        values.touch()
    }

    public func prepare(_ precision: Precision) {
        key.prepare(precision)
        query.prepare(precision)
    }

    public func reset() {
        emptyKeys()
        values.zero()
        joined.zero()
        cursor[0] = 0
    }

    /// What a step carries to the next: the ring slot it pushes into, the read it leaves, the cursor.
    func keepState(in stash: StateStash) {
        let slot = cursor[0]
        stash.keep(keys.base + slot * hs, count: hs)
        stash.keep(values.base + slot * hs, count: hs)
        stash.keep(joined.base, count: joined.paddedCount)
        stash.keep(cursor.base, count: 1)
    }

    /// Attends with the top layer's h_t and c_t, leaves [h_t; d] in `joined`, then pushes h_t.
    @inline(__always) public func step(h: UnsafePointer<Float>, c: UnsafePointer<Float>) {
        query.weight.multiply(c, into: q.base, accumulate: false)
        applyTanhExponent(q.base, count: hs)
        scores()
        joined.base.update(from: h, count: hs)
        weightedSum()
        let slot = cursor[0]
        key.weight.multiply(h, into: keys.base + slot * hs, accumulate: false)
        applyTanhExponent(keys.base + slot * hs, count: hs)
        (values.base + slot * hs).update(from: h, count: hs)
        cursor[0] = slot + 1 == window ? 0 : slot + 1
    }

    /// u_i = vᵀ tanh(K_i + q) for every slot (from the kept powers), then softmax into `weights` (slot order
    /// does not matter).
    @inline(never) func scores() {
        let n = window
        if sideman_attention_scores(keys.base, Int32(n), Int32(hs), q.base, score.base, weights.base) == 0 {
            attentionScoresPortable(keys.base, window: n, stride: hs, queryPowers: q.base, score: score.base, into: weights.base)
        }
        var best = -Float.infinity
        for i in 0..<n { best = max(best, weights[i]) }
        var total: Float = 0
        for i in 0..<n {
            let a = expf(weights[i] - best)
            weights[i] = a
            total += a
        }
        let scale = 1 / total
        for i in 0..<n { weights[i] *= scale }
    }

    /// d = Σ a_i h_i into the second half of `joined`.
    @inline(never) func weightedSum() {
        let d = joined.base + hs
        var j = 0
        while j < hs {
            var acc = SIMD16<Float>()
            for i in 0..<window { acc = acc.addingProduct(load16(values.base + i * hs + j), SIMD16(repeating: weights[i])) }
            store16(acc, d + j)
            j &+= 16
        }
    }
}

/// u_i = Σ_j v_j tanh(K_ij + q_j) = Σ_j v_j − 2·Σ_j v_j / (e^{2K_ij}·e^{2q_j} + 1) from the powers
/// (`applyTanhExponent`), in Swift SIMD: the form used where the CPU has no AVX-512 (`sideman_attention_scores`).
@inline(never)
public func attentionScoresPortable(
    _ keyPowers: UnsafePointer<Float>, window: Int, stride: Int, queryPowers e: UnsafePointer<Float>,
    score v: UnsafePointer<Float>, into u: UnsafeMutablePointer<Float>
) {
    var total = SIMD16<Float>()
    var j = 0
    while j < stride { total += load16(v + j); j &+= 16 }
    let vTotal = total.sum()
    for i in 0..<window {
        let k = keyPowers + i * stride
        var acc = SIMD16<Float>()
        j = 0
        while j < stride {
            // One rounding for the product and the 1, as the AVX-512 form's multiply-add does.
            acc += load16(v + j) / SIMD16(repeating: 1).addingProduct(load16(k + j), load16(e + j))
            j &+= 16
        }
        u[i] = vTotal - 2 * acc.sum()
    }
}
