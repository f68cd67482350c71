/// A key as a tonic pitch class and a mode.
public struct Key: Hashable, Sendable, CustomStringConvertible {
    public enum Mode: String, Sendable { case major, minor }

    /// 0 = C ... 11 = B.
    public var tonic: Int
    public var mode: Mode

    public init(tonic: Int, mode: Mode) {
        self.tonic = ((tonic % 12) + 12) % 12
        self.mode = mode
    }

    static let sharpNames = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]

    public var description: String { "\(Self.sharpNames[tonic]) \(mode.rawValue)" }

    /// Parses names such as "G major", "F# minor", "Bb major", "E- minor" (music21 writes flats as '-').
    public init?(name: String) {
        let words = name.split(separator: " ")
        guard words.count == 2, let mode = Mode(rawValue: words[1].lowercased()) else { return nil }
        var letters = Array(words[0])
        guard let first = letters.first, let base = "C D EF G A B".firstIndex(of: Character(first.uppercased())) else {
            return nil
        }
        var pc = "C D EF G A B".distance(from: "C D EF G A B".startIndex, to: base)
        letters.removeFirst()
        for accidental in letters {
            switch accidental {
            case "#": pc += 1
            case "b", "-": pc -= 1
            default: return nil
            }
        }
        self.init(tonic: pc, mode: mode)
    }

    /// Pitch classes of the key's scale (natural minor for minor keys).
    public var scale: Set<Int> {
        let steps = mode == .major ? [0, 2, 4, 5, 7, 9, 11] : [0, 2, 3, 5, 7, 8, 10]
        return Set(steps.map { ($0 + tonic) % 12 })
    }
}
