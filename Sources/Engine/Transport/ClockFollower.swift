/// Tempo from incoming MIDI clock (0xF8, 24 per quarter note).
///
/// The tempo is the least-squares slope of tick frame against tick number over the last 24 ticks (one
/// quarter note): a single late or early tick moves the slope very little, where the last interval
/// alone would swing by the whole jitter. Position never comes from this estimate — it is counted in
/// ticks — so the estimate only predicts where the next step boundary will fall.
public struct ClockFollower: Sendable {
    public static let window = 24

    private var frames = InlineArray<24, UInt64>(repeating: 0)
    private var count = 0
    private var head = 0
    /// Frames per tick from the fit; the fallback tempo until two ticks have come.
    public private(set) var framesPerTick: Double

    public init(initialFramesPerTick: Double) {
        framesPerTick = initialFramesPerTick
    }

    public mutating func reset() {
        count = 0
        head = 0
    }

    /// Adds a tick. A gap of more than four expected intervals means the clock stopped and came back,
    /// maybe at another tempo: the fit starts over rather than averaging across the gap.
    public mutating func tick(at frame: UInt64) {
        if count > 0 {
            let last = frames[(head + Self.window - 1) % Self.window]
            if frame <= last || Double(frame - last) > 4 * framesPerTick { count = 0 }
        }
        frames[head] = frame
        head = (head + 1) % Self.window
        count = min(count + 1, Self.window)
        if count >= 2 { fit() }
    }

    private mutating func fit() {
        let first = (head + Self.window - count) % Self.window
        let origin = frames[first]
        let n = Double(count)
        let meanX = (n - 1) / 2
        var meanY = 0.0
        for i in 0..<count { meanY += Double(frames[(first + i) % Self.window] - origin) }
        meanY /= n
        var sxy = 0.0
        var sxx = 0.0
        for i in 0..<count {
            let dx = Double(i) - meanX
            sxy += dx * (Double(frames[(first + i) % Self.window] - origin) - meanY)
            sxx += dx * dx
        }
        if sxx > 0, sxy > 0 { framesPerTick = sxy / sxx }
    }
}
