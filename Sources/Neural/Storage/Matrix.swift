/// How the step path stores dense weight matrices.
public enum Precision: String, Sendable, CaseIterable {
    /// Full single precision: the reference numerics.
    case fp32
    /// Half-precision storage, single-precision arithmetic: halves the bytes each step streams from cache.
    case fp16
}

/// A dense row-major weight matrix for matrix–vector products in the step path.
///
/// Rows are padded to a multiple of 16 columns (`stride`) with zeros, so a product over the padded length
/// equals the product over the real columns, provided the vector's padding is zero too (AlignedBuffer keeps it so).
/// With `.fp16` the rows are also held as Float16, which is what the step reads; the fp32 copy stays the
/// master values for saving and for the plain reference forward.
public struct Matrix: @unchecked Sendable {
    public let rows: Int
    public let columns: Int
    public let stride: Int
    public let values: AlignedBuffer<Float>
    public private(set) var half: AlignedBuffer<Float16>?

    public init(rows: Int, columns: Int) {
        self.rows = rows
        self.columns = columns
        stride = padded16(columns)
        values = AlignedBuffer(count: rows * stride)
    }

    /// Element (r, c) of the logical matrix.
    @inline(__always) public subscript(r: Int, c: Int) -> Float {
        get { values.base[r * stride + c] }
        nonmutating set { values.base[r * stride + c] = newValue }
    }

    @inline(__always) public func row(_ r: Int) -> UnsafeMutablePointer<Float> { values.base + r * stride }

    /// Fills from a row-major array of exactly rows × columns values.
    public func load(rowMajor source: [Float]) {
        precondition(source.count == rows * columns)
        for r in 0..<rows {
            for c in 0..<columns { values.base[r * stride + c] = source[r * columns + c] }
        }
    }

    /// The logical row-major values, without padding.
    public var rowMajor: [Float] {
        var out = [Float](repeating: 0, count: rows * columns)
        for r in 0..<rows {
            for c in 0..<columns { out[r * columns + c] = values.base[r * stride + c] }
        }
        return out
    }

    /// Chooses the storage the step reads; call after the values are final (load or training).
    public mutating func prepare(_ precision: Precision) {
        switch precision {
        case .fp32:
            half = nil
        case .fp16:
            let h = AlignedBuffer<Float16>(count: rows * stride)
            for i in 0..<(rows * stride) { h.base[i] = Float16(values.base[i]) }
            half = h
        }
    }

    /// y = W·x (or y += W·x), reading whichever storage `prepare` chose. x must hold `stride` readable floats.
    @inline(__always)
    public func multiply(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, accumulate: Bool) {
        if let half {
            matVecHalf(half.base, rows: rows, stride: stride, x, y, accumulate: accumulate)
        } else {
            matVec(values.base, rows: rows, stride: stride, x, y, accumulate: accumulate)
        }
    }
}
