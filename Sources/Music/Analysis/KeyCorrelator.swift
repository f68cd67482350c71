/// Krumhansl–Schmuckler key finding on a pitch-class histogram: the key is the one of 24 whose profile
/// correlates best with the histogram. Allocation-free, so the listener's real-time estimator and the
/// offline analysis share it.
public struct KeyCorrelator: Sendable {
    /// The profiles centred and scaled to unit norm, so a correlation is one dot product.
    private let major: InlineArray<12, Double>
    private let minor: InlineArray<12, Double>

    public init(profile: KeyProfile = .temperleyKostkaPayne) {
        major = Self.normalise(profile.major)
        minor = Self.normalise(profile.minor)
    }

    private static func normalise(_ p: [Double]) -> InlineArray<12, Double> {
        let mean = p.reduce(0, +) / 12
        let norm = p.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }.squareRoot()
        var out = InlineArray<12, Double>(repeating: 0)
        for i in 0..<12 { out[i] = (p[i] - mean) / norm }
        return out
    }

    /// The best key and its correlation, and the correlation of `current` (-2 when nil); nil when the
    /// histogram is flat (silence, or every class equally), which names no key.
    public func best(
        _ histogram: InlineArray<12, Double>, current: Key? = nil
    ) -> (key: Key, correlation: Double, currentCorrelation: Double)? {
        var mean = 0.0
        for pc in 0..<12 { mean += histogram[pc] }
        mean /= 12
        var norm = 0.0
        for pc in 0..<12 { norm += (histogram[pc] - mean) * (histogram[pc] - mean) }
        norm = norm.squareRoot()
        guard norm > 0 else { return nil }
        var best = -2.0
        var bestKey = Key(tonic: 0, mode: .major)
        var currentCorrelation = -2.0
        for tonic in 0..<12 {
            var major = 0.0
            var minor = 0.0
            for i in 0..<12 {
                let h = histogram[(tonic + i) % 12] - mean
                major += h * self.major[i]
                minor += h * self.minor[i]
            }
            major /= norm
            minor /= norm
            if major > best {
                best = major
                bestKey = Key(tonic: tonic, mode: .major)
            }
            if minor > best {
                best = minor
                bestKey = Key(tonic: tonic, mode: .minor)
            }
            if let current, current.tonic == tonic { currentCorrelation = current.mode == .major ? major : minor }
        }
        return (bestKey, best, currentCorrelation)
    }
}
