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
