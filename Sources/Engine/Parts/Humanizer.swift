import Neural

/// A part's human feel: notes a little off the grid and a little uneven in force, and swung off-beats.
/// Draws from its own seeded generator, so the feel never changes which notes the model chooses.
public struct Humanizer: Sendable {
    public let settings: Humanize
    public let grid: GridResolution
    var timingFrames: Double
    var rng: SeededRandom

    public init(settings: Humanize, grid: GridResolution, sampleRate: Double, seed: UInt64) {
        self.settings = settings
        self.grid = grid
        timingFrames = settings.timingMilliseconds * sampleRate / 1000
        rng = SeededRandom(seed: seed ^ 0x4855_4D41_4E49_5A45)
    }

    /// Timing jitter is set in milliseconds; frames follow the server's rate.
    public mutating func use(sampleRate: Double) {
        timingFrames = settings.timingMilliseconds * sampleRate / 1000
    }

    /// Where a note of `step` (a 16th step, starting at `frame`) sounds: swung when it is an off-beat of the
    /// part's grid, then jittered by up to ± the timing setting. Never before `earliest`.
    public mutating func onFrame(step: Int64, frame: UInt64, framesPerStep: Double, earliest: UInt64) -> UInt64 {
        var offset = 0.0
        let gridSteps = Int64(grid.stepsOfSixteenth)
        // Swing delays the second of each pair of grid steps by up to a third of a grid step (full triplet feel).
        if settings.swing > 0, grid != .quarter, (step / gridSteps) % 2 != 0 {
            offset += settings.swing * Double(gridSteps) * framesPerStep / 3
        }
        if timingFrames > 0 { offset += Double(rng.uniform(-1, 1)) * timingFrames }
        return max(earliest, frame.offset(by: offset))
    }

    /// `base` moved by up to ± the velocity setting, kept in 1...127.
    public mutating func velocity(_ base: Double) -> UInt8 {
        var v = base
        if settings.velocity > 0 { v += Double(rng.uniform(-1, 1)) * Double(settings.velocity) }
        return UInt8(min(127, max(1, v.rounded())))
    }
}
