/// Key finding and key fit for a list of notes, offline (the listener's KeyEstimator does it in real time).
public enum KeyFinding {
    /// The key whose profile best fits the notes' pitch classes, each weighted by its duration in steps
    /// (as the listener weighs what sounds); nil without notes or when every class weighs the same.
    public static func estimateKey(_ notes: [PlacedNote], profile: KeyProfile = .temperleyKostkaPayne) -> Key? {
        var histogram = InlineArray<12, Double>(repeating: 0)
        for note in notes { histogram[Int(note.pitch) % 12] += Double(max(1, note.duration)) }
        return KeyCorrelator(profile: profile).best(histogram)?.key
    }

    /// The share of notes whose pitch class is in the key's scale (natural minor for minor keys), each
    /// note counted once whatever its length; nil without notes.
    ///
    /// The natural-minor scale counts a raised leading tone (G# in A minor) as outside the key; folk and
    /// chorale minor tunes use it, so minor keys score a little lower than major ones by construction.
    public static func inKeyShare(_ notes: [PlacedNote], key: Key) -> Double? {
        KeyFit(notes, key: key).share
    }
}

/// Notes in a key, counted so that pieces pool: the share over a corpus is every in-key note over every
/// note, not a mean of per-piece shares (which would let a 16-note tune weigh as much as a 700-note one).
public struct KeyFit: Sendable, Equatable {
    public var inKey = 0
    public var notes = 0

    public init() {}

    public init(_ notes: [PlacedNote], key: Key) {
        let scale = key.scale
        self.notes = notes.count
        inKey = notes.reduce(0) { $0 + (scale.contains(Int($1.pitch) % 12) ? 1 : 0) }
    }

    public var share: Double? { notes == 0 ? nil : Double(inKey) / Double(notes) }

    public static func + (a: KeyFit, b: KeyFit) -> KeyFit {
        var sum = KeyFit()
        sum.inKey = a.inKey + b.inKey
        sum.notes = a.notes + b.notes
        return sum
    }
}
