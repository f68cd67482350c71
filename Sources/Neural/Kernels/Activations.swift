import CNeuralKernels
import Foundation

// Element-wise nonlinearities. The 16-lane forms serve the step path (LSTM gates, WaveNet gates, attention
// scores): exp and sigmoid build on one vector exp accurate to about 2 ulp, tanh on a rational fit; all agree
// with libm's to within 3e-7.

/// e^x for 16 lanes: Cody–Waite range reduction x = n·ln2 + r, a degree-6 polynomial for e^r, and 2^n
/// assembled in the exponent bits. Inputs are clamped to the range whose result is a normal float.
@inline(__always) public func exp16(_ x: SIMD16<Float>) -> SIMD16<Float> {
    let xc = pointwiseMin(pointwiseMax(x, SIMD16(repeating: SIDEMAN_EXP_LOW)), SIMD16(repeating: SIDEMAN_EXP_HIGH))
    // n = round(x / ln2) using the 1.5·2^23 shifter: adding it leaves n in the low mantissa bits.
    let shifter = SIMD16<Float>(repeating: 12_582_912)
    let shifted = xc * SIDEMAN_EXP_LOG2E + shifter
    let n = shifted - shifter
    var r = xc - n * SIDEMAN_EXP_LN2_HIGH
    r = r - n * SIDEMAN_EXP_LN2_LOW
    var p = SIMD16<Float>(repeating: SIDEMAN_EXP_C6)
    p = p * r + SIDEMAN_EXP_C5
    p = p * r + SIDEMAN_EXP_C4
    p = p * r + SIDEMAN_EXP_C3
    p = p * r + SIDEMAN_EXP_C2
    p = p * r + SIDEMAN_EXP_C1
    let er = p * (r * r) + r + 1
    // The integer n sits in the low bits of `shifted`; move (n + 127) into the exponent field.
    let nBits = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- unsafeBitCast(shifter, to: SIMD16<Int32>.self)
    // 2^n can underflow at n = -127 after clamping; split it as 2^(n/2)·2^(n - n/2) to stay normal.
    let half = nBits &>> 1
    let scaleA = unsafeBitCast((half &+ 127) &<< 23, to: SIMD16<Float>.self)
    let scaleB = unsafeBitCast((nBits &- half &+ 127) &<< 23, to: SIMD16<Float>.self)
    return er * scaleA * scaleB
}

/// x → e^{2x} in place over n floats (whole vectors), 2x clamped to ±86 so the power is a normal float: the
/// form attention keeps its keys and query in, as tanh(a + b) = 1 − 2 / (e^{2a}·e^{2b} + 1) turns each score
/// term's tanh into a multiply-add and a division (`sideman_attention_scores`). AVX-512 where the CPU has it.
@inline(never) public func applyTanhExponent(_ p: UnsafeMutablePointer<Float>, count n: Int) {
    if sideman_tanh_exponent(p, Int32(n)) == 0 { applyTanhExponentPortable(p, count: n) }
}

/// The Swift form of `applyTanhExponent` (tests check the AVX-512 one against it).
@inline(never) public func applyTanhExponentPortable(_ p: UnsafeMutablePointer<Float>, count n: Int) {
    var i = 0
    while i < n {
        let twice = pointwiseMin(pointwiseMax(2 * load16(p + i), SIMD16(repeating: -86)), SIMD16(repeating: 86))
        store16(exp16(twice), p + i)
        i &+= 16
    }
}

/// 1 / (1 + e^-x): saturates cleanly to 0 and 1 at the extremes, never NaN.
@inline(__always) public func sigmoid16(_ x: SIMD16<Float>) -> SIMD16<Float> {
    1 / (1 + exp16(-x))
}

/// tanh as x·P(x²)/Q(x²) on x clamped to ±7.905: the rational fit in cneuralkernels.h, whose AVX-512 kernels
/// use the same coefficients (within 2.8e-7 of tanh; one division and twelve multiply-adds, no exp).
@inline(__always) public func tanh16(_ x: SIMD16<Float>) -> SIMD16<Float> {
    let clamp = SIMD16<Float>(repeating: SIDEMAN_TANH_CLAMP)
    let xc = pointwiseMin(pointwiseMax(x, -clamp), clamp)
    let s = xc * xc
    var p = SIMD16<Float>(repeating: SIDEMAN_TANH_P6)
    p = p * s + SIDEMAN_TANH_P5
    p = p * s + SIDEMAN_TANH_P4
    p = p * s + SIDEMAN_TANH_P3
    p = p * s + SIDEMAN_TANH_P2
    p = p * s + SIDEMAN_TANH_P1
    p = p * s + SIDEMAN_TANH_P0
    var q = SIMD16<Float>(repeating: SIDEMAN_TANH_Q3)
    q = q * s + SIDEMAN_TANH_Q2
    q = q * s + SIDEMAN_TANH_Q1
    q = q * s + 1
    return xc * p / q
}

/// A gate's sigmoid as 1/2 + tanh(x/2)/2 (within 1.4e-7): an LSTM's or a gated conv's gate needs only the
/// absolute error small. `sigmoid16` stays exact in the far tail for probabilities.
@inline(__always) public func gateSigmoid16(_ x: SIMD16<Float>) -> SIMD16<Float> {
    0.5 * tanh16(0.5 * x) + 0.5
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
