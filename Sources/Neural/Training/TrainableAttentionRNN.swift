/// The Attention RNN for training (AttentionRNN's tensors): x'_t = W_mix [x_t; d_{t-1}] + b, an LSTM stack on
/// x'_t, additive attention of the top cell state over the last n top outputs, u_i = vᵀ tanh(W_k h_i + W_q c_t),
/// d_t = Σ softmax(u)_i h_i, then W_o [h_t; d_t] + b_o and the head.
///
/// The read d_{t-1} feeds the next step's input, so forward and backward go step by step through the whole
/// stack; only the output projection and head run batched over the chunk. Window slots older than the piece are
/// zero vectors that still take part in the softmax, as in the streaming step's zero-initialised ring.
public final class TrainableAttentionRNN: TrainableModel {
    public let configuration: TrainingModelConfig
    let mixWeight: Parameter, mixBias: Parameter
    let key: Parameter, query: Parameter, score: Parameter
    let lstm: [SequenceLSTMLayer]
    let projection: SequenceLinear, head: SequenceLinear
    public let chain: NADEChainHead?
    /// Dropout on the projected output, before the head.
    let dropout: Dropout
    let batch: Int, window: Int
    let mixed: TrainingBuffer, readPrev: TrainingBuffer, read: TrainingBuffer, carriedRead: TrainingBuffer
    /// [history (window steps); this chunk] of the top outputs and their keys W_k h.
    let pastOutputs: TrainingBuffer, pastKeys: TrainingBuffer
    let queries: TrainingBuffer, tanhScores: TrainingBuffer, attention: TrainingBuffer, joined: TrainingBuffer
    let dTop: TrainingBuffer, dRead: TrainingBuffer, dKeys: TrainingBuffer, dQueries: TrainingBuffer
    let dCell: TrainingBuffer, dReadCarry: TrainingBuffer
    private var chunk = TrainingChunk(steps: 0, batch: 0)
    /// Rows of the last chunk still in the window buffers: the backward reads them, the next forward drops them.
    private var shiftPending = 0

    init(_ config: TrainingModelConfig, batch: Int, maxSteps: Int, rng: inout TrainingRandom) {
        configuration = config
        self.batch = batch
        window = config.window
        let (I, H, n) = (config.inputSize, config.hidden, config.window)
        let maxRows = batch * maxSteps
        mixWeight = Parameter(TensorName.weight(TensorName.inputMix), shape: [I, I + H], transposed: true)
        mixBias = Parameter(TensorName.bias(TensorName.inputMix), shape: [I])
        key = Parameter(TensorName.weight(TensorName.attentionKey), shape: [H, H])
        query = Parameter(TensorName.weight(TensorName.attentionQuery), shape: [H, H])
        score = Parameter(TensorName.attentionScore, shape: [H])
        lstm = (0..<config.layers).map { k in
            SequenceLSTMLayer(layer: k, inputs: k == 0 ? I : H, hidden: H, sparseInput: false, batch: batch, maxSteps: maxSteps,
                              recurrentPrecision: config.recurrentPrecision)
        }
        projection = SequenceLinear(TensorName.attentionOutput, inputs: 2 * H, outputs: H, maxRows: maxRows)
        head = SequenceLinear(TensorName.head, inputs: H, outputs: config.outputs, maxRows: maxRows)
        chain = NADEChainHead.make(config, rng: &rng)
        dropout = Dropout(rate: config.dropout, maxCount: maxRows * H)
        mixed = TrainingBuffer(count: maxRows * I)
        readPrev = TrainingBuffer(count: maxRows * H)
        read = TrainingBuffer(count: maxRows * H)
        carriedRead = TrainingBuffer(count: batch * H)
        pastOutputs = TrainingBuffer(count: (n * batch + maxRows) * H)
        pastKeys = TrainingBuffer(count: (n * batch + maxRows) * H)
        queries = TrainingBuffer(count: maxRows * H)
        tanhScores = TrainingBuffer(count: maxRows * n * H)
        attention = TrainingBuffer(count: maxRows * n)
        joined = TrainingBuffer(count: maxRows * 2 * H)
        dTop = TrainingBuffer(count: maxRows * H)
        dRead = TrainingBuffer(count: maxRows * H)
        dKeys = TrainingBuffer(count: maxRows * H)
        dQueries = TrainingBuffer(count: maxRows * H)
        dCell = TrainingBuffer(count: batch * H)
        dReadCarry = TrainingBuffer(count: batch * H)
        let bound = 1 / Float(I + H).squareRoot()
        mixWeight.randomize(bound: bound, &rng)
        mixBias.randomize(bound: bound, &rng)
        for layer in lstm { layer.randomize(&rng) }
        let hb = 1 / Float(H).squareRoot()
        key.randomize(bound: hb, &rng)
        query.randomize(bound: hb, &rng)
        score.randomize(bound: hb, &rng)
        projection.randomize(&rng)
        head.randomize(&rng)
    }

