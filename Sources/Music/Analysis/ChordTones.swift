/// Share of notes whose pitch class is in the chord sounding at their onset.
public struct ChordTones: Sendable, Equatable {
    public var notes = 0
    public var inChord = 0

    public init() {}

    public init(_ parts: [[TimedNote]], take: BandTake) {
        for note in parts.joined() {
            guard let chord = take.chord(at: note.start) else { continue }
            notes += 1
            if chord.pitchClasses.contains(Int(note.pitch) % 12) { inChord += 1 }
        }
    }

    public var share: Double? { notes == 0 ? nil : Double(inChord) / Double(notes) }

    public static func + (a: Self, b: Self) -> Self {
        var sum = Self()
        sum.notes = a.notes + b.notes
        sum.inChord = a.inChord + b.inChord
        return sum
    }
}
