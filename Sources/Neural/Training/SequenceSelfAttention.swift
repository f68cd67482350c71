import Foundation

/// Multi-head causal self-attention with ALiBi over a chunk's rows, each row seeing itself and the `window − 1`
/// steps before it in its own piece, with its backward beside it.
///
/// As Transformer-XL does, the keys and values of each stream's last `window − 1` steps are kept from the
/// previous chunk (no gradient flows into them), so a chunk's first steps see the same past the streaming KV
/// cache holds, and chunked training computes exactly the streaming model's function.
final class SequenceSelfAttention {
    let width: Int, heads: Int, window: Int, headWidth: Int, batch: Int
    /// Steps of history kept per stream.
    let memory: Int
    let slopes: [Float]
    let scale: Float
    /// [history (memory steps); this chunk] of keys and values, rows time-major like the chunk's.
    let keys: TrainingBuffer, values: TrainingBuffer
    let dKeys: TrainingBuffer, dValues: TrainingBuffer
    /// Attention weights per row and head, by age (0: the row itself).
    let probabilities: TrainingBuffer
    let output: TrainingBuffer
    /// [dq; dk; dv] per row, for the qkv projection's backward.
    let dQKV: TrainingBuffer
    /// dO·v per age for one row and head.
    let probabilityGradient: TrainingBuffer
    private var qkv: UnsafePointer<Float>? = nil
    private var positions: [Int32] = []
    private var rows = 0
    /// Rows of the last chunk: its final `memory` steps become the next chunk's history.
    private var pendingShift = 0

    init(width: Int, heads: Int, window: Int, batch: Int, maxRows: Int) {
        self.width = width
        self.heads = heads
        self.window = window
        self.batch = batch
        headWidth = width / heads
        memory = window - 1
        slopes = AttentionBias.slopes(heads: heads)
        scale = 1 / Float(width / heads).squareRoot()
        let extended = (memory * batch + maxRows) * width
        keys = TrainingBuffer(count: extended)
        values = TrainingBuffer(count: extended)
        dKeys = TrainingBuffer(count: extended)
        dValues = TrainingBuffer(count: extended)
        probabilities = TrainingBuffer(count: maxRows * heads * window)
        output = TrainingBuffer(count: maxRows * width)
        dQKV = TrainingBuffer(count: maxRows * 3 * width)
        probabilityGradient = TrainingBuffer(count: window)
    }

    func resetState() {
        keys.zero()
        values.zero()
        pendingShift = 0
    }

    /// Steps row r may look back: within its piece and the window.
    @inline(__always) private func span(_ r: Int) -> Int { min(Int(positions[r]), memory) + 1 }

    /// Row r's key/value row in the extended buffers, `age` steps back.
    @inline(__always) private func past(_ r: Int, _ age: Int) -> Int { memory * batch + r - age * batch }

    func forward(_ qkv: UnsafePointer<Float>, positions: [Int32], rows: Int) {
        let (d, dh, w) = (width, headWidth, window)
        if pendingShift > 0, memory > 0 {
            keys.base.update(from: keys.base + pendingShift * d, count: memory * batch * d)
            values.base.update(from: values.base + pendingShift * d, count: memory * batch * d)
        }
        pendingShift = rows
        self.qkv = qkv
        self.positions = positions
        self.rows = rows
        for r in 0..<rows {
            (keys.base + past(r, 0) * d).update(from: qkv + r * 3 * d + d, count: d)
            (values.base + past(r, 0) * d).update(from: qkv + r * 3 * d + 2 * d, count: d)
        }
        for r in 0..<rows {
            let n = span(r)
            for h in 0..<heads {
                let q = qkv + r * 3 * d + h * dh
                let p = probabilities.base + (r * heads + h) * w
                var peak = -Float.infinity
                for age in 0..<n {
                    let s = dot(q, keys.base + past(r, age) * d + h * dh, dh) * scale - slopes[h] * Float(age)
                    p[age] = s
                    peak = max(peak, s)
                }
                var total: Float = 0
                for age in 0..<n {
                    p[age] = expf(p[age] - peak)
                    total += p[age]
                }
                let o = output.base + r * d + h * dh
                o.update(repeating: 0, count: dh)
                for age in 0..<n {
                    p[age] /= total
                    addScaled(p[age], values.base + past(r, age) * d + h * dh, into: o, dh)
                }
            }
        }
    }

    /// From dOutput [rows, width] to dQKV; the history's keys and values take no gradient.
    func backward(_ dOutput: UnsafePointer<Float>) {
        let (d, dh, w) = (width, headWidth, window)
        let qkv = qkv!
        dKeys.zero()
        dValues.zero()
        for r in 0..<rows {
            let n = span(r)
            let dq = dQKV.base + r * 3 * d
            dq.update(repeating: 0, count: d)
            for h in 0..<heads {
                let q = qkv + r * 3 * d + h * dh
                let p = probabilities.base + (r * heads + h) * w
                let dO = dOutput + r * d + h * dh
                // dP_a = dO·v_a; dS_a = P_a (dP_a − Σ P dP).
                var weighted: Float = 0
                for age in 0..<n {
                    let g = dot(dO, values.base + past(r, age) * d + h * dh, dh)
                    weighted += p[age] * g
                    probabilityGradient[age] = g
                }
                for age in 0..<n {
                    let row = past(r, age) * d + h * dh
                    let dS = p[age] * (probabilityGradient[age] - weighted) * scale
                    addScaled(dS, keys.base + row, into: dq + h * dh, dh)
                    addScaled(dS, q, into: dKeys.base + row, dh)
                    addScaled(p[age], dO, into: dValues.base + row, dh)
                }
            }
        }
        for r in 0..<rows {
            (dQKV.base + r * 3 * d + d).update(from: dKeys.base + past(r, 0) * d, count: d)
            (dQKV.base + r * 3 * d + 2 * d).update(from: dValues.base + past(r, 0) * d, count: d)
        }
    }
}
