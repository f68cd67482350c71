/// MusicVAE's nine-piece kit: every GM percussion note a groove uses falls into one of kick, snare, closed
/// hi-hat, open hi-hat, low, mid and high tom, crash and ride, and a step's hits are one of the 2⁹
/// combinations (bit k set when class k is struck). Latin and hand percussion go to the class that plays
/// its part in a groove: shakers and guiros keep time with the closed hat, congas and bongos sit with the
/// toms, cowbell, claves and blocks mark the pulse as the ride does.
public enum DrumClasses {
    public static let count = 9
    public static let combinations = 1 << count
    public static let names = ["kick", "snare", "closed hi-hat", "open hi-hat", "low tom", "mid tom", "high tom", "crash", "ride"]
    /// The GM note each class plays back as.
    public static let notes: [UInt8] = [36, 38, 42, 46, 43, 47, 50, 49, 51]
    /// The classes in the order of their notes, lowest first (a step's hits as a note set).
    public static let byNote: [Int] = (0..<count).sorted { notes[$0] < notes[$1] }

    /// The class of a GM percussion note, nil for one no groove here keeps time with (whistles, cuíca).
    public static func drumClass(of note: Int) -> Int? {
        switch note {
        case 35, 36: 0
        case 37, 38, 39, 40: 1
        case 42, 44, 54, 69, 70, 73, 74, 82: 2
        case 46: 3
        case 41, 43, 64: 4
        case 45, 47, 62, 63, 66: 5
        case 48, 50, 60, 61, 65: 6
        case 49, 52, 55, 57: 7
        case 51, 53, 56, 59, 67, 68, 75, 76, 77, 80, 81: 8
        default: nil
        }
    }

    /// The combination of the notes struck on a step.
    public static func combination<S: Sequence>(of notes: S) -> Int where S.Element == Int {
        notes.reduce(0) { bits, note in drumClass(of: note).map { bits | 1 << $0 } ?? bits }
    }

    /// The notes of a combination, lowest first.
    public static func notes(of combination: Int) -> [UInt8] {
        byNote.filter { combination & 1 << $0 != 0 }.map { notes[$0] }
    }
}
