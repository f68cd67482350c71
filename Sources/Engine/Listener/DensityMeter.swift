/// How busy the player is: onsets per beat over a sliding window of steps, and the share of steps in
/// the window that have an onset (0...1, the normalised figure: 1 is a note on every 16th).
public struct DensityMeter: Sendable {
    public let windowSteps: Int
    public let stepsPerBeat: Int
    private var counts: [UInt16]
    private var head = 0
    private var onsetTotal = 0
    private var occupiedTotal = 0

    public init(windowBeats: Int, stepsPerBeat: Int) {
        self.stepsPerBeat = max(1, stepsPerBeat)
        windowSteps = max(1, windowBeats * self.stepsPerBeat)
        counts = [UInt16](repeating: 0, count: windowSteps)
    }

    public mutating func reset() {
        for i in 0..<windowSteps { counts[i] = 0 }
        head = 0
        onsetTotal = 0
        occupiedTotal = 0
    }

    /// Pushes one finished step's onset count, dropping the oldest step of the window.
    public mutating func advance(onsets: UInt16) {
        let old = counts[head]
        onsetTotal -= Int(old)
        if old > 0 { occupiedTotal -= 1 }
        counts[head] = onsets
        onsetTotal += Int(onsets)
        if onsets > 0 { occupiedTotal += 1 }
        head = (head + 1) % windowSteps
    }

    public var notesPerBeat: Double { Double(onsetTotal) * Double(stepsPerBeat) / Double(windowSteps) }

    public var normalized: Double { Double(occupiedTotal) / Double(windowSteps) }
}
