import Foundation

/// Element-wise math for the training passes: vector exp, sigmoid and tanh over whole rows (16 lanes at a
/// time, scalar tails with the same formulas), and small reductions.
enum TrainMath {
    /// e^x to ~2 ulp: the step path's kernel, so training and streaming compute the same function.
    @inline(__always) static func exp(_ x: SIMD16<Float>) -> SIMD16<Float> { exp16(x) }

    @inline(__always) static func sigmoid(_ x: SIMD16<Float>) -> SIMD16<Float> { 1 / (1 + exp(-x)) }

    @inline(__always) static func tanh(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let magnitudeBits = unsafeBitCast(x, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF
        let t = exp(-2 * unsafeBitCast(magnitudeBits, to: SIMD16<Float>.self))
        let m = (1 - t) / (1 + t)
        return m.replacing(with: -m, where: x .< 0)
    }

    @inline(__always) static func sigmoid(_ x: Float) -> Float {
        x >= 0 ? 1 / (1 + Foundation.exp(-x)) : { let e = Foundation.exp(x); return e / (1 + e) }()
    }

    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }

    @inline(__always) static func store(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
    }

    static func applySigmoid(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        while i + 16 <= n { store(sigmoid(load(p + i)), p + i); i += 16 }
        while i < n { p[i] = sigmoid(p[i]); i += 1 }
    }

    static func applyTanh(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        while i + 16 <= n { store(tanh(load(p + i)), p + i); i += 16 }
        while i < n { p[i] = Foundation.tanh(p[i]); i += 1 }
    }

    /// y[i] += x[i]
    static func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        while i + 16 <= n { store(load(y + i) + load(x + i), y + i); i += 16 }
        while i < n { y[i] += x[i]; i += 1 }
    }

    /// y[i] += a·x[i]
    @inline(__always) static func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        addScaled(a, x, into: y, n)
    }

    /// out[j] += Σ_r m[r·n + j] over `rows` rows.
    static func sumRows(_ m: UnsafePointer<Float>, rows: Int, _ n: Int, into out: UnsafeMutablePointer<Float>) {
        for r in 0..<rows { add(m + r * n, into: out, n) }
    }

    /// Σ x² in Double (global-norm clipping sums millions of terms).
    static func sumOfSquares(_ x: UnsafePointer<Float>, _ n: Int) -> Double {
        var acc = SIMD16<Float>()
        var total = 0.0
        var i = 0
        while i + 16 <= n {
            let v = load(x + i)
            acc = acc.addingProduct(v, v)
            i += 16
            if i & 4095 == 0 { total += Double(acc.sum()); acc = SIMD16() }
        }
        total += Double(acc.sum())
        while i < n { total += Double(x[i]) * Double(x[i]); i += 1 }
        return total
    }
}
