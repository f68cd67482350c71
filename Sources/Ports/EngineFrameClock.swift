/// The frame clock the engine lives on: the server's frame time, extended past its 32-bit wrap and made
/// monotonic and continuous across everything a server's clock does in a live set.
///
/// JACK's frame time is not monotonic: under an xrun burst `jack_last_frame_time` can step back by up to
/// a period, and a restarted server counts again from about 0. The engine, the transport and the
/// recorder reason about "before" and "after" in frames; fed a clock that goes back, a note lands before
/// the one it follows, the grid waits hours for a boundary, and a subtraction underflows. So the step
/// back never reaches them: a cycle that would start before the previous one ended starts where it
/// ended. The offset between server and engine frames stays as it was, so when the server's clock reads
/// true again (a step back under xruns is typically one stale reading of the previous cycle's time) the
/// engine's frames are the server's again and nothing drifts; a clock that really went back is followed
/// cycle by cycle until it catches up. A new server continues exactly where the old one stopped: the
/// offset takes up the difference, and the band resumes the bar it was in.
///
/// Forward jumps (an xrun that skipped cycles) pass through: that time really went by. While nothing goes
/// back, engine frames are the server's own frames, so they can be compared with what other clients see.
/// Runs on the I/O thread; plain integer arithmetic only.
struct EngineFrameClock: Sendable {
    /// Carry of the 32-bit server clock into 64 bits.
    private var wraps: UInt64 = 0
    private var lastServerFrame: UInt32 = 0
    /// Engine frame minus (extended) server frame, modulo 2^64.
    private var offset: UInt64 = 0
    /// Where the last cycle ended, in engine frames: no cycle starts before it.
    private var end: UInt64 = 0
    private var hasRun = false
    /// Set by `serverRestarted`: the next cycle continues at `end` whatever the new server's clock says.
    private var continuesAtNextCycle = false
    /// Cycles whose server frame read earlier than the previous cycle's end, so the engine's clock held its
    /// course instead. After a reading that came a period ahead (a callback run so late that the server had
    /// begun the next cycle), the true readings that follow are all behind, and the engine stays that far
    /// ahead of the server until time skips forward: its frames are then the server's plus a constant.
    private(set) var heldCycles: UInt64 = 0

    /// The absolute server frame of a 32-bit frame time, carrying across the wrap (every ~25 h at 48 kHz).
    /// A step back of less than half the range is a step back, not a wrap.
    mutating func extend(_ frame: UInt32) -> UInt64 {
        if frame < lastServerFrame && lastServerFrame - frame > UInt32.max / 2 { wraps &+= 1 << 32 }
        lastServerFrame = frame
        return wraps | UInt64(frame)
    }

    /// The engine frame at which a cycle of `length` frames starts, given the server's 32-bit frame time.
    mutating func cycleStart(serverFrame: UInt32, length: Int) -> UInt64 {
        cycleStart(extendedServerFrame: extend(serverFrame), length: length)
    }

    /// The same for a server clock that is already 64 bits wide (the ALSA queue, the virtual backend).
    mutating func cycleStart(extendedServerFrame server: UInt64, length: Int) -> UInt64 {
        var start = server &+ offset
        if hasRun && continuesAtNextCycle {
            offset = end &- server
            start = end
        } else if hasRun && start < end {
            start = end
            heldCycles &+= 1
        }
        hasRun = true
        continuesAtNextCycle = false
        end = start &+ UInt64(max(0, length))
        return start
    }

    /// A new server (or the same one restarted) counts its frames from its own origin: forget the
    /// wrap state, and continue the engine's clock where it stopped.
    mutating func serverRestarted() {
        wraps = 0
        lastServerFrame = 0
        continuesAtNextCycle = true
    }
}
