/// What the player did on one grid step: the conditioning input the parts' models see.
public struct StepNotes: Equatable, Sendable {
    public var step: Int64
    /// Pitches whose onset was quantized to this step.
    public var struck = PitchSet()
    /// Pitches sounding during the step: struck here, or held over from before.
    public var sounding = PitchSet()
    /// Loudest velocity struck on the step, 0 when nothing was.
    public var velocity: UInt8 = 0
    /// Note-ons quantized here (repeated pitches counted), for density.
    public var onsets: UInt16 = 0

    public init(step: Int64) {
        self.step = step
    }
}
