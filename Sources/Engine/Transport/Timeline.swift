/// A straight line from sample frames to grid position (in 16th steps): one anchor and a slope.
///
/// Frames of future steps are always computed from the anchor, never by adding step lengths, so a
/// tempo that is not a whole number of frames per step rounds each boundary to the nearest frame
/// without the rounding errors piling up over a long run.
public struct Timeline: Equatable, Sendable {
    public var anchorFrame: UInt64
    /// Position at `anchorFrame`, in steps.
    public var anchorPosition: Double
    public var framesPerStep: Double

    public init(anchorFrame: UInt64, anchorPosition: Double, framesPerStep: Double) {
        self.anchorFrame = anchorFrame
        self.anchorPosition = anchorPosition
        self.framesPerStep = framesPerStep
    }

    /// Frames per 16th step for a quarter-note tempo.
    public static func framesPerStep(bpm: Double, sampleRate: Double) -> Double {
        sampleRate * 60 / (bpm * 4)
    }

    /// Quarter-note tempo.
    public func bpm(sampleRate: Double) -> Double { sampleRate * 60 / (framesPerStep * 4) }

    public func position(at frame: UInt64) -> Double {
        anchorPosition + Double(frame.frames(since: anchorFrame)) / framesPerStep
    }

    public func frame(at position: Double) -> UInt64 {
        offsetFrame(((position - anchorPosition) * framesPerStep).rounded())
    }

    /// The frame of MIDI clock tick `tick` (24 per quarter, 6 per step), computed from the anchor in one
    /// rounding so that tick frames never drift from the exact tempo.
    public func frame(atTick tick: Int64) -> UInt64 {
        offsetFrame(((Double(tick) - anchorPosition * 6) * framesPerStep / 6).rounded())
    }

    private func offsetFrame(_ offset: Double) -> UInt64 { anchorFrame.offset(by: offset) }
}
