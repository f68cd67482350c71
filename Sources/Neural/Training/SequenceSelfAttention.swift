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
    /// Attention weights per stream and head: [steps × (memory + steps)], a row's weights over the keys of
    /// its stream's history and chunk (zero outside its window and its piece).
    let probabilities: TrainingBuffer
    /// dP, then dS, of one stream and head.
    let probabilityGradient: TrainingBuffer
    let output: TrainingBuffer
    /// [dq; dk; dv] per row, for the qkv projection's backward.
    let dQKV: TrainingBuffer
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
        let steps = maxRows / batch
        probabilities = TrainingBuffer(count: batch * heads * steps * (memory + steps))
        probabilityGradient = TrainingBuffer(count: steps * (memory + steps))
        output = TrainingBuffer(count: maxRows * width)
        dQKV = TrainingBuffer(count: maxRows * 3 * width)
    }

    func resetState() {
        keys.zero()
        values.zero()
        pendingShift = 0
    }

    /// Steps row r may look back: within its piece and the window.
    @inline(__always) private func span(_ r: Int) -> Int { min(Int(positions[r]), memory) + 1 }

    /// One stream and head at a time, as matrix products over the stream's rows: scores S = scale·Q·Kᵀ over
    /// the stream's history and chunk ([steps × (memory + steps)]), minus ALiBi's distance penalty, softmax
    /// over each row's window (the rest weighted zero), then O = P·V. A row's keys beyond its window cost a
    /// little arithmetic; the products run on the GEMM path.
    func forward(_ qkv: UnsafePointer<Float>, positions: [Int32], rows: Int) {
        let (d, dh, B) = (width, headWidth, batch)
        if pendingShift > 0, memory > 0 {
            keys.base.update(from: keys.base + pendingShift * d, count: memory * B * d)
            values.base.update(from: values.base + pendingShift * d, count: memory * B * d)
        }
        pendingShift = rows
        self.qkv = qkv
        self.positions = positions
        self.rows = rows
        for r in 0..<rows {
            (keys.base + (memory * B + r) * d).update(from: qkv + r * 3 * d + d, count: d)
            (values.base + (memory * B + r) * d).update(from: qkv + r * 3 * d + 2 * d, count: d)
        }
        let steps = rows / B, columns = memory + steps
        for b in 0..<B {
            for h in 0..<heads {
                let p = probabilities.base + (b * heads + h) * steps * columns
                Gemm.multiply(transB: true, m: steps, n: columns, k: dh, alpha: scale, qkv + b * 3 * d + h * dh, lda: 3 * d * B,
                              keys.base + b * d + h * dh, ldb: d * B, beta: 0, p, ldc: columns)
                for t in 0..<steps {
                    let row = p + t * columns
                    let last = t + memory, first = last - span(t * B + b) + 1
                    var peak = -Float.infinity
                    for j in first...last {
                        row[j] -= slopes[h] * Float(last - j)
                        peak = max(peak, row[j])
                    }
                    var total: Float = 0
                    for j in first...last {
                        row[j] = expf(row[j] - peak)
                        total += row[j]
                    }
                    let norm = 1 / total
                    for j in 0..<columns { row[j] = j >= first && j <= last ? row[j] * norm : 0 }
                }
                Gemm.multiply(m: steps, n: dh, k: columns, p, lda: columns, values.base + b * d + h * dh, ldb: d * B, beta: 0,
                              output.base + b * d + h * dh, ldc: d * B)
            }
        }
    }

    /// From dOutput [rows, width] to dQKV; the history's keys and values take no gradient.
    func backward(_ dOutput: UnsafePointer<Float>) {
        let (d, dh, B) = (width, headWidth, batch)
        let qkv = qkv!
        let steps = rows / B, columns = memory + steps
        let dS = probabilityGradient.base
        for b in 0..<B {
            for h in 0..<heads {
                let p = probabilities.base + (b * heads + h) * steps * columns
                let dO = dOutput + b * d + h * dh
                // dV = Pᵀ·dO; dP = dO·Vᵀ; dS = P ⊙ (dP − Σ P dP), scaled; dQ = dS·K; dK = dSᵀ·Q.
                Gemm.multiply(transA: true, m: columns, n: dh, k: steps, p, lda: columns, dO, ldb: d * B, beta: 0,
                              dValues.base + b * d + h * dh, ldc: d * B)
                Gemm.multiply(transB: true, m: steps, n: columns, k: dh, dO, lda: d * B, values.base + b * d + h * dh, ldb: d * B,
                              beta: 0, dS, ldc: columns)
                for t in 0..<steps {
                    let pr = p + t * columns, gr = dS + t * columns
                    var weighted: Float = 0
                    for j in 0..<columns { weighted += pr[j] * gr[j] }
                    for j in 0..<columns { gr[j] = pr[j] * (gr[j] - weighted) * scale }
                }
                Gemm.multiply(m: steps, n: dh, k: columns, dS, lda: columns, keys.base + b * d + h * dh, ldb: d * B, beta: 0,
                              dQKV.base + b * 3 * d + h * dh, ldc: 3 * d * B)
                Gemm.multiply(transA: true, m: columns, n: dh, k: steps, dS, lda: columns, qkv + b * 3 * d + h * dh, ldb: 3 * d * B,
                              beta: 0, dKeys.base + b * d + h * dh, ldc: d * B)
            }
        }
        for r in 0..<rows {
            (dQKV.base + r * 3 * d + d).update(from: dKeys.base + (memory * B + r) * d, count: d)
            (dQKV.base + r * 3 * d + 2 * d).update(from: dValues.base + (memory * B + r) * d, count: d)
        }
    }
}
