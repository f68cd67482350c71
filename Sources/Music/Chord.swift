/// A chord symbol as a root pitch class and the intervals above it.
public struct ChordSymbol: Hashable, Sendable, CustomStringConvertible {
    public var root: Int
    /// Semitones above the root, ascending, root (0) included.
    public var intervals: [Int]
    public var suffix: String

    /// Qualities by the suffix MMA and most lead sheets use.
    static let qualities: [String: [Int]] = [
        "": [0, 4, 7], "m": [0, 3, 7], "7": [0, 4, 7, 10], "maj7": [0, 4, 7, 11], "m7": [0, 3, 7, 10],
        "m7b5": [0, 3, 6, 10], "dim": [0, 3, 6], "dim7": [0, 3, 6, 9], "aug": [0, 4, 8], "sus4": [0, 5, 7],
        "sus2": [0, 2, 7], "6": [0, 4, 7, 9], "m6": [0, 3, 7, 9], "9": [0, 4, 7, 10, 14],
    ]

    public init?(name: String) {
        let chars = Array(name)
        guard let first = chars.first, let letter = "C D EF G A B".firstIndex(of: first) else { return nil }
        var root = "C D EF G A B".distance(from: "C D EF G A B".startIndex, to: letter)
        var i = 1
        while i < chars.count, chars[i] == "#" || chars[i] == "b" {
            root += chars[i] == "#" ? 1 : -1
            i += 1
        }
        let suffix = String(chars[i...])
        guard let intervals = Self.qualities[suffix] else { return nil }
        self.root = ((root % 12) + 12) % 12
        self.intervals = intervals
        self.suffix = suffix
    }

    public var pitchClasses: Set<Int> { Set(intervals.map { ($0 + root) % 12 }) }
    public var description: String { "\(Key.sharpNames[root])\(suffix)" }
}
