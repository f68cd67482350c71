/// Melody events as class indices, the layout the event models use: 0 = NO_EVENT, 1 = NOTE_OFF,
/// 2 + pitch = NOTE_ON(pitch) for all 128 MIDI pitches (130 classes). Transposing moves only indices ≥ 2.
public enum EventVocabulary {
    public static let classes = 130
    public static let firstPitchIndex = 2

    public static func index(of event: MelodyEvent) -> Int {
        switch event {
        case .noEvent: 0
        case .noteOff: 1
        case .noteOn(let p): firstPitchIndex + Int(p)
        }
    }

    /// The event of a class index, nil outside 0 ..< 130.
    public static func event(at index: Int) -> MelodyEvent? {
        switch index {
        case 0: .noEvent
        case 1: .noteOff
        case 2..<classes: .noteOn(UInt8(index - firstPitchIndex))
        default: nil
        }
    }

    public static func indices(_ melody: Melody) -> [Int] { melody.events.map(index(of:)) }
}
