/// One LSTM layer with its streaming state, PyTorch parameters and gate order (i, f, g, o).
///
/// Step-path layout: every gate block is padded to `hs` = H rounded up to 16 rows, so z = [i; f; g; o] has
/// gate k at offset k·hs. A layer fed a sparse input keeps W_ih transposed (one contiguous row per input
/// feature, gathered) and W_hh separately; a layer fed a dense input keeps [W_ih | W_hh] fused, so one
/// matrix–vector product over [x; h] gives all four gates.
public struct LSTMLayer {
    public let inputs: Int
    public let hidden: Int
    public let sparseInput: Bool
    /// H padded to 16: the gate block stride and the length of h and c.
    public let hs: Int
    /// x padded to 16: offset of h inside the fused [x; h] vector.
    public let xs: Int

    /// Sparse input: W_ihᵀ [I][4·hs].
    let inputColumns: Matrix?
    /// Sparse input: W_hh [4·hs][H].
    let recurrent: Matrix?
    /// Dense input: [W_ih | W_hh] [4·hs][xs + hs].
    let fused: Matrix?
    /// b_ih and b_hh as trained and saved; their sum is what the step adds.
    let biasIH: AlignedBuffer<Float>, biasHH: AlignedBuffer<Float>, bias: AlignedBuffer<Float>

    /// Dense input: the [x; h] vector, its h part being this layer's hidden state. Sparse input: h alone.
    public let state: AlignedBuffer<Float>
    public let cell: AlignedBuffer<Float>
    let z: AlignedBuffer<Float>

    public init(inputs: Int, hidden: Int, sparseInput: Bool) {
        self.inputs = inputs
        self.hidden = hidden
        self.sparseInput = sparseInput
        hs = padded16(hidden)
        xs = padded16(inputs)
        if sparseInput {
            inputColumns = Matrix(rows: inputs, columns: 4 * hs)
            recurrent = Matrix(rows: 4 * hs, columns: hidden)
            fused = nil
            state = AlignedBuffer(count: hs)
        } else {
            inputColumns = nil
            recurrent = nil
            fused = Matrix(rows: 4 * hs, columns: xs + hs)
            state = AlignedBuffer(count: xs + hs)
        }
        biasIH = AlignedBuffer(count: 4 * hs)
        biasHH = AlignedBuffer(count: 4 * hs)
        bias = AlignedBuffer(count: 4 * hs)
        cell = AlignedBuffer(count: hs)
        z = AlignedBuffer(count: 4 * hs)
    }

    /// This layer's hidden output h (inside `state`).
    public var h: UnsafeMutablePointer<Float> { sparseInput ? state.base : state.base + xs }
    /// Dense input: where the caller writes x before `step()`.
    public var input: UnsafeMutablePointer<Float> { state.base }

    // MARK: parameters in PyTorch layout

    /// Gate row r of PyTorch's [4H, ·] tensors, in the padded layout.
    @inline(__always) func paddedRow(_ r: Int) -> Int { (r / hidden) * hs + r % hidden }

    func weightIH(_ r: Int, _ c: Int) -> Float {
        sparseInput ? inputColumns![c, paddedRow(r)] : fused![paddedRow(r), c]
    }
    func setWeightIH(_ r: Int, _ c: Int, _ v: Float) {
        if sparseInput { inputColumns![c, paddedRow(r)] = v } else { fused![paddedRow(r), c] = v }
    }
    func weightHH(_ r: Int, _ c: Int) -> Float {
        sparseInput ? recurrent![paddedRow(r), c] : fused![paddedRow(r), xs + c]
    }
    func setWeightHH(_ r: Int, _ c: Int, _ v: Float) {
        if sparseInput { recurrent![paddedRow(r), c] = v } else { fused![paddedRow(r), xs + c] = v }
    }

    private func sumBiases() {
        for i in 0..<(4 * hs) { bias[i] = biasIH[i] + biasHH[i] }
    }

    public func randomize(_ rng: inout SeededRandom) {
        let bound = 1 / Float(hidden).squareRoot()
        for r in 0..<(4 * hidden) {
            for c in 0..<inputs { setWeightIH(r, c, rng.uniform(-bound, bound)) }
            for c in 0..<hidden { setWeightHH(r, c, rng.uniform(-bound, bound)) }
            biasIH[paddedRow(r)] = rng.uniform(-bound, bound)
            biasHH[paddedRow(r)] = rng.uniform(-bound, bound)
        }
        sumBiases()
    }

    public func load(_ reader: WeightReader, layer k: Int) throws(WeightsError) {
        let g = 4 * hidden
        let wih = try reader.take(TensorName.lstmWeightIH(k), shape: [g, inputs])
        let whh = try reader.take(TensorName.lstmWeightHH(k), shape: [g, hidden])
        let bih = try reader.take(TensorName.lstmBiasIH(k), shape: [g])
        let bhh = try reader.take(TensorName.lstmBiasHH(k), shape: [g])
        for r in 0..<g {
            for c in 0..<inputs { setWeightIH(r, c, wih[r * inputs + c]) }
            for c in 0..<hidden { setWeightHH(r, c, whh[r * hidden + c]) }
            biasIH[paddedRow(r)] = bih[r]
            biasHH[paddedRow(r)] = bhh[r]
        }
        sumBiases()
    }

    public func save(_ set: inout WeightSet, layer k: Int) {
        let g = 4 * hidden
        var wih = [Float](repeating: 0, count: g * inputs), whh = [Float](repeating: 0, count: g * hidden)
        var bih = [Float](repeating: 0, count: g), bhh = [Float](repeating: 0, count: g)
        for r in 0..<g {
            for c in 0..<inputs { wih[r * inputs + c] = weightIH(r, c) }
            for c in 0..<hidden { whh[r * hidden + c] = weightHH(r, c) }
            bih[r] = biasIH[paddedRow(r)]
            bhh[r] = biasHH[paddedRow(r)]
        }
        set.tensors[TensorName.lstmWeightIH(k)] = Tensor(shape: [g, inputs], values: wih)
        set.tensors[TensorName.lstmWeightHH(k)] = Tensor(shape: [g, hidden], values: whh)
        set.tensors[TensorName.lstmBiasIH(k)] = Tensor(shape: [g], values: bih)
        set.tensors[TensorName.lstmBiasHH(k)] = Tensor(shape: [g], values: bhh)
    }

    /// The input side gathered from a sparse input stays fp32 (a few contiguous rows per step); the dense
    /// products take the chosen storage.
    public func prepare(_ precision: Precision) {
        recurrent?.prepare(precision)
        fused?.prepare(precision)
    }

    // MARK: streaming

    public func reset() {
        state.zero()
        cell.zero()
    }

    /// One step on a sparse input.
    @inline(__always) public func step(_ x: FeatureList) {
        z.base.update(from: bias.base, count: 4 * hs)
        gatherColumns(inputColumns!.values.base, rows: inputs, stride: 4 * hs, x, into: z.base)
        recurrent!.multiply(state.base, into: z.base, accumulate: true)
        lstmGates(z.base, hidden: hidden, stride: hs, cell: cell.base, output: state.base)
    }

    /// One step on the dense input already written at `input`.
    @inline(__always) public func step() {
        z.base.update(from: bias.base, count: 4 * hs)
        fused!.multiply(state.base, into: z.base, accumulate: true)
        lstmGates(z.base, hidden: hidden, stride: hs, cell: cell.base, output: state.base + xs)
    }
}
