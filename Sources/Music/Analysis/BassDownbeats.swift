/// What a musician hears first from a bass player: the chord's root on the downbeat. Counted at the
/// downbeats of the bars given (the bars where the song's real bass plays), so a bass that stays silent
/// there counts as missing the root.
public struct BassDownbeats: Sendable, Equatable {
    public var downbeats = 0
    /// Downbeats whose bass note has the root pitch class of the bar's first chord.
    public var onRoot = 0
    /// Downbeats where the root changes from the step before (C to Am, not C to Cmaj7).
    public var changes = 0
    /// Changes at which the bass plays the root of the chord before: the change heard late.
    public var previousRootAtChanges = 0

    public init() {}

    /// `bars`: the bars to count. The note heard at a downbeat is the lowest struck within half a 16th of
    /// it, or, failing that, the lowest held into it and sounding through that half step.
    public init(bass: [[TimedNote]], take: BandTake, bars: [Int]) {
        let notes = bass.flatMap { $0 }
        for bar in bars {
            let step = bar * take.grid.stepsPerBar
            guard take.chordPerStep.indices.contains(step), let chord = take.chordPerStep[step] else { continue }
            downbeats += 1
            let note = Self.note(notes, at: take.grid.seconds(atStep: step), halfStep: take.grid.secondsPerStep / 2)
            let pitchClass = note.map { Int($0.pitch) % 12 }
            if pitchClass == chord.root { onRoot += 1 }
            if step > 0, let before = take.chordPerStep[step - 1], before.root != chord.root {
                changes += 1
                if pitchClass == before.root { previousRootAtChanges += 1 }
            }
        }
    }

    /// The note a listener hears at `time`: struck within `halfStep` of it, else held through the half step after it.
    public static func note(_ notes: [TimedNote], at time: Double, halfStep: Double) -> TimedNote? {
        let struck = notes.filter { abs($0.start - time) <= halfStep }
        if let lowest = struck.min(by: { $0.pitch < $1.pitch }) { return lowest }
        return notes.filter { $0.start < time && $0.end > time + halfStep }.min { $0.pitch < $1.pitch }
    }

    /// The bars in which any of the notes starts.
    public static func bars(playedBy parts: [[TimedNote]], grid: StepGrid) -> [Int] {
        Set(parts.joined().map { grid.step($0.start) / grid.stepsPerBar }).sorted()
    }

    public var rootShare: Double? { downbeats == 0 ? nil : Double(onRoot) / Double(downbeats) }
    public var previousRootShare: Double? { changes == 0 ? nil : Double(previousRootAtChanges) / Double(changes) }

    public static func + (a: Self, b: Self) -> Self {
        var sum = Self()
        sum.downbeats = a.downbeats + b.downbeats
        sum.onRoot = a.onRoot + b.onRoot
        sum.changes = a.changes + b.changes
        sum.previousRootAtChanges = a.previousRootAtChanges + b.previousRootAtChanges
        return sum
    }
}
