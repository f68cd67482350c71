/// How hard a part plays on each step of the bar against its own average: a groove's accents (a downbeat
/// leaned on, off-beats lighter), in velocity units, gathered from the onsets of a corpus. What the band
/// preset's parts play as `velocity.accents`, so their dynamics come from the data, not only from jitter.
public struct VelocityAccents: Sendable, Equatable {
    public let stepsPerBar: Int
    private var sums: [Double]
    private var counts: [Int]

    public init(stepsPerBar: Int) {
        self.stepsPerBar = max(1, stepsPerBar)
        sums = [Double](repeating: 0, count: self.stepsPerBar)
        counts = [Int](repeating: 0, count: self.stepsPerBar)
    }

    /// An onset on `step` of its bar (any step: it is taken round the bar), struck at `velocity`.
    public mutating func add(step: Int, velocity: UInt8) {
        let k = ((step % stepsPerBar) + stepsPerBar) % stepsPerBar
        sums[k] += Double(velocity)
        counts[k] += 1
    }

    public var onsets: Int { counts.reduce(0, +) }

    /// Per step of the bar, its mean velocity minus the part's mean over all its onsets (0 on a step with
    /// none), rounded to whole velocity units.
    public var offsets: [Int] {
        let total = counts.reduce(0, +)
        guard total > 0 else { return [Int](repeating: 0, count: stepsPerBar) }
        let mean = sums.reduce(0, +) / Double(total)
        return (0..<stepsPerBar).map { counts[$0] == 0 ? 0 : Int((sums[$0] / Double(counts[$0]) - mean).rounded()) }
    }
}
