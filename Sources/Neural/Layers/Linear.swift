/// y = W·x + b on a dense input: output heads, projections, 1x1 convolutions. PyTorch Linear layout
/// (`weight` [out, in], `bias` [out]).
public struct Linear {
    public let inputs: Int
    public let outputs: Int
    public let weight: Matrix
    public let bias: AlignedBuffer<Float>

    public init(inputs: Int, outputs: Int) {
        self.inputs = inputs
        self.outputs = outputs
        weight = Matrix(rows: outputs, columns: inputs)
        bias = AlignedBuffer(count: outputs)
    }

    /// PyTorch's default init: uniform in ±1/√inputs for weight and bias.
    public func randomize(_ rng: inout SeededRandom) {
        let bound = 1 / Float(inputs).squareRoot()
        for r in 0..<outputs {
            for c in 0..<inputs { weight[r, c] = rng.uniform(-bound, bound) }
            bias[r] = rng.uniform(-bound, bound)
        }
    }

    public func load(_ reader: WeightReader, _ prefix: String, hasBias: Bool = true) throws(WeightsError) {
        weight.load(rowMajor: try reader.take(TensorName.weight(prefix), shape: [outputs, inputs]))
        if hasBias { bias.copy(from: try reader.take(TensorName.bias(prefix), shape: [outputs])) }
    }

    public func save(_ set: inout WeightSet, _ prefix: String, hasBias: Bool = true) {
        set.tensors[TensorName.weight(prefix)] = Tensor(shape: [outputs, inputs], values: weight.rowMajor)
        if hasBias { set.tensors[TensorName.bias(prefix)] = Tensor(shape: [outputs], values: bias.array) }
    }

    public func prepare(_ precision: Precision, int8Input: Int8Input = .bytes) { weight.prepare(precision, int8Input: int8Input) }

    /// y = W·x + b; x needs `padded16(inputs)` readable floats with zero padding.
    @inline(__always) public func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
        y.update(from: bias.base, count: outputs)
        weight.multiply(x, into: y, accumulate: true)
    }

    /// Plain scalar y = W·x + b: the reference the streaming kernels are checked against.
    public func reference(_ x: [Float]) -> [Float] {
        (0..<outputs).map { r in
            var s = bias[r]
            for c in 0..<inputs { s += weight[r, c] * x[c] }
            return s
        }
    }
}

/// y = W·x + b where x is sparse (one-hot / multi-hot): W is held transposed, one contiguous row per input
/// feature, so the product is a gather of the active rows. Saved in PyTorch Linear layout [out, in].
public struct SparseLinear {
    public let inputs: Int
    public let outputs: Int
    /// Wᵀ: rows = input features, columns = outputs (padded to 16).
    public let columns: Matrix
    public let bias: AlignedBuffer<Float>

    public init(inputs: Int, outputs: Int) {
        self.inputs = inputs
        self.outputs = outputs
        columns = Matrix(rows: inputs, columns: outputs)
        bias = AlignedBuffer(count: outputs)
    }

    public func randomize(_ rng: inout SeededRandom) {
        let bound = 1 / Float(inputs).squareRoot()
        for c in 0..<inputs { for r in 0..<outputs { columns[c, r] = rng.uniform(-bound, bound) } }
        for r in 0..<outputs { bias[r] = rng.uniform(-bound, bound) }
    }

    public func load(_ reader: WeightReader, _ prefix: String) throws(WeightsError) {
        let w = try reader.take(TensorName.weight(prefix), shape: [outputs, inputs])
        for r in 0..<outputs { for c in 0..<inputs { columns[c, r] = w[r * inputs + c] } }
        bias.copy(from: try reader.take(TensorName.bias(prefix), shape: [outputs]))
    }

    public func save(_ set: inout WeightSet, _ prefix: String) {
        var w = [Float](repeating: 0, count: outputs * inputs)
        for r in 0..<outputs { for c in 0..<inputs { w[r * inputs + c] = columns[c, r] } }
        set.tensors[TensorName.weight(prefix)] = Tensor(shape: [outputs, inputs], values: w)
        set.tensors[TensorName.bias(prefix)] = Tensor(shape: [outputs], values: bias.array)
    }

    /// y = b + Σ value·column over the active features.
    @inline(__always) public func forward(_ x: FeatureList, into y: UnsafeMutablePointer<Float>) {
        y.update(from: bias.base, count: columns.stride)
        gatherColumns(columns.values.base, rows: inputs, stride: columns.stride, x, into: y)
    }

    public func reference(_ x: [Float]) -> [Float] {
        (0..<outputs).map { r in
            var s = bias[r]
            for c in 0..<inputs { s += columns[c, r] * x[c] }
            return s
        }
    }
}
