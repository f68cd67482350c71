/// How comping sounds in time: note lengths (short stabs or pads held across the changes) and how
/// often a new chord is struck.
public struct CompingRhythm: Sendable, Equatable {
    public var notes = 0
    /// Sum of note lengths, in 16ths.
    public var sixteenths = 0.0
    /// Notes held a bar or more (to the nearest 16th).
    public var heldBar = 0
    /// Distinct onset steps (nearest 16th), over all the song's bars.
    public var onsets = 0
    public var bars = 0

    public init() {}

    public init(_ parts: [[TimedNote]], grid: StepGrid) {
        bars = grid.bars
        var steps = Set<Int>()
        for note in parts.joined() {
            notes += 1
            let length = note.duration / grid.secondsPerStep
            sixteenths += length
            if length.rounded() >= Double(grid.stepsPerBar) { heldBar += 1 }
            steps.insert(grid.step(note.start))
        }
        onsets = steps.count
    }

    public var meanSixteenths: Double? { notes == 0 ? nil : sixteenths / Double(notes) }
    public var heldBarShare: Double? { notes == 0 ? nil : Double(heldBar) / Double(notes) }
    public var onsetsPerBar: Double? { bars == 0 ? nil : Double(onsets) / Double(bars) }

    public static func + (a: Self, b: Self) -> Self {
        var sum = Self()
        sum.notes = a.notes + b.notes
        sum.sixteenths = a.sixteenths + b.sixteenths
        sum.heldBar = a.heldBar + b.heldBar
        sum.onsets = a.onsets + b.onsets
        sum.bars = a.bars + b.bars
        return sum
    }
}
