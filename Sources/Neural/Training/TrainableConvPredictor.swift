/// The causal conv predictor for training (ConvPredictor's tensors): a sparse 1x1 input conv, gated residual
/// layers with dilations 1, 2, 4, ... as full-sequence causal convolutions, ReLU → 1x1 → ReLU → 1x1 head.
///
/// Each layer keeps the last `dilation` steps of its input per stream from the previous chunk, so the past tap
/// of a chunk's first steps sees the real history (no gradient flows into it); a step whose piece began fewer
/// than `dilation` steps ago sees zero, as left zero padding does.
public final class TrainableConvPredictor: TrainableModel {
    public let configuration: TrainingModelConfig
    let inputWeight: Parameter, inputBias: Parameter
    let layers: [ConvLayer]
    let hiddenHead: SequenceLinear, outputHead: SequenceLinear
    public let chain: NADEChainHead?
    let batch: Int, maxRows: Int
    let skip: TrainingBuffer, skipReLU: TrainingBuffer, dSkip: TrainingBuffer, dStream: TrainingBuffer
    let headReLU: TrainingBuffer
    /// Dropout on the rectified skip sum, before the head.
    let dropout: Dropout
    private var chunk = TrainingChunk(steps: 0, batch: 0)

    final class ConvLayer {
        let dilation: Int
        let dilated: Parameter, dilatedBias: Parameter
        let residual: SequenceLinear, skip: SequenceLinear
        /// [history (dilation steps); this chunk] of the layer's input, rows time-major.
        let extended: TrainingBuffer
        /// [x_{t-d}, x_t] interleaved per channel, matching the saved [2G, R, 2] weight viewed as [2G, 2R].
        let taps: TrainingBuffer, dTaps: TrainingBuffer
        /// tanh(filter) and σ(gate) per row, then the gated output a.
        let filter: TrainingBuffer, gate: TrainingBuffer, gated: TrainingBuffer, dz: TrainingBuffer

        init(_ l: Int, dilation: Int, r: Int, g: Int, s: Int, batch: Int, maxRows: Int) {
            self.dilation = dilation
            let layer = TensorName.convLayer(l)
            dilated = Parameter(TensorName.weight(TensorName.dilated(layer)), shape: [2 * g, r, 2])
            dilatedBias = Parameter(TensorName.bias(TensorName.dilated(layer)), shape: [2 * g])
            residual = SequenceLinear(TensorName.residual(layer), inputs: g, outputs: r, maxRows: maxRows)
            skip = SequenceLinear(TensorName.skip(layer), inputs: g, outputs: s, maxRows: maxRows)
            extended = TrainingBuffer(count: (dilation * batch + maxRows) * r)
            taps = TrainingBuffer(count: maxRows * 2 * r)
            dTaps = TrainingBuffer(count: maxRows * 2 * r)
            filter = TrainingBuffer(count: maxRows * g)
            gate = TrainingBuffer(count: maxRows * g)
            gated = TrainingBuffer(count: maxRows * g)
            dz = TrainingBuffer(count: maxRows * 2 * g)
        }

        var parameters: [Parameter] { [dilated, dilatedBias] + residual.parameters + skip.parameters }
    }

