import Foundation

/// The decoder-only transformer for training (Transformer's tensors): a sparse input map, pre-norm blocks of
/// ALiBi self-attention and a GELU MLP, each branch with dropout before it joins the residual stream, a
/// final layer norm and a linear head; optionally dropout on the input map's output as well.
public final class TrainableTransformer: TrainableModel {
    public let configuration: TrainingModelConfig
    let inputWeight: Parameter, inputBias: Parameter
    let inputDropout: Dropout
    let blocks: [Block]
    let finalNorm: SequenceLayerNorm
    let head: SequenceLinear
    public let chain: NADEChainHead?
    /// The residual stream entering each block, and leaving the last: layers + 1 buffers of rows × width.
    let streams: [TrainingBuffer]
    /// The gradient wrt the residual stream, and a branch's copy of it that its dropout scales in place.
    let dStream: TrainingBuffer, dBranch: TrainingBuffer
    private var chunk = TrainingChunk(steps: 0, batch: 0)

    final class Block {
        let attentionNorm: SequenceLayerNorm, mlpNorm: SequenceLayerNorm
        let qkv: SequenceLinear, output: SequenceLinear, up: SequenceLinear, down: SequenceLinear
        let attention: SequenceSelfAttention
        let attentionDropout: Dropout, mlpDropout: Dropout
        /// The stream after the attention branch joins it; GELU of the MLP's units and their gradient.
        let middle: TrainingBuffer, units: TrainingBuffer, dUnits: TrainingBuffer

        init(_ l: Int, _ c: TrainingModelConfig, batch: Int, maxRows: Int) {
            let name = TensorName.block(l)
            let d = c.hidden
            attentionNorm = SequenceLayerNorm(TensorName.attentionNorm(name), width: d, maxRows: maxRows)
            mlpNorm = SequenceLayerNorm(TensorName.mlpNorm(name), width: d, maxRows: maxRows)
            qkv = SequenceLinear(TensorName.selfAttentionQKV(name), inputs: d, outputs: 3 * d, maxRows: maxRows)
            output = SequenceLinear(TensorName.selfAttentionOutput(name), inputs: d, outputs: d, maxRows: maxRows)
            up = SequenceLinear(TensorName.mlpUp(name), inputs: d, outputs: c.mlp, maxRows: maxRows)
            down = SequenceLinear(TensorName.mlpDown(name), inputs: c.mlp, outputs: d, maxRows: maxRows)
            attention = SequenceSelfAttention(width: d, heads: c.heads, window: c.window, batch: batch, maxRows: maxRows)
            attentionDropout = Dropout(rate: c.dropout, maxCount: maxRows * d)
            mlpDropout = Dropout(rate: c.dropout, maxCount: maxRows * d)
            middle = TrainingBuffer(count: maxRows * d)
            units = TrainingBuffer(count: maxRows * c.mlp)
            dUnits = TrainingBuffer(count: maxRows * c.mlp)
        }

        var parameters: [Parameter] {
            attentionNorm.parameters + qkv.parameters + output.parameters + mlpNorm.parameters + up.parameters + down.parameters
        }
    }

    init(_ config: TrainingModelConfig, batch: Int, maxSteps: Int, rng: inout TrainingRandom) {
        configuration = config
        let maxRows = batch * maxSteps
        let d = config.hidden
        inputWeight = Parameter(TensorName.weight(TensorName.convInput), shape: [d, config.inputSize], transposed: true)
        inputBias = Parameter(TensorName.bias(TensorName.convInput), shape: [d])
        inputDropout = Dropout(rate: config.inputDropout, maxCount: maxRows * d)
        blocks = (0..<config.layers).map { Block($0, config, batch: batch, maxRows: maxRows) }
        finalNorm = SequenceLayerNorm(TensorName.finalNorm, width: d, maxRows: maxRows)
        head = SequenceLinear(TensorName.head, inputs: d, outputs: config.outputs, maxRows: maxRows)
        chain = NADEChainHead.make(config, rng: &rng)
        streams = (0...config.layers).map { _ in TrainingBuffer(count: maxRows * d) }
        dStream = TrainingBuffer(count: maxRows * d)
        dBranch = TrainingBuffer(count: maxRows * d)
        // GPT-2's initialisation (σ 0.02, as a uniform of the same spread; the maps that end a residual
        // branch scaled by 1/√(2·layers) so the stream's variance does not grow with depth), zero biases.
        let spread = 0.02 * Float(3).squareRoot()
        let branchEnd = spread / Float(2 * config.layers).squareRoot()
        inputWeight.randomize(bound: spread, &rng)
        for block in blocks {
            block.qkv.weight.randomize(bound: spread, &rng)
            block.up.weight.randomize(bound: spread, &rng)
            block.output.weight.randomize(bound: branchEnd, &rng)
            block.down.weight.randomize(bound: branchEnd, &rng)
        }
        head.weight.randomize(bound: spread, &rng)
    }

    public var parameters: [Parameter] {
        [inputWeight, inputBias] + blocks.flatMap(\.parameters) + finalNorm.parameters + head.parameters + (chain?.parameters ?? [])
    }

    public func resetState() { for block in blocks { block.attention.resetState() } }

