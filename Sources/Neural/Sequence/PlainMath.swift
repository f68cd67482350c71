import Foundation

// Plain scalar math on saved (PyTorch-layout) tensors: the straightforward forward the streaming kernels are
// checked against. Deliberately naive — no padding, no SIMD, no caches — so it shares no code with the step.

enum Plain {
    /// W·x + b for W [rows, cols] row-major.
    static func affine(_ w: Tensor, _ b: Tensor?, _ x: [Float]) -> [Float] {
        let rows = w.shape[0], cols = w.values.count / rows
        precondition(x.count == cols)
        return (0..<rows).map { r in
            var s: Float = b?.values[r] ?? 0
            for c in 0..<cols { s += w.values[r * cols + c] * x[c] }
            return s
        }
    }

    static func sigmoid(_ x: Float) -> Float { 1 / (1 + Foundation.exp(-x)) }

    /// One step of a PyTorch LSTM stack from its saved tensors; h and c hold every layer's state.
    static func lstmStep(_ set: WeightSet, layers: Int, hidden: Int, x: [Float], h: inout [[Float]], c: inout [[Float]]) {
        var input = x
        for k in 0..<layers {
            let zi = affine(set.tensors[TensorName.lstmWeightIH(k)]!, set.tensors[TensorName.lstmBiasIH(k)]!, input)
            let zh = affine(set.tensors[TensorName.lstmWeightHH(k)]!, set.tensors[TensorName.lstmBiasHH(k)]!, h[k])
            for j in 0..<hidden {
                let i = sigmoid(zi[j] + zh[j])
                let f = sigmoid(zi[hidden + j] + zh[hidden + j])
                let g = Foundation.tanh(zi[2 * hidden + j] + zh[2 * hidden + j])
                let o = sigmoid(zi[3 * hidden + j] + zh[3 * hidden + j])
                c[k][j] = f * c[k][j] + i * g
                h[k][j] = o * Foundation.tanh(c[k][j])
            }
            input = h[k]
        }
    }

    static func zeros(_ n: Int) -> [Float] { [Float](repeating: 0, count: n) }
}