    init(_ config: TrainingModelConfig, batch: Int, maxSteps: Int, rng: inout TrainingRandom) {
        configuration = config
        self.batch = batch
        maxRows = batch * maxSteps
        let (r, g, s) = (config.residual, config.gate, config.skip)
        inputWeight = Parameter(TensorName.weight(TensorName.convInput), shape: [r, config.inputSize], transposed: true)
        inputBias = Parameter(TensorName.bias(TensorName.convInput), shape: [r])
        let dilations = (0..<config.stacks).flatMap { _ in (0..<config.layersPerStack).map { 1 << $0 } }
        layers = dilations.enumerated().map { l, d in ConvLayer(l, dilation: d, r: r, g: g, s: s, batch: batch, maxRows: batch * maxSteps) }
        hiddenHead = SequenceLinear(TensorName.headHidden, inputs: s, outputs: config.headHidden, maxRows: maxRows)
        outputHead = SequenceLinear(TensorName.headOutput, inputs: config.headHidden, outputs: config.outputs, maxRows: maxRows)
        chain = NADEChainHead.make(config, rng: &rng)
        skip = TrainingBuffer(count: maxRows * s)
        skipReLU = TrainingBuffer(count: maxRows * s)
        dSkip = TrainingBuffer(count: maxRows * s)
        dStream = TrainingBuffer(count: maxRows * r)
        headReLU = TrainingBuffer(count: maxRows * config.headHidden)
        dropout = Dropout(rate: config.dropout, maxCount: maxRows * s)
        let inBound = 1 / Float(config.inputSize).squareRoot()
        inputWeight.randomize(bound: inBound, &rng)
        inputBias.randomize(bound: inBound, &rng)
        for layer in layers {
            let bound = 1 / Float(2 * r).squareRoot()
            layer.dilated.randomize(bound: bound, &rng)
            layer.dilatedBias.randomize(bound: bound, &rng)
            layer.residual.randomize(&rng)
            layer.skip.randomize(&rng)
        }
        hiddenHead.randomize(&rng)
        outputHead.randomize(&rng)
    }

    public var parameters: [Parameter] {
        [inputWeight, inputBias] + layers.flatMap(\.parameters) + hiddenHead.parameters + outputHead.parameters
            + (chain?.parameters ?? [])
    }

    public func resetState() { for layer in layers { layer.extended.zero() } }

    /// Where layer l's input for this chunk starts.
    private func current(_ layer: ConvLayer) -> UnsafeMutablePointer<Float> {
        layer.extended.base + layer.dilation * batch * configuration.residual
    }

    public func forward(_ chunk: TrainingChunk, training: Bool, rng: inout TrainingRandom) -> UnsafeMutablePointer<Float> {
        self.chunk = chunk
        let (R, G, S, B) = (configuration.residual, configuration.gate, configuration.skip, batch)
        let rows = chunk.rows
        // Input conv into layer 0's slot.
        let x0 = current(layers[0])
        for row in 0..<rows {
            let x = x0 + row * R
            x.update(from: inputBias.value.base, count: R)
            for e in chunk.inputs.range(row) {
                TrainMath.axpy(chunk.inputs.values[e], inputWeight.value.base + Int(chunk.inputs.indices[e]) * R, x, R)
            }
        }
        skip.zero()
        for (l, layer) in layers.enumerated() {
            let d = layer.dilation
            let x = current(layer)
            for row in 0..<rows {
                let tap = layer.taps.base + row * 2 * R
                let now = x + row * R
                let pastOK = Int(chunk.positions[row]) >= d
                let past = x + (row - d * B) * R
                for c in 0..<R {
                    tap[2 * c] = pastOK ? past[c] : 0
                    tap[2 * c + 1] = now[c]
                }
            }
            let z = layer.dz.base  // pre-activations first, gradients later
            for row in 0..<rows { (z + row * 2 * G).update(from: layer.dilatedBias.value.base, count: 2 * G) }
            Gemm.multiply(transB: true, m: rows, n: 2 * G, k: 2 * R, layer.taps.base, lda: 2 * R, layer.dilated.value.base,
                          ldb: 2 * R, beta: 1, z, ldc: 2 * G)
            for row in 0..<rows {
                let zr = z + row * 2 * G
                let f = layer.filter.base + row * G, g = layer.gate.base + row * G, a = layer.gated.base + row * G
                f.update(from: zr, count: G)
                g.update(from: zr + G, count: G)
                TrainMath.applyTanh(f, G)
                TrainMath.applySigmoid(g, G)
                for j in 0..<G { a[j] = f[j] * g[j] }
            }
            layer.skip.forward(layer.gated.base, rows: rows)
            TrainMath.add(layer.skip.output.base, into: skip.base, rows * S)
            layer.residual.forward(layer.gated.base, rows: rows)
            if l + 1 < layers.count {
                let next = current(layers[l + 1])
                next.update(from: x, count: rows * R)
                TrainMath.add(layer.residual.output.base, into: next, rows * R)
            }
        }
        for i in 0..<(rows * S) { skipReLU[i] = max(skip[i], 0) }
        hiddenHead.forward(dropout.forward(skipReLU.base, count: rows * S, training: training, &rng), rows: rows)
        let H = configuration.headHidden
        for i in 0..<(rows * H) { headReLU[i] = max(hiddenHead.output[i], 0) }
        outputHead.forward(headReLU.base, rows: rows)
        // Keep each layer's last `dilation` steps as the next chunk's history.
        for layer in layers {
            let keep = layer.dilation * B * R
            // [history; chunk] minus its first `rows` rows; the regions may overlap.
            layer.extended.base.update(from: layer.extended.base + rows * R, count: keep)
        }
        return outputHead.output.base
    }

