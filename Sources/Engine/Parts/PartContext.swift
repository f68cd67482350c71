import Music
import Neural

/// What a part hears when it decides a step: the player through the current step and every other part
/// through the previous one (docs/DESIGN-NOTES.md §5, multi-part conditioning).
///
/// Conditioning enters in up to two ways. A conditioned model (`condition` in its metadata, trained with
/// `sideman train --condition`) takes the player's soprano or harmony on the step as inputs (`conditionUnits`).
/// Every part also gets a bias on the step's logits before sampling — pitches that fit the player's chord and
/// key are favoured, pitches outside the key discouraged, a counter-melody avoids the pitches the player and
/// the band hold — which is all an unconditioned model hears of the player. The continuation is conditioned
/// the direct way instead: it is primed with the player's phrase.
public struct PartContext: Equatable, Sendable {
    /// The player's strikes on the step being decided (so far).
    public var playerStruck = PitchSet()
    /// Where a groove drummer heads (the groove controller), nil while none was moved.
    public var grooveTarget: Double? = nil
    /// What the player holds now.
    public var playerSounding = PitchSet()
    /// Pitch classes of the listener's chord (bit k = class k), 0 when none is heard.
    public var chordClasses: UInt16 = 0
    /// The chord's bass pitch class.
    public var chordBass: Int? = nil
    /// The chord's root pitch class.
    public var chordRoot: Int? = nil
    /// On the last beat of a bar: the chord the next bar is expected to open with (the player's loop, else
    /// the chord now), as its root and pitch classes; nil elsewhere and when none is known.
    public var nextBarChordRoot: Int? = nil
    public var nextBarChordClasses: UInt16 = 0
    /// The player's chord is another than on the band's previous harmony step: a change, on this step.
    public var chordChanged = false
    /// Pitch classes of the listener's key, 0 when none is known yet.
    public var keyClasses: UInt16 = 0
    /// What all the other parts sounded in the previous step.
    public var bandPrevious = PitchSet()
    /// The player struck a note on the step before this one (their rhythm, for a rhythm-conditioned part).
    public var playerStruckBefore = false
    /// The step's place in its bar (0 on the downbeat), in 16ths, and the bar's length (the preset's meter).
    public var stepInBar = 0
    public var stepsPerBar = 16
    /// The style the band plays: its number in the band's StyleBank, nil for none.
    public var style: Int? = nil
    /// The step being decided, counted on the band's grid (a band model's decoder tells its steps apart).
    public var step: Int64 = 0

    public init() {}

    /// The player's melody note on the step: the highest note struck on it, else the highest held.
    public var melodyNote: UInt8? { playerStruck.highest ?? playerSounding.highest }

    /// Writes the condition units a conditioned model takes for this step into `input` at `offset`: the
    /// melody note's piano unit (soprano), or the chord's pitch classes (harmony; with the step's place in
    /// the bar for harmony_beat). Nothing when there is none, as the training data has no unit on a resting
    /// soprano or a step without a chord.
    /// `style`: the part's own model unit for the band's style.
    func conditionUnits(_ kind: Conditioning, style: Int? = nil, offset: Int, into input: inout FeatureList) {
        kind.appendUnits(
            melodyUnit: melodyNote.map { Int($0) - PartVocabulary.lowestPianoNote }, pitchClasses: chordClasses,
            stepInBar: stepInBar, playerStruckBefore: playerStruckBefore, style: style, offset: offset, to: &input)
    }

    /// The chord as MidiNet takes it (root, and minor when its third is minor), nil when none is heard.
    var midiNetChord: MidiNetChord? { Self.midiNetChord(root: chordRoot, classes: chordClasses) }
    var nextBarMidiNetChord: MidiNetChord? { Self.midiNetChord(root: nextBarChordRoot, classes: nextBarChordClasses) }

    static func midiNetChord(root: Int?, classes: UInt16) -> MidiNetChord? {
        guard let root else { return nil }
        let minorThird = classes & (1 << ((root + 3) % 12)) != 0, majorThird = classes & (1 << ((root + 4) % 12)) != 0
        return MidiNetChord(root: root, minor: minorThird && !majorThird)
    }

    /// Scale classes of a key: major or natural minor.
    public static func scaleClasses(_ key: Key) -> UInt16 {
        let pattern: UInt32 = key.mode == .major ? 0xAB5 : 0x5AD
        let rotated = (pattern << UInt32(key.tonic % 12)) | (pattern >> UInt32(12 - key.tonic % 12))
        return UInt16(rotated & 0xFFF)
    }

    /// Logit bias per pitch class for a role, written into `weights` (12 entries). Values are in nats: +1
    /// makes a pitch e (~2.7) times likelier.
    func classWeights(for role: PartRole, into weights: UnsafeMutablePointer<Float>) {
        let player = playerSounding.union(playerStruck).pitchClasses
        let band = bandPrevious.pitchClasses
        for pc in 0..<12 {
            let bit = UInt16(1) << UInt16(pc)
            var w: Float = 0
            let inKey = keyClasses == 0 || keyClasses & bit != 0
            switch role {
            case .continuation, .variation, .lead:
                if !inKey { w -= 0.5 }
            case .voice, .voices, .counterMelody:
                if chordClasses & bit != 0 { w += 1 }
                if player & bit != 0 { w += 0.5 }
                if band & bit != 0 { w += 0.25 }
                if !inKey { w -= 1 }
            case .bass:
                // A bass player plays the chord's root, whatever inversion the keyboard voices (the band
                // data's bass is on the root at 79% of downbeats; the player's lowest note often is not);
                // a bass note the player asks for (a slash chord) is pulled too, less.
                if chordRoot == pc { w += 2.5 } else if chordBass == pc { w += 1.25 } else if chordClasses & bit != 0 { w += 0.75 }
                if player & bit != 0 { w += 0.25 }
                if !inKey { w -= 1.5 }
            case .chords:
                if chordClasses & bit != 0 { w += 1 } else if chordClasses != 0 { w -= 0.5 }
                if band & bit != 0 { w += 0.25 }
                if !inKey { w -= 1.5 }
            case .drums:
                break
            }
            weights[pc] = w
        }
    }
}
