import Foundation

/// One LSTM layer over a batch of sequences, forward and backward side by side (PyTorch parameters and gate
/// order i, f, g, o). Rows are time-major: row t·B + b is step t of sequence b.
///
/// The input product for every step of the chunk is one GEMM (or a row gather for a sparse input); only the
/// recurrent product runs step by step. State carries from one chunk to the next (truncated BPTT); a row
/// flagged in `resets` starts a new piece from zero state, and no gradient crosses that boundary.
public final class SequenceLSTMLayer {
    public let inputs: Int
    public let hidden: Int
    public let sparseInput: Bool
    public let weightIH: Parameter, weightHH: Parameter, biasIH: Parameter, biasHH: Parameter
    let maxRows: Int, batch: Int

    /// Gate activations per row [i f g o] (after their nonlinearities), then the gradients of the pre-activations.
    let gates: TrainingBuffer, dGates: TrainingBuffer
    /// State entering each step (after resets), the cell after it, tanh of that cell, and the output h.
    let hPrev: TrainingBuffer, cPrev: TrainingBuffer, cell: TrainingBuffer, tanhCell: TrainingBuffer
    public let output: TrainingBuffer
    /// Gradient wrt a dense input, for the layer below.
    public let dInput: TrainingBuffer
    /// State carried between chunks.
    public let h: TrainingBuffer, c: TrainingBuffer
    let dhNext: TrainingBuffer, dcNext: TrainingBuffer, bias: TrainingBuffer
    private(set) var rows = 0
    private var denseInput: UnsafePointer<Float>? = nil
    private var sparse: SparseRows? = nil
    private var resets: [Bool] = []
    /// The weights a chunk multiplies again and again, packed once per chunk: W_hhᵀ for the forward, W_hh
    /// for the backward, and for a dense input W_ihᵀ and W_ih (nil for a sparse input, which is gathered).
    private let recurrentForward: ChunkWeights, recurrentBackward: ChunkWeights
    private let inputForward: ChunkWeights?, inputBackward: ChunkWeights?

    /// `prefix` and `suffix` wrap nn.LSTM's tensor names (`encoder.` … `_reverse` for a bidirectional encoder's
    /// second direction, as PyTorch names it inside a module).
    /// `recurrentPrecision`: the recurrent products' (bf16 needs a CPU with AVX-512 BF16 to be fast).
    public init(layer k: Int, inputs: Int, hidden: Int, sparseInput: Bool, batch: Int, maxSteps: Int, prefix: String = "",
                suffix: String = "", recurrentPrecision: RecurrentPrecision = .fp32) {
        self.inputs = inputs
        self.hidden = hidden
        self.sparseInput = sparseInput
        self.batch = batch
        maxRows = batch * maxSteps
        let g = 4 * hidden
        weightIH = Parameter(prefix + TensorName.lstmWeightIH(k) + suffix, shape: [g, inputs], transposed: sparseInput)
        weightHH = Parameter(prefix + TensorName.lstmWeightHH(k) + suffix, shape: [g, hidden])
        biasIH = Parameter(prefix + TensorName.lstmBiasIH(k) + suffix, shape: [g])
        biasHH = Parameter(prefix + TensorName.lstmBiasHH(k) + suffix, shape: [g])
        gates = TrainingBuffer(count: maxRows * g)
        dGates = TrainingBuffer(count: maxRows * g)
        hPrev = TrainingBuffer(count: maxRows * hidden)
        cPrev = TrainingBuffer(count: maxRows * hidden)
        cell = TrainingBuffer(count: maxRows * hidden)
        tanhCell = TrainingBuffer(count: maxRows * hidden)
        output = TrainingBuffer(count: maxRows * hidden)
        dInput = TrainingBuffer(count: sparseInput ? 0 : maxRows * inputs)
        h = TrainingBuffer(count: batch * hidden)
        c = TrainingBuffer(count: batch * hidden)
        dhNext = TrainingBuffer(count: batch * hidden)
        dcNext = TrainingBuffer(count: batch * hidden)
        bias = TrainingBuffer(count: g)
        recurrentForward = ChunkWeights(weightHH, transB: true, precision: recurrentPrecision, maxRows: batch)
        recurrentBackward = ChunkWeights(weightHH, transB: false, precision: recurrentPrecision, maxRows: batch)
        inputForward = sparseInput ? nil : ChunkWeights(weightIH, transB: true)
        inputBackward = sparseInput ? nil : ChunkWeights(weightIH, transB: false)
    }

    public var parameters: [Parameter] { [weightIH, weightHH, biasIH, biasHH] }

    func randomize(_ rng: inout TrainingRandom) {
        let bound = 1 / Float(hidden).squareRoot()
        for p in parameters { p.randomize(bound: bound, &rng) }
    }

    public func resetState() {
        h.zero()
        c.zero()
    }

    // MARK: forward

