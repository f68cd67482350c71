import Music

/// Chord qualities the listener recognises, with their intervals above the root.
public enum ChordQuality: String, CaseIterable, Sendable {
    case major = ""
    case minor = "m"
    case diminished = "dim"
    case augmented = "aug"
    case suspendedFourth = "sus4"
    case dominantSeventh = "7"
    case majorSeventh = "maj7"
    case minorSeventh = "m7"
    case halfDiminishedSeventh = "m7b5"
    case diminishedSeventh = "dim7"

    public var intervals: [Int] {
        switch self {
        case .major: return [0, 4, 7]
        case .minor: return [0, 3, 7]
        case .diminished: return [0, 3, 6]
        case .augmented: return [0, 4, 8]
        case .suspendedFourth: return [0, 5, 7]
        case .dominantSeventh: return [0, 4, 7, 10]
        case .majorSeventh: return [0, 4, 7, 11]
        case .minorSeventh: return [0, 3, 7, 10]
        case .halfDiminishedSeventh: return [0, 3, 6, 10]
        case .diminishedSeventh: return [0, 3, 6, 9]
        }
    }

    /// The intervals as a pitch-class bit mask on root 0 (written out: the listener reads it on the
    /// real-time path, where `intervals`' array would allocate).
    public var mask: UInt16 {
        switch self {
        case .major: return 0b0000_1001_0001
        case .minor: return 0b0000_1000_1001
        case .diminished: return 0b0000_0100_1001
        case .augmented: return 0b0001_0001_0001
        case .suspendedFourth: return 0b0000_1010_0001
        case .dominantSeventh: return 0b0100_1001_0001
        case .majorSeventh: return 0b1000_1001_0001
        case .minorSeventh: return 0b0100_1000_1001
        case .halfDiminishedSeventh: return 0b0100_0100_1001
        case .diminishedSeventh: return 0b0010_0100_1001
        }
    }
}

/// A chord: root and quality, with the bass pitch class (the bass differs from the root in inversions).
public struct Chord: Hashable, Sendable, CustomStringConvertible {
    public var root: Int
    public var quality: ChordQuality
    public var bass: Int

    public init(root: Int, quality: ChordQuality, bass: Int? = nil) {
        self.root = ((root % 12) + 12) % 12
        self.quality = quality
        self.bass = (((bass ?? root) % 12) + 12) % 12
    }

    /// Pitch classes of the chord as a bit mask.
    public var pitchClasses: UInt16 { Self.transposed(quality.mask, to: root) }

    /// Whether every pitch class in `classes` is a tone of the chord (none is: true).
    public func contains(pitchClasses classes: UInt16) -> Bool { classes & ~pitchClasses == 0 }

    /// A pitch-class mask on root 0 moved up to `root` (0...11).
    static func transposed(_ mask: UInt16, to root: Int) -> UInt16 {
        let m = UInt32(mask) << UInt32(root)
        return UInt16((m | m >> 12) & 0xFFF)
    }

    static let names = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]

    /// "C", "Am7", "G7/B".
    public var description: String {
        let name = Self.names[root] + quality.rawValue
        return bass == root ? name : name + "/" + Self.names[bass]
    }
}

extension Chord {
    /// The same chord as a lead-sheet symbol (the vocabulary of the band corpus), without the bass.
    /// Builds a string: for the engine's thread between steps or for reports, not per event.
    public var symbol: ChordSymbol? { ChordSymbol(name: Self.names[root] + quality.rawValue) }
}
