import Foundation

/// What a model's logits mean, and so how they are sampled.
public enum OutputHead: String, Sendable, CaseIterable {
    /// One event out of all outputs (melody: NO_EVENT, NOTE_OFF, NOTE_ON(pitch)...).
    case softmax
    /// Each output an independent on/off (drum kit pieces): sigmoid per unit.
    case multiHot = "multi_hot"
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