    public var parameters: [Parameter] {
        [mixWeight, mixBias] + lstm.flatMap(\.parameters) + [key, query, score] + projection.parameters + head.parameters
            + (chain?.parameters ?? [])
    }

    public func resetState() {
        for layer in lstm { layer.resetState() }
        carriedRead.zero()
        shiftPending = 0
        pastOutputs.zero()
        pastKeys.zero()
    }

    /// Slot i of row (t, b) in the extended window buffers, or nil when that step precedes the piece.
    @inline(__always) private func slot(_ t: Int, _ b: Int, _ i: Int) -> Int? {
        Int(chunk.positions[t * batch + b]) - window + i >= 0 ? (t + i) * batch + b : nil
    }

    public func forward(_ chunk: TrainingChunk, training: Bool, rng: inout TrainingRandom) -> UnsafeMutablePointer<Float> {
        let (I, H, n, B) = (configuration.inputSize, configuration.hidden, window, batch)
        if shiftPending > 0 {
            pastOutputs.base.update(from: pastOutputs.base + shiftPending * H, count: n * B * H)
            pastKeys.base.update(from: pastKeys.base + shiftPending * H, count: n * B * H)
            shiftPending = 0
        }
        self.chunk = chunk
        let rows = chunk.rows
        let top = lstm[lstm.count - 1]
        for (k, layer) in lstm.enumerated() {
            layer.begin(dense: k == 0 ? UnsafePointer(mixed.base) : UnsafePointer(lstm[k - 1].output.base), sparse: nil,
                        resets: chunk.resets, steps: chunk.steps)
        }
        let readWeights = mixWeight.value.base + I * I  // Wᵀ rows I ..< I+H: the d columns of W_mix
        for t in 0..<chunk.steps {
            for b in 0..<B {
                let r = t * B + b
                let dp = readPrev.base + r * H
                if chunk.resets[r] {
                    dp.update(repeating: 0, count: H)
                } else {
                    dp.update(from: t == 0 ? carriedRead.base + b * H : read.base + (r - B) * H, count: H)
                }
                let x = mixed.base + r * I
                x.update(from: mixBias.value.base, count: I)
                for e in chunk.inputs.range(r) {
                    TrainMath.axpy(chunk.inputs.values[e], mixWeight.value.base + Int(chunk.inputs.indices[e]) * I, x, I)
                }
            }
            Gemm.multiply(m: B, n: I, k: H, readPrev.base + t * B * H, lda: H, readWeights, ldb: I, beta: 1,
                          mixed.base + t * B * I, ldc: I)
            for layer in lstm { layer.step(t) }
            let h = top.output.base + t * B * H, c = top.cell.base + t * B * H
            let q = queries.base + t * B * H
            Gemm.multiply(transB: true, m: B, n: H, k: H, c, lda: H, query.value.base, ldb: H, beta: 0, q, ldc: H)
            for b in 0..<B { attend(t, b) }
            let newest = (n + t) * B * H
            (pastOutputs.base + newest).update(from: h, count: B * H)
            Gemm.multiply(transB: true, m: B, n: H, k: H, h, lda: H, key.value.base, ldb: H, beta: 0,
                          pastKeys.base + newest, ldc: H)
        }
        for layer in lstm { layer.end() }
        for r in 0..<rows {
            (joined.base + r * 2 * H).update(from: top.output.base + r * H, count: H)
            (joined.base + r * 2 * H + H).update(from: read.base + r * H, count: H)
        }
        carriedRead.base.update(from: read.base + (rows - B) * H, count: B * H)
        shiftPending = rows
        projection.forward(joined.base, rows: rows)
        head.forward(dropout.forward(projection.output.base, count: rows * H, training: training, &rng), rows: rows)
        return head.output.base
    }

    /// Scores, softmax and weighted read for one row.
    private func attend(_ t: Int, _ b: Int) {
        let (H, n) = (configuration.hidden, window)
        let r = t * batch + b
        let q = queries.base + r * H, v = score.value.base
        let a = attention.base + r * n
        var best = -Float.infinity
        for i in 0..<n {
            let s = tanhScores.base + (r * n + i) * H
            if let e = slot(t, b, i) {
                let k = pastKeys.base + e * H
                for j in 0..<H { s[j] = k[j] + q[j] }
            } else {
                s.update(from: q, count: H)
            }
            TrainMath.applyTanh(s, H)
            var u: Float = 0
            for j in 0..<H { u += v[j] * s[j] }
            a[i] = u
            best = max(best, u)
        }
        var total: Float = 0
        for i in 0..<n { a[i] = TrainMath.exp(SIMD16(repeating: a[i] - best))[0]; total += a[i] }
        for i in 0..<n { a[i] /= total }
        let d = read.base + r * H
        d.update(repeating: 0, count: H)
        for i in 0..<n {
            if let e = slot(t, b, i) { TrainMath.axpy(a[i], pastOutputs.base + e * H, d, H) }
        }
    }

