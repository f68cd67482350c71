import Foundation

/// The NADE chain head for training: the ascending pitch chain of `pitch_chain`, but each link's logits depend
/// on the notes already drawn in the frame, so the notes of one frame are no longer independent given the state.
///
/// The model's last Linear gives per row [b (units + 1: units, then END) | c (K)]. Link j, after drawing
/// s_1 < ... < s_j, has a_j = c + Σ_{k≤j} W[:, s_k], h_j = tanh(a_j), logits_j = b + V h_j, normalised over
/// {u > s_j} ∪ {END}; the NLL is Σ_j -log p(pick_j), the last pick END — the exact NLL of the set.
///
/// All links of a chunk are laid out as rows of one matrix, so V's products run as two GEMMs per pass; W is
/// held one K-row per unit (a transposed Parameter), so adding a drawn unit's column is a contiguous axpy.
/// Saved as `chain.input.weight` [K, units] (W) and `chain.output.weight` [units + 1, K] (V).
public final class NADEChainHead {
    public let units: Int
    public let hidden: Int
    public let input: Parameter
    public let output: Parameter
    /// Per link: the hidden state h (later overwritten by dA), the logits (later by their gradient).
    private var states = TrainingBuffer(count: 0)
    private var linkLogits = TrainingBuffer(count: 0)
    private var dStates = TrainingBuffer(count: 0)
    /// Per link: the first allowed unit (s_j + 1, 0 at the first link) and the pick (END = units).
    private var firsts: [Int32] = []
    private var picks: [Int32] = []

    public init(units: Int, hidden: Int) {
        self.units = units
        self.hidden = hidden
        input = Parameter(TensorName.weight(TensorName.chainInput), shape: [hidden, units], transposed: true)
        output = Parameter(TensorName.weight(TensorName.chainOutput), shape: [units + 1, hidden])
    }

    /// The head a configuration asks for, or nil for the heads without weights of their own.
    static func make(_ config: TrainingModelConfig, rng: inout TrainingRandom) -> NADEChainHead? {
        guard config.head == .nadeChain else { return nil }
        let head = NADEChainHead(units: config.units, hidden: config.chainHidden)
        // As Linear layers from a one-hot unit (W) and from the K hidden units (V).
        head.input.randomize(bound: 1 / Float(config.units).squareRoot(), &rng)
        head.output.randomize(bound: 1 / Float(config.chainHidden).squareRoot(), &rng)
        return head
    }

    public var parameters: [Parameter] { [input, output] }
    /// Floats per row of the model's logits: b, then c.
    public var outputs: Int { units + 1 + hidden }

    private func reserve(links: Int) {
        guard links * hidden > states.count else { return }
        let capacity = links + links / 4
        states = TrainingBuffer(count: capacity * hidden)
        dStates = TrainingBuffer(count: capacity * hidden)
        linkLogits = TrainingBuffer(count: capacity * (units + 1))
    }

