import Neural

// The tests draw from the project's own SplitMix64 (Neural), seeded, so a failing fuzz or property run
// replays exactly from the seed in its message, on every machine.
public typealias SplitMix64 = Neural.SplitMix64

extension Neural.SplitMix64 {
    /// Uniform in -1...1 (timing jitter and the like).
    public mutating func jitter() -> Double { Double(next() >> 11) / Double(1 << 52) - 1 }
}
