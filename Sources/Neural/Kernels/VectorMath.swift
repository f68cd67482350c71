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

/// y[i] += a·x[i] over n floats, 16 lanes at a time with a scalar tail.
@inline(__always) func addScaled(_ a: Float, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, _ n: Int) {
    let av = SIMD16<Float>(repeating: a)
    var i = 0
    while i &+ 16 <= n {
        store16(load16(y + i).addingProduct(av, load16(x + i)), y + i)
        i &+= 16
    }
    while i < n {
        y[i] += a * x[i]
        i &+= 1
    }
}
