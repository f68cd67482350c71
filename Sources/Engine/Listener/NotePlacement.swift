/// Where a player's note goes on the grid, by the window rule of docs/DESIGN-NOTES.md §4: within the on-step window
/// of a boundary (before or after it) the note is ON that boundary's step, and the parts' step can be
/// computed at once with it; anywhere else it belongs to the upcoming step, which the parts predict
/// ahead and commit at its boundary.
public struct NotePlacement: Equatable, Sendable {
    public var step: Int64
    /// Within the window of `step`'s boundary.
    public var isOnStep: Bool
    /// Frames from `step`'s boundary to the note: negative when the note came early.
    public var offsetFrames: Int64

    public init(step: Int64, isOnStep: Bool, offsetFrames: Int64) {
        self.step = step
        self.isOnStep = isOnStep
        self.offsetFrames = offsetFrames
    }

    /// Places a note at `frame` on `transport`'s grid, or nil when the transport is not running.
    public static func place(frame: UInt64, on transport: Transport, windowFrames: Double) -> NotePlacement? {
        guard transport.isRunning else { return nil }
        let predicted = transport.predictedNextBoundaryFrame
        if let last = transport.lastBoundary {
            let since = frame.frames(since: last.frame)
            if Double(since) <= windowFrames {
                return NotePlacement(step: last.step, isOnStep: Double(since) >= -windowFrames, offsetFrames: since)
            }
            guard let next = predicted else {
                return NotePlacement(step: last.step + 1, isOnStep: false, offsetFrames: 0)
            }
            let offset = frame.frames(since: next)
            if Double(offset) > windowFrames {
                // Past the predicted boundary by more than the window: the boundary is late (a clock that
                // slowed); the note still goes on that step, as the grid has not moved past it.
                return NotePlacement(step: last.step + 1, isOnStep: false, offsetFrames: offset)
            }
            return NotePlacement(step: last.step + 1, isOnStep: Double(offset) >= -windowFrames, offsetFrames: offset)
        }
        let step = transport.upcomingStep
        guard let next = predicted else { return NotePlacement(step: step, isOnStep: false, offsetFrames: 0) }
        let offset = frame.frames(since: next)
        return NotePlacement(step: step, isOnStep: abs(Double(offset)) <= windowFrames, offsetFrames: offset)
    }
}