    public func backward(_ dLogits: UnsafeMutablePointer<Float>) {
        let (I, H, n, B) = (configuration.inputSize, configuration.hidden, window, batch)
        let rows = chunk.rows
        let top = lstm[lstm.count - 1]
        head.backward(dLogits)
        dropout.backward(head.dInput.base, count: rows * H)
        projection.backward(head.dInput.base)
        for r in 0..<rows {
            (dTop.base + r * H).update(from: projection.dInput.base + r * 2 * H, count: H)
            (dRead.base + r * H).update(from: projection.dInput.base + r * 2 * H + H, count: H)
        }
        dKeys.zero()
        dReadCarry.zero()
        for layer in lstm { layer.beginBackward() }
        let readWeights = mixWeight.value.base + I * I
        for t in stride(from: chunk.steps - 1, through: 0, by: -1) {
            for b in 0..<B {
                let r = t * B + b
                TrainMath.add(dReadCarry.base + b * H, into: dRead.base + r * H, H)
                attendBackward(t, b)
            }
            // Keys of step t are complete (only later steps read them): dh_t += dK_t · W_k.
            Gemm.multiply(m: B, n: H, k: H, dKeys.base + t * B * H, lda: H, key.value.base, ldb: H, beta: 1,
                          dTop.base + t * B * H, ldc: H)
            Gemm.multiply(m: B, n: H, k: H, dQueries.base + t * B * H, lda: H, query.value.base, ldb: H, beta: 0,
                          dCell.base, ldc: H)
            top.backwardStep(t, dTop.base + t * B * H, dCell: dCell.base)
            for k in stride(from: lstm.count - 1, through: 0, by: -1) {
                lstm[k].inputGradientStep(t)
                if k > 0 { lstm[k - 1].backwardStep(t, lstm[k].dInput.base + t * B * H) }
            }
            // The mix read d_{t-1}: its gradient goes to the previous step's read (none across a piece start).
            let dMixed = lstm[0].dInput.base + t * B * I
            Gemm.multiply(transB: true, m: B, n: H, k: I, dMixed, lda: I, readWeights, ldb: I, beta: 0, dReadCarry.base, ldc: H)
            for b in 0..<B where chunk.resets[t * B + b] { (dReadCarry.base + b * H).update(repeating: 0, count: H) }
        }
        for layer in lstm { layer.finishBackward(inputGradient: false) }
        let dMixed = lstm[0].dInput.base
        Gemm.multiply(transA: true, m: H, n: H, k: rows, dKeys.base, lda: H, pastOutputs.base + n * B * H,
                      ldb: H, beta: 1, key.grad.base, ldc: H)
        Gemm.multiply(transA: true, m: H, n: H, k: rows, dQueries.base, lda: H, top.cell.base, ldb: H, beta: 1,
                      query.grad.base, ldc: H)
        Gemm.multiply(transA: true, m: H, n: I, k: rows, readPrev.base, lda: H, dMixed, ldb: I, beta: 1,
                      mixWeight.grad.base + I * I, ldc: I)
        TrainMath.sumRows(dMixed, rows: rows, I, into: mixBias.grad.base)
        for r in 0..<rows {
            for e in chunk.inputs.range(r) {
                TrainMath.axpy(chunk.inputs.values[e], dMixed + r * I, mixWeight.grad.base + Int(chunk.inputs.indices[e]) * I, I)
            }
        }
    }

    /// One row: from dd_t to the window's outputs and keys (earlier steps of this chunk), the score vector and
    /// the query.
    private func attendBackward(_ t: Int, _ b: Int) {
        let (H, n) = (configuration.hidden, window)
        let r = t * batch + b
        let a = attention.base + r * n, dd = dRead.base + r * H, v = score.value.base
        let dq = dQueries.base + r * H
        dq.update(repeating: 0, count: H)
        var da = [Float](repeating: 0, count: n)
        var weighted: Float = 0
        for i in 0..<n {
            if let e = slot(t, b, i) {
                let p = pastOutputs.base + e * H
                var s: Float = 0
                for j in 0..<H { s += dd[j] * p[j] }
                da[i] = s
                if t + i >= n { TrainMath.axpy(a[i], dd, dTop.base + (e - n * batch) * H, H) }
            }
            weighted += a[i] * da[i]
        }
        for i in 0..<n {
            let du = a[i] * (da[i] - weighted)
            let s = tanhScores.base + (r * n + i) * H
            TrainMath.axpy(du, s, score.grad.base, H)
            let inChunk = t + i >= n ? slot(t, b, i) : nil
            for j in 0..<H {
                let dpre = du * v[j] * (1 - s[j] * s[j])
                dq[j] += dpre
                if let e = inChunk { dKeys[(e - n * batch) * H + j] += dpre }
            }
        }
    }
}
