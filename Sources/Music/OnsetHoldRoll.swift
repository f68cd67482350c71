/// Polyphonic frames that tell a struck chord from a held one: per step, the pitches struck on it and the
/// pitches still sounding from an earlier onset. A sounding-notes frame (PianoRoll) cannot tell a chord
/// re-struck every beat from one held for the bar; a comping model trained on those holds everything.
public struct OnsetHoldRoll: Equatable, Sendable {
    /// Pitches struck on each step, a pitch struck again while it sounds included.
    public var struck: PianoRoll
    /// Pitches sounding on each step from an onset on an earlier step, and not struck on this one.
    public var held: PianoRoll

    public init(struck: PianoRoll, held: PianoRoll) {
        precondition(struck.frames.count == held.frames.count, "one held frame per struck frame")
        self.struck = struck
        self.held = held
    }

    /// Units of the two halves in a training frame: struck pitch p is unit p − 21, held pitch p is unit
    /// 88 + p − 21 (docs/TRAINING.md, "onset and hold frames").
    public static let heldOffset = 88
    public static let units = 2 * heldOffset

    /// Frames as training units (struck half, then held half); pitches outside the piano's 88 keys are dropped.
    public var unitFrames: [[Int]] {
        zip(struck.pianoUnitFrames, held.pianoUnitFrames).map { struck, held in struck + held.map { Self.heldOffset + $0 } }
    }

    /// The pitches sounding on each step, struck or held: what PianoRoll frames of the same notes hold.
    public var sounding: PianoRoll {
        PianoRoll(frames: zip(struck.frames, held.frames).map { $0 + $1 })
    }
}
