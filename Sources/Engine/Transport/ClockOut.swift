import MIDI

/// MIDI clock for a drum machine or sequencer that follows Sideman: 0xF8 at 24 per quarter note on
/// the transport's grid, start (0xFA) just before the tick at position 0, stop (0xFC) when told.
///
/// Each tick's frame is computed from the transport's timeline for that tick alone, so over any length
/// of run the ticks stay within half a frame of the exact tempo. Ticks before position 0 (a count-in)
/// are sent too: a stopped slave uses them to know the tempo before it starts. In clock mode Sideman
/// is itself a slave; pass the incoming clock through instead of generating one.
public struct ClockOut: Sendable {
    private var nextTick: Int64? = nil
    private var lastFrame: UInt64 = 0
    private var startPending = false
    private var stopFrame: UInt64? = nil

    public init() {}

    /// Begins sending for a transport that has just started: ticks from the first one at or after
    /// `frame`, with start (or continue, when joining after position 0) before the first tick of the music.
    public mutating func begin(at frame: UInt64, transport: Transport) {
        let tick = Int64(saturating: (transport.position(at: frame) * 6).rounded(.up))
        nextTick = tick
        lastFrame = frame
        startPending = true
        stopFrame = nil
    }

    /// Stops sending ticks from `frame` on, with a stop message there.
    public mutating func end(at frame: UInt64) {
        stopFrame = frame
    }

    /// The next clock message in [.., end) in frame order, or nil when there is none before `end`.
    public mutating func next(before end: UInt64, transport: Transport) -> TimedMIDIMessage? {
        if let tick = nextTick {
            let at = max(transport.frame(ofTick: tick), lastFrame)
            let stopFirst = stopFrame.map { $0 <= at } ?? false
            if !stopFirst, at < end {
                if startPending, tick >= 0 {
                    startPending = false
                    return TimedMIDIMessage(time: at, message: tick == 0 ? .start : .continue)
                }
                nextTick = tick + 1
                lastFrame = at
                return TimedMIDIMessage(time: at, message: .clock)
            }
        }
        if let stop = stopFrame, stop < end {
            stopFrame = nil
            nextTick = nil
            return TimedMIDIMessage(time: stop, message: .stop)
        }
        return nil
    }
}
