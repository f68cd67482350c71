/// Key profiles: how strongly each scale degree (from the tonic) belongs to a major and a minor key.
/// Shared by the real-time key estimator of the listener and the offline key finding of the analysis.
public enum KeyProfile: String, CaseIterable, Sendable {
    /// Krumhansl and Kessler's probe-tone ratings (1982), the original Krumhansl–Schmuckler profiles.
    case krumhanslKessler
    /// Temperley's revision from the Kostka–Payne harmony textbook corpus (2007).
    case temperleyKostkaPayne

    public var major: [Double] {
        switch self {
        case .krumhanslKessler: return [6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88]
        case .temperleyKostkaPayne: return [0.748, 0.060, 0.488, 0.082, 0.670, 0.460, 0.096, 0.715, 0.104, 0.366, 0.057, 0.400]
        }
    }

    public var minor: [Double] {
        switch self {
        case .krumhanslKessler: return [6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17]
        case .temperleyKostkaPayne: return [0.712, 0.084, 0.474, 0.618, 0.049, 0.460, 0.105, 0.747, 0.404, 0.067, 0.133, 0.330]
        }
    }
}
