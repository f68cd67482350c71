/// The moment a grid step begins: what the engine acts on (commit the parts' step, click, count bars).
public struct StepBoundary: Equatable, Sendable {
    /// The sample frame at which the step begins.
    public var frame: UInt64
    /// Steps since position 0 (the start of the music); negative during a count-in.
    public var step: Int64
    public var bar: Int64
    public var stepInBar: Int
    /// The meter's beat this step lies in (dotted quarters in 6/8).
    public var beatInBar: Int
    /// The step starts a beat of the meter.
    public var isBeat: Bool
    public var isDownbeat: Bool
    /// Step length at this boundary, for scheduling within the step.
    public var framesPerStep: Double

    public init(
        frame: UInt64, step: Int64, bar: Int64, stepInBar: Int, beatInBar: Int, isBeat: Bool, isDownbeat: Bool,
        framesPerStep: Double
    ) {
        self.frame = frame
        self.step = step
        self.bar = bar
        self.stepInBar = stepInBar
        self.beatInBar = beatInBar
        self.isBeat = isBeat
        self.isDownbeat = isDownbeat
        self.framesPerStep = framesPerStep
    }
}