    /// Runs `steps` steps; the input is `dense` [rows × inputs] or `sparse` (one row per step and sequence).
    public func forward(dense: UnsafePointer<Float>?, sparse: SparseRows?, resets: [Bool], steps: Int) {
        begin(dense: dense, sparse: sparse, resets: resets, steps: steps)
        let G = 4 * hidden
        let z = gates.base
        if let x = sparse {
            for r in 0..<rows { gatherInput(x, r) }
        } else {
            for r in 0..<rows { (z + r * G).update(from: bias.base, count: G) }
            inputForward!.multiply(m: rows, dense!, lda: inputs, accumulate: true, z, ldc: G)
        }
        for t in 0..<steps { recurrentStep(t) }
        end()
    }

    /// Step-by-step use (a model whose input at t depends on step t-1): `begin`, then per step write the
    /// dense input rows t·B ..< (t+1)·B of `dense` and call `step(t)`, then `end`.
    public func begin(dense: UnsafePointer<Float>?, sparse: SparseRows?, resets: [Bool], steps: Int) {
        rows = steps * batch
        precondition(rows <= maxRows && resets.count >= rows)
        self.resets = resets
        denseInput = dense
        self.sparse = sparse
        for j in 0..<(4 * hidden) { bias[j] = biasIH.value[j] + biasHH.value[j] }
        recurrentForward.invalidate()
        inputForward?.invalidate()
    }

    public func step(_ t: Int) {
        let (B, G) = (batch, 4 * hidden)
        let z = gates.base + t * B * G
        if let x = sparse {
            for b in 0..<B { gatherInput(x, t * B + b) }
        } else {
            for b in 0..<B { (z + b * G).update(from: bias.base, count: G) }
            inputForward!.multiply(m: B, denseInput! + t * B * inputs, lda: inputs, accumulate: true, z, ldc: G)
        }
        recurrentStep(t)
    }

    /// Keeps the last step's state for the next chunk.
    public func end() {
        let last = (rows - batch) * hidden
        h.base.update(from: output.base + last, count: batch * hidden)
        c.base.update(from: cell.base + last, count: batch * hidden)
    }

    private func gatherInput(_ x: SparseRows, _ r: Int) {
        let G = 4 * hidden
        let zr = gates.base + r * G
        zr.update(from: bias.base, count: G)
        for e in x.range(r) { TrainMath.axpy(x.values[e], weightIH.value.base + Int(x.indices[e]) * G, zr, G) }
    }

    private func recurrentStep(_ t: Int) {
        let (B, H, G) = (batch, hidden, 4 * hidden)
        let hp = hPrev.base + t * B * H, cp = cPrev.base + t * B * H
        hp.update(from: t == 0 ? UnsafePointer(h.base) : UnsafePointer(output.base + (t - 1) * B * H), count: B * H)
        cp.update(from: t == 0 ? UnsafePointer(c.base) : UnsafePointer(cell.base + (t - 1) * B * H), count: B * H)
        for b in 0..<B where resets[t * B + b] {
            (hp + b * H).update(repeating: 0, count: H)
            (cp + b * H).update(repeating: 0, count: H)
        }
        let zt = gates.base + t * B * G
        recurrentForward.multiply(m: B, hp, lda: H, accumulate: true, zt, ldc: G)
        for b in 0..<B {
            let r = t * B + b
            cellForward(zt + b * G, cp + b * H, cell.base + r * H, tanhCell.base + r * H, output.base + r * H)
        }
    }

    /// Gate nonlinearities and the cell update for one row.
    @inline(__always) private func cellForward(
        _ z: UnsafeMutablePointer<Float>, _ cp: UnsafePointer<Float>, _ cOut: UnsafeMutablePointer<Float>,
        _ tc: UnsafeMutablePointer<Float>, _ hOut: UnsafeMutablePointer<Float>
    ) {
        let H = hidden
        TrainMath.applySigmoid(z, 2 * H)
        TrainMath.applyTanh(z + 2 * H, H)
        TrainMath.applySigmoid(z + 3 * H, H)
        var j = 0
        while j + 16 <= H {
            let i = TrainMath.load(z + j), f = TrainMath.load(z + H + j)
            let g = TrainMath.load(z + 2 * H + j), o = TrainMath.load(z + 3 * H + j)
            let cn = f * TrainMath.load(cp + j) + i * g
            let t = TrainMath.tanh(cn)
            TrainMath.store(cn, cOut + j)
            TrainMath.store(t, tc + j)
            TrainMath.store(o * t, hOut + j)
            j += 16
        }
        while j < H {
            let cn = z[H + j] * cp[j] + z[j] * z[2 * H + j]
            let t = Float(tanh(Double(cn)))
            cOut[j] = cn
            tc[j] = t
            hOut[j] = z[3 * H + j] * t
            j += 1
        }
    }

    // MARK: backward

    /// Back-propagates dOutput [rows × hidden] through the chunk; accumulates the parameter gradients and, for a
    /// dense input, writes dInput.
    public func backward(_ dOutput: UnsafeMutablePointer<Float>) {
        beginBackward()
        for t in stride(from: rows / batch - 1, through: 0, by: -1) { backwardStep(t, dOutput + t * batch * hidden) }
        finishBackward(inputGradient: true)
    }