    public func backward(_ dLogits: UnsafeMutablePointer<Float>) {
        let (R, G, S, B) = (configuration.residual, configuration.gate, configuration.skip, batch)
        let rows = chunk.rows
        let H = configuration.headHidden
        outputHead.backward(dLogits)
        let dh = hiddenHead.output  // reuse: gradient wrt hidden pre-ReLU
        for i in 0..<(rows * H) { dh[i] = hiddenHead.output[i] > 0 ? outputHead.dInput[i] : 0 }
        hiddenHead.backward(dh.base)
        dropout.backward(hiddenHead.dInput.base, count: rows * S)
        for i in 0..<(rows * S) { dSkip[i] = skip[i] > 0 ? hiddenHead.dInput[i] : 0 }
        // dStream: the gradient wrt the residual stream entering the layer above (none above the last layer).
        dStream.zero()
        for (l, layer) in layers.enumerated().reversed() {
            let d = layer.dilation
            layer.skip.backward(dSkip.base)
            if l + 1 < layers.count { layer.residual.backward(dStream.base) }
            let dA = layer.gated  // reuse: a is no longer needed once both products' weight gradients are taken
            dA.base.update(from: layer.skip.dInput.base, count: rows * G)
            if l + 1 < layers.count { TrainMath.add(layer.residual.dInput.base, into: dA.base, rows * G) }
            let dz = layer.dz.base
            for row in 0..<rows {
                let f = layer.filter.base + row * G, g = layer.gate.base + row * G, da = dA.base + row * G
                let zr = dz + row * 2 * G
                for j in 0..<G {
                    zr[j] = da[j] * g[j] * (1 - f[j] * f[j])
                    zr[G + j] = da[j] * f[j] * g[j] * (1 - g[j])
                }
            }
            Gemm.multiply(transA: true, m: 2 * G, n: 2 * R, k: rows, dz, lda: 2 * G, layer.taps.base, ldb: 2 * R, beta: 1,
                          layer.dilated.grad.base, ldc: 2 * R)
            TrainMath.sumRows(dz, rows: rows, 2 * G, into: layer.dilatedBias.grad.base)
            Gemm.multiply(m: rows, n: 2 * R, k: 2 * G, dz, lda: 2 * G, layer.dilated.value.base, ldb: 2 * R, beta: 0,
                          layer.dTaps.base, ldc: 2 * R)
            // The stream passes straight through the residual connection; add both taps' input gradients.
            for row in 0..<rows {
                let tap = layer.dTaps.base + row * 2 * R
                let own = dStream.base + row * R
                for c in 0..<R { own[c] += tap[2 * c + 1] }
                if Int(chunk.positions[row]) >= d, row - d * B >= 0 {
                    let past = dStream.base + (row - d * B) * R
                    for c in 0..<R { past[c] += tap[2 * c] }
                }
            }
        }
        TrainMath.sumRows(dStream.base, rows: rows, R, into: inputBias.grad.base)
        for row in 0..<rows {
            for e in chunk.inputs.range(row) {
                TrainMath.axpy(chunk.inputs.values[e], dStream.base + row * R, inputWeight.grad.base + Int(chunk.inputs.indices[e]) * R, R)
            }
        }
    }
}
