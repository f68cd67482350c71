/// Layer normalisation over every row of a chunk (LayerNorm's tensors `{prefix}.weight` γ, `{prefix}.bias` β),
/// with its backward beside it.
final class SequenceLayerNorm {
    let width: Int
    let gain: Parameter, shift: Parameter
    let output: TrainingBuffer, dInput: TrainingBuffer
    /// (x − mean)/σ per row, and 1/σ per row: all the backward needs.
    let normalized: TrainingBuffer, inverseDeviation: TrainingBuffer
    private var rows = 0

    init(_ prefix: String, width: Int, maxRows: Int) {
        self.width = width
        gain = Parameter(TensorName.weight(prefix), shape: [width])
        shift = Parameter(TensorName.bias(prefix), shape: [width])
        for i in 0..<width { gain.value[i] = 1 }
        output = TrainingBuffer(count: maxRows * width)
        dInput = TrainingBuffer(count: maxRows * width)
        normalized = TrainingBuffer(count: maxRows * width)
        inverseDeviation = TrainingBuffer(count: maxRows)
    }

    var parameters: [Parameter] { [gain, shift] }

    func forward(_ x: UnsafePointer<Float>, rows: Int) {
        self.rows = rows
        let n = width
        for r in 0..<rows {
            inverseDeviation[r] = LayerNorm.normalize(
                x + r * n, count: n, gain: gain.value.base, shift: shift.value.base, into: output.base + r * n,
                normalized: normalized.base + r * n)
        }
    }

    /// dx = (1/σ)·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·γ; accumulates dγ, dβ.
    func backward(_ dOutput: UnsafePointer<Float>) {
        let n = width
        for r in 0..<rows {
            let dy = dOutput + r * n, nr = normalized.base + r * n, dx = dInput.base + r * n
            var meanG: Float = 0, meanGX: Float = 0
            for i in 0..<n {
                gain.grad[i] += dy[i] * nr[i]
                shift.grad[i] += dy[i]
                let g = dy[i] * gain.value[i]
                dx[i] = g
                meanG += g
                meanGX += g * nr[i]
            }
            meanG /= Float(n)
            meanGX /= Float(n)
            let inverse = inverseDeviation[r]
            for i in 0..<n { dx[i] = inverse * (dx[i] - meanG - nr[i] * meanGX) }
        }
    }
}
