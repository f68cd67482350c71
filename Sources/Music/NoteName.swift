/// MIDI note names as musicians write them: a letter, sharps (#) or flats (b), and the octave, with
/// middle C (60) as C4: "F#3" is 54, "Bb2" 46, "C-1" 0, "G9" 127.
public enum NoteName {
    static let letters = "C D EF G A B"
    static let sharpNames = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]

    /// The MIDI note `name` names, or nil for anything else (or a note outside 0...127).
    public static func midiNote(_ name: String) -> Int? {
        var chars = Substring(name)
        guard let letter = chars.first, let at = letters.firstIndex(of: Character(letter.uppercased())), letter != " " else {
            return nil
        }
        var pc = letters.distance(from: letters.startIndex, to: at)
        chars = chars.dropFirst()
        while let accidental = chars.first, accidental == "#" || accidental == "b" {
            pc += accidental == "#" ? 1 : -1
            chars = chars.dropFirst()
        }
        guard let octave = Int(chars) else { return nil }
        let note = (octave + 1) * 12 + pc
        return (0...127).contains(note) ? note : nil
    }

    /// "F#3" for 54 (sharps, middle C = C4).
    public static func name(of note: Int) -> String {
        return sharpNames[((note % 12) + 12) % 12] + "\(note / 12 - 1)"
    }
}
