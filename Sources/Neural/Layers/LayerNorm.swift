import Foundation

/// Layer normalisation over one vector (PyTorch nn.LayerNorm: `weight` γ, `bias` β, ε 1e-5): the mean and
/// variance of the vector itself, so a step needs no statistics from anywhere else.
public struct LayerNorm {
    public static let epsilon: Float = 1e-5
    public let width: Int
    public let gain: AlignedBuffer<Float>
    public let shift: AlignedBuffer<Float>

    public init(width: Int) {
        self.width = width
        gain = AlignedBuffer(count: width)
        shift = AlignedBuffer(count: width)
        for i in 0..<width { gain[i] = 1 }
    }

    public func load(_ reader: WeightReader, _ prefix: String) throws(WeightsError) {
        gain.copy(from: try reader.take(TensorName.weight(prefix), shape: [width]))
        shift.copy(from: try reader.take(TensorName.bias(prefix), shape: [width]))
    }

    public func save(_ set: inout WeightSet, _ prefix: String) {
        set.tensors[TensorName.weight(prefix)] = Tensor(shape: [width], values: gain.array)
        set.tensors[TensorName.bias(prefix)] = Tensor(shape: [width], values: shift.array)
    }

    /// Small random γ around 1 and β around 0, so tests see a norm that is not the identity.
    public func randomize(_ rng: inout SeededRandom) {
        for i in 0..<width {
            gain[i] = 1 + rng.uniform(-0.2, 0.2)
            shift[i] = rng.uniform(-0.1, 0.1)
        }
    }

    /// y = γ·(x − mean)/√(var + ε) + β over `width` floats; y may be x. Writes only the real width, so a
    /// padded y keeps its zero padding.
    @inline(__always) public func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
        _ = Self.normalize(x, count: width, gain: gain.base, shift: shift.base, into: y)
    }

    /// The one layer norm of a vector, for the step and for training's rows: y = γ·x̂ + β with
    /// x̂ = (x − mean)/√(var + ε); writes x̂ into `normalized` when given (the backward's input) and returns
    /// 1/√(var + ε).
    @inline(__always) static func normalize(
        _ x: UnsafePointer<Float>, count n: Int, gain: UnsafePointer<Float>, shift: UnsafePointer<Float>,
        into y: UnsafeMutablePointer<Float>, normalized: UnsafeMutablePointer<Float>? = nil
    ) -> Float {
        var sum: Float = 0
        for i in 0..<n { sum += x[i] }
        let mean = sum / Float(n)
        var squares: Float = 0
        for i in 0..<n {
            let d = x[i] - mean
            squares += d * d
        }
        let inverse = 1 / (squares / Float(n) + epsilon).squareRoot()
        for i in 0..<n {
            let centred = (x[i] - mean) * inverse
            normalized?[i] = centred
            y[i] = centred * gain[i] + shift[i]
        }
        return inverse
    }
}

/// GELU with GPT-2's tanh approximation, 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))): the transformer's MLP
/// nonlinearity, on the step's 16-lane tanh.
@inline(__always) func gelu16(_ x: SIMD16<Float>) -> SIMD16<Float> {
    let inner = (x + 0.044_715 * x * x * x) * 0.797_884_56
    return 0.5 * x * (1 + tanh16(inner))
}

/// In place over n floats rounded up to whole vectors (GELU(0) = 0 keeps zero padding zero).
@inline(never) func applyGELU(_ p: UnsafeMutablePointer<Float>, count n: Int) {
    var i = 0
    while i < n { store16(gelu16(load16(p + i)), p + i); i &+= 16 }
}

/// Scalar GELU (tanh form), for plain reference code and the training tails.
@inline(__always) func gelu(_ x: Float) -> Float {
    0.5 * x * (1 + Foundation.tanh(0.797_884_56 * (x + 0.044_715 * x * x * x)))
}
