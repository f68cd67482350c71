/// An external timeline (JACK transport, an Ableton Link session) read at a cycle's first frame.
struct TimelineReading: Equatable {
    var rolling: Bool
    /// Position in quarter notes; bars start at multiples of the bar's length.
    var quarters: Double
    /// Tempo, in quarter notes per frame.
    var quartersPerFrame: Double
}

/// One MIDI real-time or song-position message the bridge made, at a frame offset in its cycle.
struct BridgeEvent: Equatable {
    var offset: UInt32
    var bytes: (UInt8, UInt8, UInt8)
    var count: Int

    static func == (a: BridgeEvent, b: BridgeEvent) -> Bool {
        a.offset == b.offset && a.count == b.count && a.bytes.0 == b.bytes.0 && a.bytes.1 == b.bytes.1
            && a.bytes.2 == b.bytes.2
    }
}

/// Turns an external timeline into the MIDI clock the engine already follows: 24 ticks per quarter at
/// the very frames the timeline reaches them, start at position 0, song position and continue when it
/// starts (or is moved) elsewhere, stop when it stops. So JACK transport and Link reuse the engine's
/// clock mode whole: the same tick counting, the same tempo fit, the same stop handling.
///
/// Runs on the I/O thread: fixed storage, no allocation. A start or a jump lands on the next 16th (a
/// song position counts 16ths), so up to one 16th after it is silent. Positions past song position's
/// 14 bits are wrapped by whole bars (Link's beat count grows for as long as the session lives).
struct TickBridge {
    static let capacity = 64
    /// Quarter notes per bar: wrapping keeps the bar phase.
    let quartersPerBar: Double
    private var events = InlineArray<64, BridgeEvent>(repeating: BridgeEvent(offset: 0, bytes: (0, 0, 0), count: 0))
    private(set) var count = 0

    private var rolling = false
    private var startPending = false
    /// Next tick to send, in the timeline's ticks, and what is subtracted from it for the engine.
    private var nextTick: Int64 = 0
    private var origin: Int64 = 0
    /// Where the timeline should be at the next cycle if nobody moved it, in ticks.
    private var expectedTick: Double? = nil

    init(quartersPerBar: Double) {
        self.quartersPerBar = max(0.25, quartersPerBar)
    }

    subscript(index: Int) -> BridgeEvent { events[index] }

    /// Forgets where the timeline was (a new server, a new session): the next rolling cycle starts it.
    mutating func restart() {
        count = 0
        rolling = false
        startPending = false
        expectedTick = nil
    }

    /// The events for a cycle of `length` frames whose first frame the timeline reads as `reading`,
    /// in frame order (then `self[0..<count]`).
    mutating func cycle(_ reading: TimelineReading, length: Int) {
        count = 0
        let ticksPerFrame = reading.quartersPerFrame * 24
        guard reading.rolling, ticksPerFrame > 0, reading.quarters.isFinite, ticksPerFrame.isFinite else {
            if rolling { emit(0, 0xFC) }
            rolling = false
            expectedTick = nil
            return
        }
        let tick = reading.quarters * 24
        if rolling, let expected = expectedTick, abs(tick - expected) > 0.5 {
            // Moved while rolling (a locate, a Link peer's new phase): stop, then continue from there.
            emit(0, 0xFC)
            rolling = false
        }
        if !rolling {
            rolling = true
            startPending = true
            // The next 16th at or after the reading (position 0 when the timeline is still counting in).
            let first = max(0, Int64((tick - 1e-6).rounded(.up)))
            nextTick = (first + 5) / 6 * 6
            let ticksPerBar = Int64((quartersPerBar * 24).rounded())
            origin = nextTick / 6 > 16383 ? nextTick - nextTick % max(6, ticksPerBar) : 0
        }
        let end = tick + ticksPerFrame * Double(length)
        while Double(nextTick) < end, count < Self.capacity - 3 {
            let offset = UInt32(min(Double(length - 1), max(0, ((Double(nextTick) - tick) / ticksPerFrame).rounded())))
            if startPending {
                startPending = false
                let position = nextTick - origin
                if position == 0 {
                    emit(offset, 0xFA)
                } else {
                    let sixteenths = Int(position / 6)
                    emit(offset, 0xF2, UInt8(sixteenths & 0x7F), UInt8(sixteenths >> 7 & 0x7F))
                    emit(offset, 0xFB)
                }
            }
            emit(offset, 0xF8)
            nextTick += 1
        }
        expectedTick = end
    }

    private mutating func emit(_ offset: UInt32, _ status: UInt8, _ d1: UInt8? = nil, _ d2: UInt8? = nil) {
        guard count < Self.capacity else { return }
        events[count] = BridgeEvent(offset: offset, bytes: (status, d1 ?? 0, d2 ?? 0), count: d1 == nil ? 1 : 3)
        count += 1
    }
}

/// JACK transport's position in quarter notes: JACK's frame counter at the tempo a timebase master
/// publishes in BBT (else the preset's), bar 1 at frame 0. The frame is what every client agrees on; BBT
/// positions are not: jack_transport's own master adds whole ticks per period (at 128 frames its bars run
/// 15/16 of its stated tempo), publishes nonsense while a locate is pending, and leaves BBT at 1|1|0 for
/// the first cycles after play, so a band that took its bar from BBT started up to a dozen periods off.
/// A tempo change goes on from where the music is.
struct TransportPosition {
    private var anchorFrame: UInt32 = 0
    private var anchorQuarters = 0.0
    private var quartersPerMinute = 0.0
    /// The frame the transport reaches next cycle if nothing moves it; nil before the first reading.
    private var expectedFrame: UInt32? = nil

    /// The position at `frame` (the cycle's first), at BBT's tempo when a master publishes one.
    mutating func quarters(
        frame: UInt32, rolling: Bool, length: Int, bbtPerMinute: Double?, fallbackPerMinute: Double, sampleRate: Double
    ) -> (quarters: Double, perMinute: Double) {
        let perMinute = bbtPerMinute ?? fallbackPerMinute
        if expectedFrame != frame || quartersPerMinute == 0 {
            // Started, located or first seen: where the frame is at this tempo.
            anchorQuarters = Double(frame) * perMinute / 60 / sampleRate
            anchorFrame = frame
        } else if perMinute != quartersPerMinute {
            anchorQuarters = position(at: frame, sampleRate: sampleRate)
            anchorFrame = frame
        }
        quartersPerMinute = perMinute
        expectedFrame = rolling ? frame &+ UInt32(truncatingIfNeeded: length) : frame
        return (position(at: frame, sampleRate: sampleRate), perMinute)
    }

    private func position(at frame: UInt32, sampleRate: Double) -> Double {
        anchorQuarters + Double(frame &- anchorFrame) * quartersPerMinute / 60 / sampleRate
    }
}
