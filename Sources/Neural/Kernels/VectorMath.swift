// Small vector kernels shared by the step path and training: a dot product and y += a·x, 16 lanes at a
// time with a scalar tail (so they take any length, padded or not).

/// The dot product of two float runs, 16 lanes at a time with a scalar tail.
@inline(__always) func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD16<Float>()
    var i = 0
    while i &+ 16 <= n {
        acc = acc.addingProduct(load16(a + i), load16(b + i))
        i &+= 16
    }
    var s = acc.sum()
    while i < n {
        s += a[i] * b[i]
        i &+= 1
    }
    return s
}

/// A scalar that widens to Float as it is read: fp32, or fp16 (half the bytes; widened in registers,
/// arithmetic in fp32), as a weight matrix or a KV cache slot holds it.
protocol StoredScalar: Numeric {
    init(_ value: Float)
    static func widen16(_ p: UnsafePointer<Self>) -> SIMD16<Float>
    var widened: Float { get }
}

extension Float: StoredScalar {
    @inline(__always) static func widen16(_ p: UnsafePointer<Float>) -> SIMD16<Float> { load16(p) }
    @inline(__always) var widened: Float { self }
}

extension Float16: StoredScalar {
    @inline(__always) static func widen16(_ p: UnsafePointer<Float16>) -> SIMD16<Float> { load16(p) }
    @inline(__always) var widened: Float { Float(self) }
}

/// y[i] += a·x[i] over n entries (floats, or halves widened as they are read), 16 lanes at a time with a
/// scalar tail.
@inline(__always) func addScaled<T: StoredScalar>(_ a: Float, _ x: UnsafePointer<T>, into y: UnsafeMutablePointer<Float>, _ n: Int) {
    let av = SIMD16<Float>(repeating: a)
    var i = 0
    while i &+ 16 <= n {
        store16(load16(y + i).addingProduct(av, T.widen16(x + i)), y + i)
        i &+= 16
    }
    while i < n {
        y[i] += a * x[i].widened
        i &+= 1
    }
}

/// out[0 ..< 16n] (+)= Σ_r (coefficients[r]·scale) · row_r[0 ..< 16n], rows at `rows + r·rowStride`, r in
/// order: the attention read's two sums (a head's scores against every slot, over its features; the
/// weighted sum of the window's values, over its slots). The sums are held in registers, four vectors at a
/// time, across all the rows; y += a·x row by row loaded and stored the sums once per row, and those loads
/// and stores were most of the transformer's attention time. The same fused multiply-adds in the same order
/// as that form, so the results are bit for bit the same.
@inline(__always) func accumulateRows<T: StoredScalar>(
    _ rows: UnsafePointer<T>, rowStride: Int, count: Int, coefficients: UnsafePointer<Float>, scale: Float,
    vectors n: Int, into out: UnsafeMutablePointer<Float>, accumulate: Bool
) {
    @inline(__always) func start(_ v: Int) -> SIMD16<Float> { accumulate ? load16(out + 16 * v) : SIMD16<Float>() }
    var v = 0
    while v &+ 4 <= n {
        var (a0, a1, a2, a3) = (start(v), start(v &+ 1), start(v &+ 2), start(v &+ 3))
        var row = rows + 16 * v
        for r in 0..<count {
            let c = SIMD16<Float>(repeating: coefficients[r] * scale)
            a0 = a0.addingProduct(c, T.widen16(row))
            a1 = a1.addingProduct(c, T.widen16(row + 16))
            a2 = a2.addingProduct(c, T.widen16(row + 32))
            a3 = a3.addingProduct(c, T.widen16(row + 48))
            row += rowStride
        }
        store16(a0, out + 16 * v)
        store16(a1, out + 16 * (v &+ 1))
        store16(a2, out + 16 * (v &+ 2))
        store16(a3, out + 16 * (v &+ 3))
        v &+= 4
    }
    while v &+ 2 <= n {
        var (a0, a1) = (start(v), start(v &+ 1))
        var row = rows + 16 * v
        for r in 0..<count {
            let c = SIMD16<Float>(repeating: coefficients[r] * scale)
            a0 = a0.addingProduct(c, T.widen16(row))
            a1 = a1.addingProduct(c, T.widen16(row + 16))
            row += rowStride
        }
        store16(a0, out + 16 * v)
        store16(a1, out + 16 * (v &+ 1))
        v &+= 2
    }
    if v < n {
        var a0 = start(v)
        var row = rows + 16 * v
        for r in 0..<count {
            a0 = a0.addingProduct(SIMD16<Float>(repeating: coefficients[r] * scale), T.widen16(row))
            row += rowStride
        }
        store16(a0, out + 16 * v)
    }
}