    /// Step-by-step backward, last step first: `beginBackward`, `backwardStep` for t = steps-1 ... 0 (with
    /// `inputGradientStep(t)` where the input gradient is needed at once), then `finishBackward`.
    public func beginBackward() {
        dhNext.zero()
        dcNext.zero()
        recurrentBackward.invalidate()
        inputBackward?.invalidate()
    }

    /// dOut: this step's B rows of output gradient; dCell: extra gradient on this step's cell state (a reader of c_t).
    public func backwardStep(_ t: Int, _ dOut: UnsafePointer<Float>, dCell: UnsafePointer<Float>? = nil) {
        let (B, H, G) = (batch, hidden, 4 * hidden)
        if let dCell { TrainMath.add(dCell, into: dcNext.base, B * H) }
        for b in 0..<B { cellBackward(t * B + b, dOut + b * H, dhNext.base + b * H, dcNext.base + b * H) }
        // dh_{t-1} = dZ_t · W_hh; rows that started a piece took zero state and pass nothing back.
        recurrentBackward.multiply(m: B, dGates.base + t * B * G, lda: G, accumulate: false, dhNext.base, ldc: H)
        for b in 0..<B where resets[t * B + b] {
            (dhNext.base + b * H).update(repeating: 0, count: H)
            (dcNext.base + b * H).update(repeating: 0, count: H)
        }
    }

    /// dInput rows of step t: dZ_t · W_ih.
    public func inputGradientStep(_ t: Int) {
        let (B, G) = (batch, 4 * hidden)
        inputBackward!.multiply(m: B, dGates.base + t * B * G, lda: G, accumulate: false, dInput.base + t * B * inputs,
                                ldc: inputs)
    }

    public func finishBackward(inputGradient: Bool) {
        let G = 4 * hidden
        let dz = dGates.base
        Gemm.multiply(transA: true, m: G, n: hidden, k: rows, dz, lda: G, hPrev.base, ldb: hidden, beta: 1,
                      weightHH.grad.base, ldc: hidden)
        // Both biases get the same gradient: sum once, add twice.
        bias.zero()
        TrainMath.sumRows(dz, rows: rows, G, into: bias.base)
        TrainMath.add(bias.base, into: biasIH.grad.base, G)
        TrainMath.add(bias.base, into: biasHH.grad.base, G)
        if let x = sparse {
            let dwT = weightIH.grad.base
            for r in 0..<rows {
                for e in x.range(r) { TrainMath.axpy(x.values[e], dz + r * G, dwT + Int(x.indices[e]) * G, G) }
            }
        } else {
            Gemm.multiply(transA: true, m: G, n: inputs, k: rows, dz, lda: G, denseInput!, ldb: inputs, beta: 1,
                          weightIH.grad.base, ldc: inputs)
            if inputGradient {
                inputBackward!.multiply(m: rows, dz, lda: G, accumulate: false, dInput.base, ldc: inputs)
            }
        }
    }

    /// One row: from dh (output gradient + the later step's) and dc to the gate pre-activation gradients; leaves
    /// dc for the previous step in `dcCarry`.
    @inline(__always) private func cellBackward(
        _ r: Int, _ dOut: UnsafePointer<Float>, _ dhCarry: UnsafePointer<Float>, _ dcCarry: UnsafeMutablePointer<Float>
    ) {
        let (H, G) = (hidden, 4 * hidden)
        let z = gates.base + r * G, dz = dGates.base + r * G
        let tc = tanhCell.base + r * H, cp = cPrev.base + r * H
        var j = 0
        while j + 16 <= H {
            let i = TrainMath.load(z + j), f = TrainMath.load(z + H + j)
            let g = TrainMath.load(z + 2 * H + j), o = TrainMath.load(z + 3 * H + j)
            let t = TrainMath.load(tc + j)
            let dh = TrainMath.load(dOut + j) + TrainMath.load(dhCarry + j)
            let dc = TrainMath.load(dcCarry + j) + dh * o * (1 - t * t)
            TrainMath.store(dc * g * i * (1 - i), dz + j)
            TrainMath.store(dc * TrainMath.load(cp + j) * f * (1 - f), dz + H + j)
            TrainMath.store(dc * i * (1 - g * g), dz + 2 * H + j)
            TrainMath.store(dh * t * o * (1 - o), dz + 3 * H + j)
            TrainMath.store(dc * f, dcCarry + j)
            j += 16
        }
        while j < H {
            let (i, f, g, o, t) = (z[j], z[H + j], z[2 * H + j], z[3 * H + j], tc[j])
            let dh = dOut[j] + dhCarry[j]
            let dc = dcCarry[j] + dh * o * (1 - t * t)
            dz[j] = dc * g * i * (1 - i)
            dz[H + j] = dc * cp[j] * f * (1 - f)
            dz[2 * H + j] = dc * i * (1 - g * g)
            dz[3 * H + j] = dh * t * o * (1 - o)
            dcCarry[j] = dc * f
            j += 1
        }
    }
}
