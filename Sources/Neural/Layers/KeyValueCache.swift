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
///
/// The cache is fp32 for the fp32 step (the reference) and fp16 for the fp16 and int8 steps: a 4-block,
/// 256-wide model's cache over 256 steps is 2.4 MB in fp32, which beside its 3.2 MB of int8 weights spilled
/// the step's working set out of an 8 MB L3 shared with the rest of the machine; in fp16 it is 1.2 MB.
final class KeyValueCache {
    let width: Int, heads: Int, window: Int
    /// Slots in the ring: the window plus the steps that can be taken back (`rewind`), so taking steps back
    /// never loses an entry the window still reaches.
    let slots: Int
    /// `slots` rounded up to whole vectors: the row length of the transposed keys.
    let slotStride: Int
    let headWidth: Int
    /// Keys transposed, one row of `slotStride` slots per feature, so a head's scores against every slot
    /// are vertical multiply-adds over its features (no horizontal sum per key); values head by head, one row
    /// of the head's width per slot. fp32 here; the fp16 copies below take over when `halves` is on.
    let keys: AlignedBuffer<Float>, values: AlignedBuffer<Float>
    private(set) var halfKeys: AlignedBuffer<Float16>?, halfValues: AlignedBuffer<Float16>?
    /// A head's raw scores by slot, then the window's scores oldest first.
    let raw: AlignedBuffer<Float>, scores: AlignedBuffer<Float>
    let slopes: AlignedBuffer<Float>
    let scale: Float
    /// Steps written since the reset.
    private(set) var count = 0

    init(width: Int, heads: Int, window: Int, rewindable: Int) {
        self.width = width
        self.heads = heads
        self.window = window
        slots = window + rewindable
        slotStride = padded16(window + rewindable)
        headWidth = width / heads
        keys = AlignedBuffer(count: width * slotStride)
        values = AlignedBuffer(count: slots * width)
        raw = AlignedBuffer(count: slotStride)
        scores = AlignedBuffer(count: window)
        slopes = AlignedBuffer(AttentionBias.slopes(heads: heads))
        scale = 1 / Float(width / heads).squareRoot()
    }

    /// True while the cache holds fp16.
    var halves: Bool { halfKeys != nil }

    /// Switches the cache to fp16 (or back to fp32), carrying over what it holds, so a model prepared
    /// between steps goes on from where it was. Allocates: not for the real-time thread.
    func storeHalves(_ on: Bool) {
        guard on != halves else { return }
        if on {
            let k = AlignedBuffer<Float16>(count: keys.count), v = AlignedBuffer<Float16>(count: values.count)
            for i in 0..<keys.count { k.base[i] = Float16(keys.base[i]) }
            for i in 0..<values.count { v.base[i] = Float16(values.base[i]) }
            (halfKeys, halfValues) = (k, v)
        } else if let k = halfKeys, let v = halfValues {
            for i in 0..<keys.count { keys.base[i] = Float(k.base[i]) }
            for i in 0..<values.count { values.base[i] = Float(v.base[i]) }
            (halfKeys, halfValues) = (nil, nil)
        }
    }

    func reset() { count = 0 }

    /// Reads one byte of every cache line of the keys and values the step attends over (`prefetch()`).
    func touch() {
        if let k = halfKeys, let v = halfValues {
            k.touch()
            v.touch()
        } else {
            keys.touch()
            values.touch()
        }
    }

    /// Forgets the newest `steps` entries (at most the rewindable slots), as if they had never been stepped:
    /// the slots they took are written again next, and every entry the window reaches is still in the ring.
    func rewind(_ steps: Int) { count = max(0, count - min(steps, slots - window)) }

    /// Stores this step's key and value, then writes each head's attention read over the cached steps
    /// (this one included) into `out`. `qkv` holds [query; key; value], `width` floats each.
    @inline(__always) func step(_ qkv: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        if let k = halfKeys, let v = halfValues {
            attend(keys: k.base, values: v.base, qkv, into: out)
        } else {
            attend(keys: keys.base, values: values.base, qkv, into: out)
        }
    }

    /// The window's slots are visited oldest first, which walks each head's values forward through memory
    /// (one wrap of the ring at most); by age, newest first, the reads ran backwards in 1 KB strides and were
    /// half the step's time.
    @inline(__always) private func attend<T: StoredScalar>(
        keys: UnsafeMutablePointer<T>, values: UnsafeMutablePointer<T>, _ qkv: UnsafePointer<Float>,
        into out: UnsafeMutablePointer<Float>
    ) {
        let (d, dh, stride) = (width, headWidth, slotStride)
        let slot = count % slots
        for i in 0..<d { keys[i * stride + slot] = T(qkv[d + i]) }
        for h in 0..<heads {
            let row = values + (h * slots + slot) * dh
            for j in 0..<dh { row[j] = T(qkv[2 * d + h * dh + j]) }
        }
        count &+= 1
        let span = min(count, window)
        let oldest = (slot - (span - 1) + slots) % slots
        for h in 0..<heads {
            // Every slot's score at once (slots not in the window are computed and not read).
            accumulateRows(
                UnsafePointer(keys + h * dh * stride), rowStride: stride, count: dh, coefficients: qkv + h * dh,
                scale: scale, vectors: stride / 16, into: raw.base, accumulate: false)
            // scores[k]: the k-th oldest step in the window, aged span - 1 - k.
            let slope = slopes[h]
            var peak = -Float.infinity
            var s = oldest
            for k in 0..<span {
                let score = raw[s] - slope * Float(span - 1 - k)
                scores[k] = score
                peak = max(peak, score)
                s &+= 1
                if s == slots { s = 0 }
            }
            var k = 0
            var sums = SIMD16<Float>()
            let peaks = SIMD16<Float>(repeating: peak)
            while k &+ 16 <= span {
                let e = exp16(load16(scores.base + k) - peaks)
                store16(e, scores.base + k)
                sums += e
                k &+= 16
            }
            var total = sums.sum()
            while k < span {
                let e = expf(scores[k] - peak)
                scores[k] = e
                total += e
                k &+= 1
            }
            let o = out + h * dh
            let norm = 1 / total
            let head = UnsafePointer(values + h * slots * dh)
            if dh % 16 == 0 {
                // Oldest first: up to the ring's end, then on from its start.
                let first = min(span, slots - oldest)
                accumulateRows(
                    head + oldest * dh, rowStride: dh, count: first, coefficients: scores.base, scale: norm,
                    vectors: dh / 16, into: o, accumulate: false)
                accumulateRows(
                    head, rowStride: dh, count: span - first, coefficients: scores.base + first, scale: norm,
                    vectors: dh / 16, into: o, accumulate: true)
            } else {
                o.update(repeating: 0, count: dh)
                s = oldest
                for k in 0..<span {
                    addScaled(scores[k] * norm, head + s * dh, into: o, dh)
                    s &+= 1
                    if s == slots { s = 0 }
                }
            }
        }
    }
}
