import Music
import Neural

/// How a part's model speaks, exactly as `sideman train` encodes its data (Music's EventVocabulary and
/// TrainingCorpus): melody events — 0 NO_EVENT, 1 NOTE_OFF, 2 + pitch NOTE_ON, 130 classes under a softmax,
/// the model fed the previous event — or note sets — 88 piano units (unit 0 = MIDI 21; drums are GM drum
/// notes in the same units) under a multi-hot head or an ascending pitch chain (88 units + END, plus the NADE
/// chain's hidden inputs for nade_chain), the model fed the previous frame's units — or onset and hold note
/// sets (`frame_layout: onset_hold` in the metadata): the same heads over 176 units, a pitch struck on the
/// step (unit = pitch − 21) or held from an earlier onset (88 + pitch − 21).
public enum PartVocabulary: String, Equatable, Sendable {
    case events
    case noteSets = "note sets"
    case onsetHold = "onset and hold note sets"
    /// The whole band's events (Music's EnsembleVocabulary, `frame_layout: ensemble`): one model the drums,
    /// bass and chords parts share through a BandDecoder, each playing its share in its own vocabulary.
    case ensemble = "band events"

    public static let eventClasses = 130
    public static let firstPitchIndex = 2
    public static let pianoUnits = 88
    public static let lowestPianoNote = 21

    /// The vocabulary of a loaded model whose frames lay out as `layout` (its metadata), or why no part
    /// can play it.
    public static func of(_ model: any StreamingModel, layout: FrameLayout = .pitches) throws(WeightsError) -> PartVocabulary {
        let units = pianoUnits * layout.blocks
        let vocabulary: PartVocabulary = layout == .onsetHold ? .onsetHold : .noteSets
        switch model.head {
        case .softmax where model.outputSize == EnsembleVocabulary.classes && layout == .ensemble: return .ensemble
        case .softmax where model.outputSize == eventClasses && layout == .pitches: return .events
        case .multiHot where model.outputSize == units: return vocabulary
        case .pitchChain where model.outputSize == units + 1: return vocabulary
        case .nadeChain where model.headUnits == units: return vocabulary
        default:
            throw WeightsError(
                "has \(model.outputSize) \(model.head.rawValue) outputs"
                    + (layout == .pitches ? "" : " (frame_layout \(layout.rawValue))")
                    + "; a part plays a melody event model (\(eventClasses) softmax), a note-set model (\(pianoUnits) multi_hot, "
                    + "\(pianoUnits + 1) pitch_chain, or \(pianoUnits) units of nade_chain) or an onset and hold one (twice the units), "
                    + "or a band event model (\(EnsembleVocabulary.classes) softmax, frame_layout ensemble)")
        }
    }

    /// The vocabulary of the model a weight set describes, its layout read from the metadata.
    public static func of(_ model: any StreamingModel, metadata: [String: String]) throws(WeightsError) -> PartVocabulary {
        try of(model, layout: FrameLayout(metadata: metadata))
    }

    /// What a role can play: lines (continuation, voice, counter-melody, bass) are events; drums are hits
    /// (note sets); voices and chords are note sets, or onset and hold sets, which tell a re-struck chord
    /// from a held one.
    public func fits(_ role: PartRole) -> Bool {
        switch role {
        case .continuation, .voice, .counterMelody, .variation, .lead: return self == .events
        case .bass: return self == .events || self == .ensemble
        case .drums: return self == .noteSets || self == .ensemble
        case .chords: return self != .events
        case .voices: return self != .events && self != .ensemble
        }
    }

    /// What a part of `role` plays a band model's share in: the drums hits, the bass events, the keys onset
    /// and hold sets (any other vocabulary plays itself).
    func played(by role: PartRole) -> PartVocabulary {
        guard self == .ensemble else { return self }
        switch role {
        case .drums: return .noteSets
        case .bass: return .events
        default: return .onsetHold
        }
    }

    /// The input width a model of this vocabulary has before its condition units.
    var baseInputSize: Int {
        switch self {
        case .events: Self.eventClasses
        case .noteSets: Self.pianoUnits
        case .onsetHold: 2 * Self.pianoUnits
        case .ensemble: EnsembleVocabulary.classes
        }
    }

    /// The MIDI pitch of a note-set unit (either half of an onset and hold frame).
    @inline(__always) static func pitch(ofUnit unit: Int) -> Int { unit % pianoUnits + lowestPianoNote }

    /// True for a unit of the held half of an onset and hold frame.
    @inline(__always) static func isHeld(unit: Int) -> Bool { unit >= pianoUnits }
}
