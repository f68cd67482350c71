import Neural

/// How a part's model speaks, exactly as `sideman train` encodes its data (Music's EventVocabulary and
/// TrainingCorpus): melody events — 0 NO_EVENT, 1 NOTE_OFF, 2 + pitch NOTE_ON, 130 classes under a softmax,
/// the model fed the previous event — or note sets — 88 piano units (unit 0 = MIDI 21; drums are GM drum
/// notes in the same units) under a multi-hot head or an ascending pitch chain (88 units + END, plus the NADE
/// chain's hidden inputs for nade_chain), the model fed the previous frame's units.
public enum PartVocabulary: String, Equatable, Sendable {
    case events
    case noteSets = "note sets"

    public static let eventClasses = 130
    public static let firstPitchIndex = 2
    public static let pianoUnits = 88
    public static let lowestPianoNote = 21

    /// The vocabulary of a loaded model, or why no part can play it.
    public static func of(_ model: any StreamingModel) throws(WeightsError) -> PartVocabulary {
        switch model.head {
        case .softmax where model.outputSize == eventClasses: return .events
        case .multiHot where model.outputSize == pianoUnits: return .noteSets
        case .pitchChain where model.outputSize == pianoUnits + 1: return .noteSets
        case .nadeChain where model.headUnits == pianoUnits: return .noteSets
        default:
            throw WeightsError(
                "has \(model.outputSize) \(model.head.rawValue) outputs; a part plays a melody event model "
                    + "(\(eventClasses) softmax) or a note-set model (\(pianoUnits) multi_hot, \(pianoUnits + 1) pitch_chain, or \(pianoUnits) units of nade_chain)")
        }
    }

    /// What a role needs: lines (continuation, voice, counter-melody, bass) are events; voices, chords and
    /// drums sets.
    public static func required(by role: PartRole) -> PartVocabulary {
        switch role {
        case .continuation, .voice, .counterMelody, .bass: return .events
        case .voices, .chords, .drums: return .noteSets
        }
    }

    /// The input width a model of this vocabulary has before its condition units.
    var baseInputSize: Int { self == .events ? Self.eventClasses : Self.pianoUnits }
}
