import Foundation

/// The output heads' losses: each turns a chunk's logits and targets into the summed NLL (nats) and writes
/// dLoss/dlogits scaled by `scale` (1 / number of predicted steps, for a mean). Rows whose target is absent
/// (padding at the end of a stream) cost nothing and get zero gradient.
public enum HeadKind: String, Sendable, CaseIterable {
    /// One class of all outputs per step (melody events).
    case softmax
    /// Each output an independent Bernoulli (drum kit pieces; the classic piano-roll frame NLL).
    case multiHot = "multi_hot"
    /// A note set emitted lowest pitch first, each a softmax over {pitches above the last, END}: exact NLL of
    /// the set. Logits are the units then END (outputs = units + 1).
    case pitchChain = "pitch_chain"
    /// The pitch chain with each link's logits depending on the notes already drawn (NADEChainHead): logits
    /// are b (units then END) and c (the chain's K hidden pre-activations), outputs = units + 1 + K.
    case nadeChain = "nade_chain"

    /// Logit count for `units` target classes or units (for the NADE chain, its b part only).
    public func outputs(units: Int) -> Int { self == .pitchChain || self == .nadeChain ? units + 1 : units }

    /// Summed NLL of the rows, with gradients into `grad` (same shape as the logits; may be the logits themselves).
    public func loss(
        _ logits: UnsafePointer<Float>, rows: Int, outputs: Int, targets: SparseRows, present: [Bool], scale: Float,
        grad: UnsafeMutablePointer<Float>?
    ) -> Double {
        var total = 0.0
        for r in 0..<rows {
            let l = logits + r * outputs
            let g = grad.map { $0 + r * outputs }
            guard present[r] else {
                g?.update(repeating: 0, count: outputs)
                continue
            }
            let range = targets.range(r)
            switch self {
            case .softmax:
                total += Self.softmaxRow(l, outputs, target: Int(targets.indices[range.lowerBound]), scale, g)
            case .multiHot:
                total += Self.sigmoidRow(l, outputs, targets.indices[range], scale, g)
            case .pitchChain:
                total += Self.chainRow(l, units: outputs - 1, targets.indices[range], scale, g)
            case .nadeChain:
                preconditionFailure("the NADE chain's loss needs its weights: use TrainableModel.headLoss")
            }
        }
        return total
    }

    static func softmaxRow(_ l: UnsafePointer<Float>, _ n: Int, target: Int, _ scale: Float, _ g: UnsafeMutablePointer<Float>?) -> Double {
        var m = -Float.infinity
        for j in 0..<n { m = max(m, l[j]) }
        // g may alias l: the target's logit is read before the gradient overwrites the logits, and each
        // exponential is written over the logit it came from.
        let chosen = l[target]
        let shift = SIMD16<Float>(repeating: m)
        var lanes = SIMD16<Float>()
        var tail: Float = 0
        var j = 0
        while j + 16 <= n {
            let e = TrainMath.exp(TrainMath.load(l + j) - shift)
            lanes += e
            if let g { TrainMath.store(e, g + j) }
            j += 16
        }
        while j < n {
            let e = Foundation.exp(l[j] - m)
            tail += e
            g?[j] = e
            j += 1
        }
        let sum = Double(lanes.sum()) + Double(tail)
        let nll = Double(m) + Foundation.log(sum) - Double(chosen)
        if let g {
            let factor = Float(Double(scale) / sum)
            j = 0
            while j + 16 <= n { TrainMath.store(TrainMath.load(g + j) * factor, g + j); j += 16 }
            while j < n { g[j] *= factor; j += 1 }
            g[target] -= scale
        }
        return nll
    }

    static func sigmoidRow(_ l: UnsafePointer<Float>, _ n: Int, _ on: ArraySlice<Int32>, _ scale: Float, _ g: UnsafeMutablePointer<Float>?) -> Double {
        var total = 0.0
        var k = on.startIndex
        for j in 0..<n {
            var y: Float = 0
            if k < on.endIndex, Int(on[k]) == j { y = 1; k += 1 }
            let x = Double(l[j])
            // -log σ(x) for y = 1, -log(1 - σ(x)) for y = 0, as softplus terms that never overflow.
            let softplus = max(x, 0) + Foundation.log1p(Foundation.exp(-Swift.abs(x)))
            total += softplus - Double(y) * x
            g?[j] = (TrainMath.sigmoid(l[j]) - y) * scale
        }
        return total
    }

    /// Chain over sorted units s1 < ... < sk: step j (s0 = -1) normalises over {u > s_j} ∪ {END} and picks
    /// s_{j+1}, the last step picks END. With e = exp(l - max) and suffix sums S, Z_j = S[s_j + 1] + e_END;
    /// unit u is in the normaliser of steps 0 ... #{s < u}, so its gradient is e_u · Σ_{j ≤ #{s<u}} 1/Z_j.
    static func chainRow(_ l: UnsafePointer<Float>, units n: Int, _ set: ArraySlice<Int32>, _ scale: Float, _ g: UnsafeMutablePointer<Float>?) -> Double {
        var m = -Float.infinity
        for j in 0...n { m = max(m, l[j]) }
        var e = [Double](repeating: 0, count: n + 1)
        for j in 0...n { e[j] = Foundation.exp(Double(l[j] - m)) }
        var suffix = [Double](repeating: 0, count: n + 1)
        for j in stride(from: n - 1, through: 0, by: -1) { suffix[j] = suffix[j + 1] + e[j] }
        let notes = set.map { Int($0) }
        var nll = 0.0
        var inverse = [Double](repeating: 0, count: notes.count + 1)
        var last = -1
        for j in 0...notes.count {
            let z = suffix[last + 1] + e[n]
            inverse[j] = 1 / z
            let pick = j < notes.count ? notes[j] : n
            nll += Foundation.log(z) - Double(l[pick] - m)
            if j < notes.count { last = notes[j] }
        }
        if let g {
            var below = 0
            var cumulative = inverse[0]
            for u in 0..<n {
                while below < notes.count, notes[below] < u {
                    below += 1
                    cumulative += inverse[below]
                }
                g[u] = Float(e[u] * cumulative) * scale
            }
            g[n] = Float(e[n] * inverse.reduce(0, +) - 1) * scale
            for s in notes { g[s] -= scale }
        }
        return nll
    }
}
