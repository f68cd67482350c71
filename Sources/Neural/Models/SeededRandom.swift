import Foundation

/// xoshiro256** seeded through SplitMix64: a small, fast, fully deterministic generator, so the same seed
/// gives the same notes on every machine and every run (the system generator would not).
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    public mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    /// Uniform in [0, 1) with 24 random bits: every value is exactly representable as a Float.
    public mutating func nextUnit() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// Uniform in [a, b).
    public mutating func uniform(_ a: Float, _ b: Float) -> Float { a + (b - a) * nextUnit() }

    /// Standard normal by Box–Muller (one of the pair; weight init only, not the step path).
    public mutating func normal() -> Float {
        let u1 = max(nextUnit(), 1e-12), u2 = nextUnit()
        return (-2 * logf(u1)).squareRoot() * cosf(2 * .pi * u2)
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}
