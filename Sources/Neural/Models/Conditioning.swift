/// What a conditioned model is told about the step it predicts, beside its own previous output: the inputs
/// that make a part follow the player instead of only hearing itself (docs/DESIGN-NOTES.md §5, multi-part conditioning).
/// The condition's units follow the family's base input: input index = base input size + condition unit.
public enum Conditioning: String, Sendable, CaseIterable {
    /// The melody note sounding on the step (chorale: the soprano the player sings or plays), one-hot over
    /// the 88 piano units (unit 0 = MIDI 21); no unit when the melody rests.
    case soprano
    /// The pitch classes of the chord on the step (band: the player's harmony), multi-hot over 12 classes
    /// (0 = C); no unit when no chord is known.
    case harmony
    /// The harmony's 12 pitch classes, then the step's place in the bar one-hot (12 + step, steps of a bar
    /// counted from its downbeat, up to 32): a band part that knows where the downbeat is.
    case harmonyAndBeat = "harmony_beat"
    /// harmony_beat, then one unit when the player struck on the step before (12 + 32): a drummer that
    /// hears the player's comping rhythm, which tells a cha-cha from a rock bar (the band corpus's player is
    /// each song's chord track).
    case harmonyBeatAndRhythm = "harmony_beat_rhythm"
    /// harmony_beat, then one unit for the style the part plays (12 + 32 + style): the groove family it
    /// learned from the band corpus (metadata `styles` names them in unit order), none when no style is
    /// chosen. Trained with the style left out of some pieces, so the part also plays without one.
    case harmonyBeatAndStyle = "harmony_beat_style"
    /// The step's place in its bar alone, one-hot over 32 (a melody that knows where the downbeat is, as
    /// the Lookback RNN's clock tells it); no unit where the meter is unknown.
    case beat

    public static let pianoUnits = 88
    /// Styles a style-conditioned model can tell apart: as many as a program change can pick.
    public static let styleUnits = 128
    /// Steps of a bar the beat units can tell apart (a bar of 8/4 in 16ths); later steps share the last unit.
    public static let beatUnits = 32

    /// Units the condition adds to the input.
    public var size: Int {
        switch self {
        case .soprano: Self.pianoUnits
        case .harmony: 12
        case .harmonyAndBeat: 12 + Self.beatUnits
        case .harmonyBeatAndRhythm: 12 + Self.beatUnits + 1
        case .harmonyBeatAndStyle: Self.firstStyleUnit + Self.styleUnits
        case .beat: Self.beatUnits
        }
    }

    /// Where a style-conditioned model's style units start in its condition.
    public static let firstStyleUnit = 12 + beatUnits

    /// The condition reads a style.
    public var hasStyles: Bool { self == .harmonyBeatAndStyle }

    /// A condition unit moved with the music by `semitones`: a piano unit shifts (nil when it leaves the
    /// keyboard), a pitch class turns around the octave.
    public func transposed(_ unit: Int, by semitones: Int) -> Int? {
        switch self {
        case .soprano:
            let moved = unit + semitones
            return moved >= 0 && moved < Self.pianoUnits ? moved : nil
        case .harmony, .harmonyAndBeat, .harmonyBeatAndRhythm, .harmonyBeatAndStyle:
            // The beat, rhythm and style units do not move with the music.
            return unit < 12 ? ((unit + semitones) % 12 + 12) % 12 : unit
        case .beat:
            return unit
        }
    }

    /// Reads the metadata key `condition` (absent: an unconditioned model).
    public init?(metadata: [String: String]) throws(WeightsError) {
        guard let text = metadata["condition"], text != "none" else { return nil }
        guard let kind = Conditioning(rawValue: text) else {
            throw WeightsError("metadata condition = \(text) is not soprano, harmony, harmony_beat, harmony_beat_rhythm, harmony_beat_style or beat")
        }
        self = kind
    }

    /// The styles a style-conditioned model learned, in unit order, from the metadata key `styles` (names
    /// joined by commas); empty for any other condition.
    public func styleNames(metadata: [String: String]) throws(WeightsError) -> [String] {
        guard hasStyles else { return [] }
        guard let text = metadata["styles"] else { throw WeightsError("metadata condition = \(rawValue) but no styles") }
        let names = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard names.count <= Self.styleUnits, !names.contains(where: \.isEmpty), Set(names).count == names.count else {
            throw WeightsError("metadata styles must be 1 to \(Self.styleUnits) distinct names joined by commas")
        }
        return names
    }

    /// Appends one step's condition units at `offset` (the base input size): the melody's piano unit
    /// (soprano), or the chord's pitch classes (bit k = class k) and, for harmony_beat, the step's place in
    /// its bar (and for harmony_beat_rhythm whether the player struck on the step before, for
    /// harmony_beat_style the style's unit). Nothing for a resting melody, an unknown chord or no style, as in
    /// the training data. Never allocates.
    public func appendUnits(
        melodyUnit: Int?, pitchClasses: UInt16, stepInBar: Int, playerStruckBefore: Bool = false, style: Int? = nil,
        offset: Int, to input: inout FeatureList
    ) {
        switch self {
        case .soprano:
            if let unit = melodyUnit, unit >= 0, unit < Self.pianoUnits { input.append(offset + unit) }
        case .harmony, .harmonyAndBeat, .harmonyBeatAndRhythm, .harmonyBeatAndStyle:
            for pc in 0..<12 where pitchClasses & (UInt16(1) << UInt16(pc)) != 0 { input.append(offset + pc) }
            if self != .harmony { input.append(offset + 12 + min(max(stepInBar, 0), Self.beatUnits - 1)) }
            if self == .harmonyBeatAndRhythm, playerStruckBefore { input.append(offset + 12 + Self.beatUnits) }
            if self == .harmonyBeatAndStyle, let style, (0..<Self.styleUnits).contains(style) {
                input.append(offset + Self.firstStyleUnit + style)
            }
        case .beat:
            input.append(offset + min(max(stepInBar, 0), Self.beatUnits - 1))
        }
    }
}
