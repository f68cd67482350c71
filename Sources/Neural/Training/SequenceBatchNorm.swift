import Foundation

/// Batch normalisation over the rows of a chunk, one mean and variance per column (PyTorch BatchNorm1d, or
/// BatchNorm2d with the rows as batch × positions): `{prefix}.weight`, `.bias`, and the running statistics
/// `.running_mean` / `.running_var` that evaluation uses. The running statistics are saved with the weights
/// but are no optimizer's: `trainable` lists only γ and β.
public final class SequenceBatchNorm {
    public let features: Int
    public let weight: Parameter, bias: Parameter
    public let runningMean: Parameter, runningVariance: Parameter
    public let output: TrainingBuffer, dInput: TrainingBuffer
    public var momentum: Float = 0.1
    public let epsilon: Float = 1e-5
    /// x̂ of the last training forward, and 1/σ per column.
    private let normalized: TrainingBuffer
    private let inverseDeviation: TrainingBuffer
    private var rows = 0

    public init(_ prefix: String, features: Int, maxRows: Int) {
        self.features = features
        weight = Parameter(TensorName.weight(prefix), shape: [features])
        bias = Parameter(TensorName.bias(prefix), shape: [features])
        runningMean = Parameter("\(prefix).running_mean", shape: [features])
        runningVariance = Parameter("\(prefix).running_var", shape: [features])
        output = TrainingBuffer(count: maxRows * features)
        dInput = TrainingBuffer(count: maxRows * features)
        normalized = TrainingBuffer(count: maxRows * features)
        inverseDeviation = TrainingBuffer(count: features)
        for i in 0..<features { weight.value[i] = 1; runningVariance.value[i] = 1 }
    }

    /// γ and β: what an optimizer updates.
    public var trainable: [Parameter] { [weight, bias] }
    /// Everything saved.
    public var parameters: [Parameter] { [weight, bias, runningMean, runningVariance] }

    /// Training: each column normalised by its own mean and (biased) variance over `rows`, the running
    /// statistics moved toward them (the unbiased variance, as PyTorch keeps it). Evaluation: by the
    /// running statistics.
    public func forward(_ x: UnsafePointer<Float>, rows: Int, training: Bool) {
        self.rows = rows
        let n = features
        for c in 0..<n {
            var mean: Float, inv: Float
            if training {
                var s = 0.0
                for r in 0..<rows { s += Double(x[r * n + c]) }
                let m = s / Double(rows)
                var v = 0.0
                for r in 0..<rows { let d = Double(x[r * n + c]) - m; v += d * d }
                mean = Float(m)
                inv = Float(1 / (v / Double(rows) + Double(epsilon)).squareRoot())
                let unbiased = rows > 1 ? v / Double(rows - 1) : v
                runningMean.value[c] = (1 - momentum) * runningMean.value[c] + momentum * mean
                runningVariance.value[c] = (1 - momentum) * runningVariance.value[c] + momentum * Float(unbiased)
            } else {
                mean = runningMean.value[c]
                inv = 1 / (runningVariance.value[c] + epsilon).squareRoot()
            }
            inverseDeviation[c] = inv
            let (g, b) = (weight.value[c], bias.value[c])
            for r in 0..<rows {
                let xh = (x[r * n + c] - mean) * inv
                normalized[r * n + c] = xh
                output[r * n + c] = g * xh + b
            }
        }
    }

    /// Accumulates dγ, dβ and writes dInput, through the batch statistics of the last training forward.
    public func backward(_ dOutput: UnsafePointer<Float>) {
        let n = features
        for c in 0..<n {
            var sum = 0.0, dot = 0.0
            for r in 0..<rows {
                let d = Double(dOutput[r * n + c])
                sum += d
                dot += d * Double(normalized[r * n + c])
            }
            weight.grad[c] += Float(dot)
            bias.grad[c] += Float(sum)
            let (meanD, meanDX) = (Float(sum / Double(rows)), Float(dot / Double(rows)))
            let scale = weight.value[c] * inverseDeviation[c]
            for r in 0..<rows {
                dInput[r * n + c] = scale * (dOutput[r * n + c] - meanD - normalized[r * n + c] * meanDX)
            }
        }
    }
}

/// Rectifiers in place, forward and backward (the backward reads the activation's output: its sign is the
/// input's).
enum Rectifier {
    /// slope 0: ReLU; MidiNet's leaky one has 0.2.
    static func forward(_ x: UnsafeMutablePointer<Float>, _ count: Int, slope: Float) {
        for i in 0..<count where x[i] < 0 { x[i] *= slope }
    }

    static func backward(_ d: UnsafeMutablePointer<Float>, output y: UnsafePointer<Float>, _ count: Int, slope: Float) {
        for i in 0..<count where y[i] <= 0 { d[i] *= slope }
    }
}