    public func forward(_ chunk: TrainingChunk, training: Bool, rng: inout TrainingRandom) -> UnsafeMutablePointer<Float> {
        self.chunk = chunk
        let (d, f) = (configuration.hidden, configuration.mlp)
        let rows = chunk.rows
        let x0 = streams[0].base
        for row in 0..<rows {
            let x = x0 + row * d
            x.update(from: inputBias.value.base, count: d)
            for e in chunk.inputs.range(row) {
                TrainMath.axpy(chunk.inputs.values[e], inputWeight.value.base + Int(chunk.inputs.indices[e]) * d, x, d)
            }
        }
        let dropped = inputDropout.forward(x0, count: rows * d, training: training, &rng)
        if dropped != UnsafePointer(x0) { x0.update(from: dropped, count: rows * d) }
        for (l, block) in blocks.enumerated() {
            let x = streams[l].base, next = streams[l + 1].base
            block.attentionNorm.forward(x, rows: rows)
            block.qkv.forward(block.attentionNorm.output.base, rows: rows)
            block.attention.forward(block.qkv.output.base, positions: chunk.positions, rows: rows)
            block.output.forward(block.attention.output.base, rows: rows)
            let attended = block.attentionDropout.forward(block.output.output.base, count: rows * d, training: training, &rng)
            block.middle.base.update(from: x, count: rows * d)
            TrainMath.add(attended, into: block.middle.base, rows * d)
            block.mlpNorm.forward(block.middle.base, rows: rows)
            block.up.forward(block.mlpNorm.output.base, rows: rows)
            block.units.base.update(from: block.up.output.base, count: rows * f)
            TrainMath.applyGELU(block.units.base, rows * f)
            block.down.forward(block.units.base, rows: rows)
            let mixed = block.mlpDropout.forward(block.down.output.base, count: rows * d, training: training, &rng)
            next.update(from: block.middle.base, count: rows * d)
            TrainMath.add(mixed, into: next, rows * d)
        }
        finalNorm.forward(streams[blocks.count].base, rows: rows)
        head.forward(finalNorm.output.base, rows: rows)
        return head.output.base
    }

    public func backward(_ dLogits: UnsafeMutablePointer<Float>) {
        let (d, f) = (configuration.hidden, configuration.mlp)
        let rows = chunk.rows
        head.backward(dLogits)
        finalNorm.backward(head.dInput.base)
        dStream.base.update(from: finalNorm.dInput.base, count: rows * d)
        for block in blocks.reversed() {
            // next = middle + dropout(down(GELU(up(norm(middle)))))
            dBranch.base.update(from: dStream.base, count: rows * d)
            block.mlpDropout.backward(dBranch.base, count: rows * d)
            block.down.backward(dBranch.base)
            TrainMath.geluBackward(block.up.output.base, block.down.dInput.base, into: block.dUnits.base, rows * f)
            block.up.backward(block.dUnits.base)
            block.mlpNorm.backward(block.up.dInput.base)
            TrainMath.add(block.mlpNorm.dInput.base, into: dStream.base, rows * d)
            // middle = x + dropout(output(attention(qkv(norm(x)))))
            dBranch.base.update(from: dStream.base, count: rows * d)
            block.attentionDropout.backward(dBranch.base, count: rows * d)
            block.output.backward(dBranch.base)
            block.attention.backward(block.output.dInput.base)
            block.qkv.backward(block.attention.dQKV.base)
            block.attentionNorm.backward(block.qkv.dInput.base)
            TrainMath.add(block.attentionNorm.dInput.base, into: dStream.base, rows * d)
        }
        inputDropout.backward(dStream.base, count: rows * d)
        TrainMath.sumRows(dStream.base, rows: rows, d, into: inputBias.grad.base)
        for row in 0..<rows {
            for e in chunk.inputs.range(row) {
                TrainMath.axpy(chunk.inputs.values[e], dStream.base + row * d, inputWeight.grad.base + Int(chunk.inputs.indices[e]) * d, d)
            }
        }
    }
}

extension TrainMath {
    private static let geluScale: Float = 0.797_884_56
    private static let geluCubic: Float = 0.044_715

    /// GELU (tanh form) in place, on the step path's tanh so training and streaming compute one function.
    static func applyGELU(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        while i + 16 <= n {
            let x = load(p + i)
            let inner: SIMD16<Float> = (x + geluCubic * x * x * x) * geluScale
            let half: SIMD16<Float> = 0.5 * x
            store(half * (1 + tanh(inner)), p + i)
            i += 16
        }
        while i < n { p[i] = gelu(p[i]); i += 1 }
    }

    /// dx = dy · GELU'(x).
    static func geluBackward(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        while i + 16 <= n {
            let v = load(x + i)
            let v2: SIMD16<Float> = v * v
            let inner: SIMD16<Float> = (v + geluCubic * v2 * v) * geluScale
            let t = tanh(inner)
            let rise: SIMD16<Float> = 0.5 * (1 + t)
            let curve: SIMD16<Float> = 0.5 * v * (1 - t * t)
            let chain: SIMD16<Float> = geluScale * (1 + 3 * geluCubic * v2)
            store(load(dy + i) * (rise + curve * chain), dx + i)
            i += 16
        }
        while i < n {
            let v = x[i]
            let t = Foundation.tanh((v + geluCubic * v * v * v) * geluScale)
            dx[i] = dy[i] * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * geluScale * (1 + 3 * geluCubic * v * v))
            i += 1
        }
    }
}
