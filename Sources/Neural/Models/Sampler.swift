import Foundation

/// What a model's logits mean, and so how they are sampled.
public enum OutputHead: String, Sendable, CaseIterable {
    /// One event out of all outputs (melody: NO_EVENT, NOTE_OFF, NOTE_ON(pitch)...).
    case softmax
    /// Each output an independent on/off (drum kit pieces): sigmoid per unit.
    case multiHot = "multi_hot"
    /// A set of units drawn lowest to highest: one logit per unit plus END (the last output); each link of
    /// the chain is a softmax over {units above the last one drawn, END}, so a set has an exact probability.
    case pitchChain = "pitch_chain"
    /// The pitch chain whose links depend on the notes already drawn (NADEChain): the outputs are b (one logit
    /// per unit, then END) and c (the chain's K hidden pre-activations); the model's `chain` draws from them.
    case nadeChain = "nade_chain"

    /// Units the head chooses among, given the model's output count (the chain's last output is END) and,
    /// for the NADE chain, its hidden size.
    public func units(outputs: Int, chainHidden: Int = 0) -> Int {
        switch self {
        case .softmax, .multiHot: return outputs
        case .pitchChain: return outputs - 1
        case .nadeChain: return outputs - 1 - chainHidden
        }
    }
}

/// Draws from a step's logits with temperature and nucleus (top-p) truncation, using preallocated scratch so
/// that sampling inside the real-time path allocates nothing.
public final class Sampler {
    public let count: Int
    let probabilities: AlignedBuffer<Float>
    let order: UnsafeMutablePointer<Int32>

    public init(count: Int) {
        self.count = count
        probabilities = AlignedBuffer(count: count)
        order = .allocate(capacity: max(count, 1))
        order.initialize(repeating: 0, count: max(count, 1))
    }

    deinit { order.deallocate() }

    /// Softmax head: one index. temperature ≤ 0 picks the most likely event; topP in (0, 1] keeps the
    /// smallest set of most likely events whose probability reaches topP (ties broken by index).
    public func sampleEvent(
        _ logits: UnsafePointer<Float>, temperature: Float, topP: Float, rng: inout SeededRandom
    ) -> Int {
        if temperature <= 0 {
            var best = 0
            for i in 1..<count where logits[i] > logits[best] { best = i }
            return best
        }
        let p = probabilities.base
        softmax(logits, count: count, temperature: temperature, into: p)
        var kept = count
        var mass: Float = 1
        if topP < 1 {
            sortByProbability()
            mass = 0
            kept = 0
            while kept < count {
                mass += p[Int(order[kept])]
                kept += 1
                if mass >= topP { break }
            }
        } else {
            for i in 0..<count { order[i] = Int32(i) }
        }
        let u = rng.nextUnit() * mass
        var acc: Float = 0
        for k in 0..<kept {
            acc += p[Int(order[k])]
            if u < acc { return Int(order[k]) }
        }
        return Int(order[kept - 1])
    }

    /// Multi-hot head: each unit on with probability σ(logit / temperature); temperature ≤ 0 thresholds at
    /// 0.5. Top-p does not apply to independent units. At most FeatureList.capacity units are returned.
    public func sampleSet(_ logits: UnsafePointer<Float>, temperature: Float, rng: inout SeededRandom) -> FeatureList {
        var chosen = FeatureList()
        for i in 0..<count where chosen.count < FeatureList.capacity {
            let on: Bool
            if temperature <= 0 {
                on = logits[i] > 0
            } else {
                on = rng.nextUnit() < sigmoid(logits[i] / temperature)
            }
            if on { chosen.append(i) }
        }
        return chosen
    }

    /// Ascending pitch chain: draws units lowest to highest, each link a softmax (with temperature and
    /// top-p) over {units above the last drawn, END}, until END, the top unit, or FeatureList.capacity.
    /// Temperature ≤ 0 takes the most likely choice at every link.
    public func sampleChain(
        _ logits: UnsafePointer<Float>, temperature: Float, topP: Float, rng: inout SeededRandom
    ) -> FeatureList {
        let end = count - 1
        var chosen = FeatureList()
        var first = 0
        while first < end && chosen.count < FeatureList.capacity {
            let pick = chooseLink(logits, first: first, temperature: temperature, topP: topP, rng: &rng)
            if pick == end { break }
            chosen.append(pick)
            first = pick + 1
        }
        return chosen
    }

    /// One link of a chain: a unit in first..<END or END (the last of `count` logits), by softmax with
    /// temperature and top-p over those candidates; temperature ≤ 0 takes the most likely.
    public func chooseLink(
        _ logits: UnsafePointer<Float>, first: Int, temperature: Float, topP: Float, rng: inout SeededRandom
    ) -> Int {
        let end = count - 1
        let p = probabilities.base
        // Candidates: first..<end and END, written compactly into order[0...k-1].
        var k = 0
        for u in first..<end {
            order[k] = Int32(u)
            k += 1
        }
        order[k] = Int32(end)
        k += 1
        if temperature <= 0 {
            var pick = Int(order[0])
            for c in 1..<k where logits[Int(order[c])] > logits[pick] { pick = Int(order[c]) }
            return pick
        }
        var m = -Float.infinity
        for c in 0..<k { m = max(m, logits[Int(order[c])] / temperature) }
        var total: Float = 0
        for c in 0..<k {
            let e = exp(logits[Int(order[c])] / temperature - m)
            p[c] = e
            total += e
        }
        for c in 0..<k { p[c] /= total }
        return drawNucleus(candidates: k, topP: topP, rng: &rng)
    }

    /// Draws one of the `k` candidates in order[0..<k] whose probabilities are p[0..<k], keeping the
    /// smallest most likely subset whose mass reaches topP. Sorts candidates and probabilities in place.
    private func drawNucleus(candidates k: Int, topP: Float, rng: inout SeededRandom) -> Int {
        let p = probabilities.base
        var kept = k
        var mass: Float = 1
        if topP < 1 {
            // Insertion sort of the (candidate, probability) pairs by descending probability.
            for i in 1..<max(k, 1) {
                let item = order[i], value = p[i]
                var j = i - 1
                while j >= 0 && p[j] < value {
                    order[j + 1] = order[j]
                    p[j + 1] = p[j]
                    j -= 1
                }
                order[j + 1] = item
                p[j + 1] = value
            }
            mass = 0
            kept = 0
            while kept < k {
                mass += p[kept]
                kept += 1
                if mass >= topP { break }
            }
        }
        let u = rng.nextUnit() * mass
        var acc: Float = 0
        for c in 0..<kept {
            acc += p[c]
            if u < acc { return Int(order[c]) }
        }
        return Int(order[kept - 1])
    }

    /// Insertion sort of indices by descending probability, stable, in place: no allocation, and at the
    /// ~130 events of a melody model a few microseconds.
    private func sortByProbability() {
        let p = probabilities.base
        for i in 0..<count { order[i] = Int32(i) }
        guard count > 1 else { return }
        for i in 1..<count {
            let item = order[i]
            let value = p[Int(item)]
            var j = i - 1
            while j >= 0 && p[Int(order[j])] < value {
                order[j + 1] = order[j]
                j -= 1
            }
            order[j + 1] = item
        }
    }
}