    /// Summed NLL of the rows' sets; with `grad` (which may be `logits` itself) writes dLoss/d[b | c] scaled by
    /// `scale` and accumulates the gradients of W and V. Absent rows cost nothing and get zero gradient.
    public func loss(
        _ logits: UnsafePointer<Float>, rows: Int, targets: SparseRows, present: [Bool], scale: Float,
        grad: UnsafeMutablePointer<Float>?
    ) -> Double {
        let (U, K, n) = (units, hidden, outputs)
        var links = 0
        for r in 0..<rows where present[r] { links += targets.range(r).count + 1 }
        reserve(links: links)
        firsts.removeAll(keepingCapacity: true)
        picks.removeAll(keepingCapacity: true)
        // Forward, part 1 (reads every logit before any gradient overwrites them): a_j as running sums, h_j.
        var link = 0
        for r in 0..<rows where present[r] {
            let c = logits + r * n + U + 1
            var a = states.base + link * K
            a.update(from: c, count: K)
            var first: Int32 = 0
            for e in targets.range(r) {
                let s = targets.indices[e]
                firsts.append(first)
                picks.append(s)
                let next = a + K
                next.update(from: a, count: K)
                TrainMath.add(input.value.base + Int(s) * K, into: next, K)
                a = next
                first = s + 1
            }
            firsts.append(first)
            picks.append(Int32(U))
            link += targets.range(r).count + 1
        }
        TrainMath.applyTanh(states.base, links * K)
        // Forward, part 2: logits_j = b + V h_j for all links at once.
        let z = linkLogits.base
        Gemm.multiply(transB: true, m: links, n: U + 1, k: K, states.base, lda: K, output.value.base, ldb: K, beta: 0,
                      z, ldc: U + 1)
        link = 0
        for r in 0..<rows where present[r] {
            for _ in 0...targets.range(r).count {
                TrainMath.add(logits + r * n, into: z + link * (U + 1), U + 1)
                link += 1
            }
        }
        // Loss per link over the allowed slice first...U (END sits right after the units), and its gradient.
        var total = 0.0
        for j in 0..<links {
            let l = z + j * (U + 1)
            let first = Int(firsts[j]), pick = Int(picks[j])
            total += Self.sliceSoftmax(l + first, count: U + 1 - first, pick: pick - first, scale: scale)
            if grad != nil { l.update(repeating: 0, count: first) }
        }
        guard let grad else { return total }
        // Backward: db_r = Σ_j dz_j; dV = dZᵀ H; dH = dZ V; dA = dH ⊙ (1 - h²); dc_r = Σ_j dA_j;
        // W[:, s_k] gets Σ_{j ≥ k} dA_j (unit s_k is in every later link's sum).
        Gemm.multiply(transA: true, m: U + 1, n: K, k: links, z, lda: U + 1, states.base, ldb: K, beta: 1,
                      output.grad.base, ldc: K)
        let dA = dStates.base
        Gemm.multiply(m: links, n: K, k: U + 1, z, lda: U + 1, output.value.base, ldb: K, beta: 0, dA, ldc: K)
        for i in 0..<(links * K) { dA[i] *= 1 - states[i] * states[i] }
        link = 0
        for r in 0..<rows {
            let g = grad + r * n
            guard present[r] else {
                g.update(repeating: 0, count: n)
                continue
            }
            let range = targets.range(r)
            let count = range.count + 1
            g.update(repeating: 0, count: n)
            for j in 0..<count { TrainMath.add(z + (link + j) * (U + 1), into: g, U + 1) }
            // Suffix sums of dA, from the last link down: after adding link j the sum is Σ_{i ≥ j} dA_i, which
            // is unit s_j's gradient (s_j drawn before link j); at j = 0 it is dc.
            let suffix = g + U + 1
            for j in stride(from: count - 1, through: 0, by: -1) {
                TrainMath.add(dA + (link + j) * K, into: suffix, K)
                if j > 0 {
                    let s = Int(targets.indices[range.lowerBound + j - 1])
                    TrainMath.add(suffix, into: input.grad.base + s * K, K)
                }
            }
            link += count
        }
        return total
    }

    /// -log softmax(l)[pick] over `count` logits; overwrites them with (softmax - onehot(pick))·scale.
    static func sliceSoftmax(_ l: UnsafeMutablePointer<Float>, count: Int, pick: Int, scale: Float) -> Double {
        var m = -Float.infinity
        for i in 0..<count { m = max(m, l[i]) }
        let picked = l[pick] - m
        var sum: Float = 0
        var i = 0
        let mv = SIMD16<Float>(repeating: m)
        while i + 16 <= count {
            let e = TrainMath.exp(TrainMath.load(l + i) - mv)
            TrainMath.store(e, l + i)
            sum += e.sum()
            i += 16
        }
        while i < count {
            let e = TrainMath.exp(SIMD16(repeating: l[i] - m))[0]
            l[i] = e
            sum += e
            i += 1
        }
        let factor = scale / sum
        for k in 0..<count { l[k] *= factor }
        l[pick] -= scale
        return Foundation.log(Double(sum)) - Double(picked)
    }
}
