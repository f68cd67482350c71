/// What the units of a note-set model's frame say about each pitch (metadata key `frame_layout`). The engine
/// reads it to know how to play a frame; training writes it; a model without the key has one unit per pitch.
public enum FrameLayout: String, Sendable, CaseIterable {
    /// One block of units, one per pitch: the pitch sounds on the step (drums: is struck on it).
    case pitches
    /// Two blocks of equal size: the pitch is struck on the step (first block), or held from an earlier
    /// onset (second block). A re-struck chord and a held one are different frames.
    case onsetHold = "onset_hold"

    public static let metadataKey = "frame_layout"

    /// Blocks of pitch units in a frame, each block the same pitches in the same order.
    public var blocks: Int { self == .onsetHold ? 2 : 1 }

    /// Reads `frame_layout` (absent: pitches, as every model before the key existed).
    public init(metadata: [String: String]) throws(WeightsError) {
        guard let text = metadata[Self.metadataKey] else {
            self = .pitches
            return
        }
        guard let layout = FrameLayout(rawValue: text) else {
            throw WeightsError("metadata \(Self.metadataKey) = \(text) is not pitches or onset_hold")
        }
        self = layout
    }

    /// The key for a model's metadata: nothing for pitches, so older files and newer ones of that layout agree.
    public var metadata: [String: String] { self == .pitches ? [:] : [Self.metadataKey: rawValue] }
}
