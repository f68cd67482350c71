/// What the units of a note-set model's frame say about each pitch (metadata key `frame_layout`). The engine
/// reads it to know how to play a frame; training writes it; a model without the key has one unit per pitch.
public enum FrameLayout: String, Sendable, CaseIterable {
    /// One block of units, one per pitch: the pitch sounds on the step (drums: is struck on it).
    case pitches
    /// Two blocks of equal size: the pitch is struck on the step (first block), or held from an earlier
    /// onset (second block). A re-struck chord and a held one are different frames.
    case onsetHold = "onset_hold"
    /// Not frames but the whole band's events (Music's EnsembleVocabulary): a prefix that does not move under
    /// transposition (STEP, BASS_OFF, the kit), then three blocks of the 88 keys (BASS_ON, KEYS_ON, KEYS_OFF).
    case ensemble

    public static let metadataKey = "frame_layout"

    /// Blocks of pitch units in a frame, each block the same pitches in the same order.
    public var blocks: Int {
        switch self {
        case .pitches: 1
        case .onsetHold: 2
        case .ensemble: 3
        }
    }

    /// Reads `frame_layout` (absent: pitches, as every model before the key existed).
    public init(metadata: [String: String]) throws(WeightsError) {
        guard let text = metadata[Self.metadataKey] else {
            self = .pitches
            return
        }
        guard let layout = FrameLayout(rawValue: text) else {
            throw WeightsError("metadata \(Self.metadataKey) = \(text) is not pitches, onset_hold or ensemble")
        }
        self = layout
    }

    /// The key for a model's metadata: nothing for pitches, so older files and newer ones of that layout agree.
    public var metadata: [String: String] { self == .pitches ? [:] : [Self.metadataKey: rawValue] }
}
