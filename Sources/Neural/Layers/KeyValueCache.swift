import Foundation

/// ALiBi (Press et al. 2022): head h's score for a key `age` steps back is lowered by slope_h·age, with
/// slopes 2^(−8(h+1)/H). Positions enter only as distances, so a sliding window over a KV cache is exact:
/// the same step gives the same result however long the piece has run.
enum AttentionBias {
    static func slopes(heads: Int) -> [Float] {
        (0..<heads).map { h in Float(Foundation.pow(2, -8 * Double(h + 1) / Double(heads))) }
    }
}

/// Multi-head causal self-attention for one step, over a preallocated key/value cache of the last `window`
/// steps (a ring: the oldest step's slot is overwritten). The query/key/value projection and the output
/// projection are Linear maps owned by the block; this holds the cache and does the attention read.
final class KeyValueCache {
    let width: Int, heads: Int, window: Int
    /// Slots in the ring: the window plus the steps that can be taken back (`rewind`), so taking steps back
    /// never loses an entry the window still reaches.
    let slots: Int
    let headWidth: Int
    let keys: AlignedBuffer<Float>, values: AlignedBuffer<Float>
    let scores: AlignedBuffer<Float>
    let slopes: AlignedBuffer<Float>
    let scale: Float
    /// Steps written since the reset.
    private(set) var count = 0

    init(width: Int, heads: Int, window: Int, rewindable: Int) {
        self.width = width
        self.heads = heads
        self.window = window
        slots = window + rewindable
        headWidth = width / heads
        keys = AlignedBuffer(count: slots * width)
        values = AlignedBuffer(count: slots * width)
        scores = AlignedBuffer(count: window)
        slopes = AlignedBuffer(AttentionBias.slopes(heads: heads))
        scale = 1 / Float(width / heads).squareRoot()
    }

    func reset() { count = 0 }

    /// Forgets the newest `steps` entries (at most the rewindable slots), as if they had never been stepped:
    /// the slots they took are written again next, and every entry the window reaches is still in the ring.
    func rewind(_ steps: Int) { count = max(0, count - min(steps, slots - window)) }

    /// Stores this step's key and value, then writes each head's attention read over the cached steps
    /// (this one included) into `out`. `qkv` holds [query; key; value], `width` floats each.
    @inline(__always) func step(_ qkv: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        let (d, dh, w) = (width, headWidth, slots)
        let slot = count % w
        (keys.base + slot * d).update(from: qkv + d, count: d)
        (values.base + slot * d).update(from: qkv + 2 * d, count: d)
        count &+= 1
        let span = min(count, window)
        for h in 0..<heads {
            let q = qkv + h * dh
            let slope = slopes[h]
            var peak = -Float.infinity
            for age in 0..<span {
                let s = (slot - age + w) % w
                let score = dot(q, keys.base + s * d + h * dh, dh) * scale - slope * Float(age)
                scores[age] = score
                peak = max(peak, score)
            }
            var total: Float = 0
            for age in 0..<span {
                let e = expf(scores[age] - peak)
                scores[age] = e
                total += e
            }
            let o = out + h * dh
            o.update(repeating: 0, count: dh)
            let norm = 1 / total
            for age in 0..<span {
                let s = (slot - age + w) % w
                addScaled(scores[age] * norm, values.base + s * d + h * dh, into: o, dh)
            }
        }
    }
}
