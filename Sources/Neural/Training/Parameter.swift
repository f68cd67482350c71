/// One trainable tensor with its gradient, under the name and shape it is saved with.
///
/// `transposed` marks a matrix held as its transpose for speed (a sparse input's weight, kept one row per input
/// feature so a step gathers rows): `saved` and `load` convert to and from the saved [rows, cols] layout.
public final class Parameter {
    public let name: String
    public let shape: [Int]
    public let transposed: Bool
    /// The values; shared with the master's parameter in a data-parallel shard's replica.
    public private(set) var value: TrainingBuffer
    public let grad: TrainingBuffer

    public init(_ name: String, shape: [Int], transposed: Bool = false) {
        precondition(!transposed || shape.count == 2)
        self.name = name
        self.shape = shape
        self.transposed = transposed
        let count = shape.reduce(1, *)
        value = TrainingBuffer(count: count)
        grad = TrainingBuffer(count: count)
    }

    public var count: Int { value.count }

    /// Reads and writes `other`'s values from now on (a shard's replica shares the master's weights, so the
    /// cores read one copy from the shared cache and nothing is copied per step); the gradient stays this one's.
    func shareValues(of other: Parameter) {
        precondition(other.shape == shape && other.transposed == transposed)
        value = other.value
    }

    /// Values in the saved row-major layout.
    public var saved: [Float] {
        guard transposed else { return value.array }
        let (rows, cols) = (shape[0], shape[1])
        var out = [Float](repeating: 0, count: count)
        for r in 0..<rows { for c in 0..<cols { out[r * cols + c] = value[c * rows + r] } }
        return out
    }

    /// Sets the values from the saved row-major layout.
    public func load(_ values: [Float]) {
        precondition(values.count == count)
        guard transposed else { value.copy(from: values); return }
        let (rows, cols) = (shape[0], shape[1])
        for r in 0..<rows { for c in 0..<cols { value[c * rows + r] = values[r * cols + c] } }
    }

    /// PyTorch's default: uniform in ±bound.
    func randomize(bound: Float, _ rng: inout TrainingRandom) {
        for i in 0..<count { value[i] = rng.uniform(-bound, bound) }
    }
}
