/// y = x·Wᵀ + b over all rows of a chunk (PyTorch Linear layout: `{prefix}.weight` [out, in], `{prefix}.bias`).
public final class SequenceLinear {
    public let inputs: Int, outputs: Int
    public let weight: Parameter, bias: Parameter
    public let output: TrainingBuffer, dInput: TrainingBuffer
    private var input: UnsafePointer<Float>? = nil
    private var rows = 0

    public init(_ prefix: String, inputs: Int, outputs: Int, maxRows: Int) {
        self.inputs = inputs
        self.outputs = outputs
        weight = Parameter(TensorName.weight(prefix), shape: [outputs, inputs])
        bias = Parameter(TensorName.bias(prefix), shape: [outputs])
        output = TrainingBuffer(count: maxRows * outputs)
        dInput = TrainingBuffer(count: maxRows * inputs)
    }

    public var parameters: [Parameter] { [weight, bias] }

    func randomize(_ rng: inout TrainingRandom) {
        let bound = 1 / Float(inputs).squareRoot()
        weight.randomize(bound: bound, &rng)
        bias.randomize(bound: bound, &rng)
    }

    public func forward(_ x: UnsafePointer<Float>, rows: Int) {
        self.rows = rows
        input = x
        for r in 0..<rows { (output.base + r * outputs).update(from: bias.value.base, count: outputs) }
        Gemm.multiply(transB: true, m: rows, n: outputs, k: inputs, x, lda: inputs, weight.value.base, ldb: inputs,
                      beta: 1, output.base, ldc: outputs)
    }

    /// Accumulates dW, db from dOutput and writes dInput.
    public func backward(_ dOutput: UnsafePointer<Float>) {
        Gemm.multiply(transA: true, m: outputs, n: inputs, k: rows, dOutput, lda: outputs, input!, ldb: inputs, beta: 1,
                      weight.grad.base, ldc: inputs)
        TrainMath.sumRows(dOutput, rows: rows, outputs, into: bias.grad.base)
        Gemm.multiply(m: rows, n: inputs, k: outputs, dOutput, lda: outputs, weight.value.base, ldb: inputs, beta: 0,
                      dInput.base, ldc: inputs)
    }
}

/// Inverted dropout: in training each unit is kept with probability 1 - rate and scaled by 1/(1 - rate), so
/// evaluation (rate 0, or `training` false) is the identity and the streaming step needs no change.
public final class Dropout {
    public let rate: Float
    let mask: TrainingBuffer
    public let output: TrainingBuffer

    public init(rate: Float, maxCount: Int) {
        self.rate = rate
        mask = TrainingBuffer(count: maxCount)
        output = TrainingBuffer(count: maxCount)
    }

    /// Returns the pointer the next layer reads: `x` itself when inactive.
    public func forward(_ x: UnsafePointer<Float>, count: Int, training: Bool, _ rng: inout TrainingRandom) -> UnsafePointer<Float> {
        guard training, rate > 0 else {
            for i in 0..<count { mask[i] = 1 }
            return x
        }
        let scale = 1 / (1 - rate)
        for i in 0..<count {
            let m: Float = rng.unit() < rate ? 0 : scale
            mask[i] = m
            output[i] = x[i] * m
        }
        return UnsafePointer(output.base)
    }

    /// In place: dx = dy · mask.
    public func backward(_ d: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { d[i] *= mask[i] }
    }
}
