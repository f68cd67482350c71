import Foundation

// Element-wise nonlinearities. The 16-lane forms serve the step path (LSTM gates, WaveNet gates, attention
// scores); they build on one vector exp accurate to about 2 ulp, so results agree with libm's to ~1e-7.

/// e^x for 16 lanes: Cody–Waite range reduction x = n·ln2 + r, a degree-6 polynomial for e^r, and 2^n
/// assembled in the exponent bits. Inputs are clamped to the range whose result is a normal float.
@inline(__always) public func exp16(_ x: SIMD16<Float>) -> SIMD16<Float> {
    let xc = pointwiseMin(pointwiseMax(x, SIMD16(repeating: -87.33)), SIMD16(repeating: 88.37))
    // n = round(x / ln2) using the 1.5·2^23 shifter: adding it leaves n in the low mantissa bits.
    let shifter = SIMD16<Float>(repeating: 12_582_912)
    let shifted = xc * 1.442_695_04 + shifter
    let n = shifted - shifter
    var r = xc - n * 0.693_359_375
    r = r + n * 2.121_944_4e-4
    var p = SIMD16<Float>(repeating: 1.987_569_15e-4)
    p = p * r + 1.398_199_95e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_59e-2
    p = p * r + 1.666_666_55e-1
    p = p * r + 5.000_000_12e-1
    let er = p * (r * r) + r + 1
    // The integer n sits in the low bits of `shifted`; move (n + 127) into the exponent field.
    let nBits = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- unsafeBitCast(shifter, to: SIMD16<Int32>.self)
    // 2^n can underflow at n = -127 after clamping; split it as 2^(n/2)·2^(n - n/2) to stay normal.
    let half = nBits &>> 1
    let scaleA = unsafeBitCast((half &+ 127) &<< 23, to: SIMD16<Float>.self)
    let scaleB = unsafeBitCast((nBits &- half &+ 127) &<< 23, to: SIMD16<Float>.self)
    return er * scaleA * scaleB
}

/// 1 / (1 + e^-x): saturates cleanly to 0 and 1 at the extremes, never NaN.
@inline(__always) public func sigmoid16(_ x: SIMD16<Float>) -> SIMD16<Float> {
    1 / (1 + exp16(-x))
}

/// tanh through e^{-2|x|}, which never overflows, with the sign restored afterwards.
@inline(__always) public func tanh16(_ x: SIMD16<Float>) -> SIMD16<Float> {
    let t = exp16(-2 * abs(x))
    let magnitude = (1 - t) / (1 + t)
    // Copy x's sign bit onto the magnitude (bit operations: the stdlib's masked replace is not vectorised).
    let sign = unsafeBitCast(x, to: SIMD16<UInt32>.self) & 0x8000_0000
    return unsafeBitCast(unsafeBitCast(magnitude, to: SIMD16<UInt32>.self) | sign, to: SIMD16<Float>.self)
}

@inline(__always) func abs(_ x: SIMD16<Float>) -> SIMD16<Float> {
    unsafeBitCast(unsafeBitCast(x, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF, to: SIMD16<Float>.self)
}

/// Scalar forms with the same formulas, for tails and for plain reference code.
@inline(__always) public func sigmoid(_ x: Float) -> Float {
    x >= 0 ? 1 / (1 + expf(-x)) : { let e = expf(x); return e / (1 + e) }()
}

/// In place over n floats (n rounded up to whole vectors: the buffer padding is computed and ignored).
@inline(never) public func applySigmoid(_ p: UnsafeMutablePointer<Float>, count n: Int) {
    var i = 0
    while i < n { store16(sigmoid16(load16(p + i)), p + i); i &+= 16 }
}

@inline(never) public func applyTanh(_ p: UnsafeMutablePointer<Float>, count n: Int) {
    var i = 0
    while i < n { store16(tanh16(load16(p + i)), p + i); i &+= 16 }
}

@inline(never) public func applyReLU(_ p: UnsafeMutablePointer<Float>, count n: Int) {
    var i = 0
    while i < n { store16(pointwiseMax(load16(p + i), SIMD16(repeating: 0)), p + i); i &+= 16 }
}

/// Softmax of `logits` / temperature into `out`, subtracting the maximum first so no exponent overflows.
public func softmax(
    _ logits: UnsafePointer<Float>, count n: Int, temperature: Float = 1, into out: UnsafeMutablePointer<Float>
) {
    var m = -Float.infinity
    for i in 0..<n { m = max(m, logits[i]) }
    var total: Float = 0
    for i in 0..<n {
        let e = expf((logits[i] - m) / temperature)
        out[i] = e
        total += e
    }
    let scale = 1 / total
    for i in 0..<n { out[i] *= scale }
}

/// log softmax: x - max - log Σ e^(x - max), exact for very negative entries where log(softmax) is -inf.
public func logSoftmax(_ logits: UnsafePointer<Float>, count n: Int, into out: UnsafeMutablePointer<Float>) {
    var m = -Float.infinity
    for i in 0..<n { m = max(m, logits[i]) }
    var total: Float = 0
    for i in 0..<n { total += expf(logits[i] - m) }
    let shift = m + logf(total)
    for i in 0..<n { out[i] = logits[i] - shift }
}
