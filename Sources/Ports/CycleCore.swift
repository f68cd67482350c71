#if canImport(Glibc)
    import Glibc
#endif

/// Counters shared between the I/O thread (writer) and the control and engine threads (readers).
/// Every field is an atomic created once; the struct itself is only pointers.
struct CycleCounters: @unchecked Sendable {
    // @unchecked: only AtomicCell fields, each safe to touch from any thread; destroyed once, with
    // the rest of `CycleChannels`, by the `CycleEndpoints` that made them.
    let cycles = AtomicCell<UInt64>(0)
    let xruns = AtomicCell<UInt64>(0)
    let late = AtomicCell<UInt64>(0)
    let dropped = AtomicCell<UInt64>(0)
    let clockHeld = AtomicCell<UInt64>(0)
    let cycleStart = AtomicCell<UInt64>(0)
    let cycleLength = AtomicCell<Int>(0)
    let sampleRate = AtomicCell<Int>(0)
    let bufferSize = AtomicCell<Int>(0)
    let lost = AtomicCell<Bool>(false)
    let notifications = AtomicCell<Int>(0)
    let ioPriority = AtomicCell<Int>(0)

    func destroy() {
        for atomic in [cycles, xruns, late, dropped, clockHeld, cycleStart] { atomic.destroy() }
        for atomic in [cycleLength, sampleRate, bufferSize, notifications, ioPriority] { atomic.destroy() }
        lost.destroy()
    }

    /// Zeroes the counters for a fresh start. `cycleStart` keeps its value: the engine's clock continues
    /// across a reconnection, and a reader between open and the first cycle must not see it go back to 0.
    func reset() {
        for atomic in [cycles, xruns, late, dropped] { atomic.store(0, ordering: .relaxed) }
        for atomic in [cycleLength, notifications] { atomic.store(0, ordering: .relaxed) }
        lost.store(false, ordering: .relaxed)
    }

    func snapshot(connected: Bool) -> PortStatus {
        var status = PortStatus()
        status.sampleRate = sampleRate.load(ordering: .relaxed)
        status.bufferSize = bufferSize.load(ordering: .relaxed)
        status.cycles = cycles.load(ordering: .relaxed)
        status.xruns = xruns.load(ordering: .relaxed)
        status.lateEvents = late.load(ordering: .relaxed)
        status.droppedEvents = dropped.load(ordering: .relaxed)
        status.clockHeldCycles = clockHeld.load(ordering: .relaxed)
        status.isLost = lost.load(ordering: .acquiring)
        status.ioPriority = ioPriority.load(ordering: .relaxed)
        status.isConnected = connected && !status.isLost
        return status
    }

    /// Records notifications for the control thread; callable from any callback thread.
    func notify(_ what: PortNotifications) {
        _ = notifications.bitwiseOr(what.rawValue, ordering: .releasing)
    }

    func takeNotifications() -> PortNotifications {
        PortNotifications(rawValue: notifications.exchange(0, ordering: .acquiringAndReleasing))
    }
}

/// What the I/O thread shares with the engine and control threads: the two rings, the counters, the
/// engine's wake-up and the flag that an event is carried. Pointers only, so copies share one set;
/// `CycleEndpoints` creates it and destroys it once.
struct CycleChannels: @unchecked Sendable {
    // @unchecked: the rings are single-producer single-consumer, the rest atomics and a semaphore.
    let input: EventRing
    let output: EventRing
    let counters: CycleCounters
    let engineWakeup: UnsafeMutablePointer<sem_t>
    /// True while the I/O thread holds a carried event, for `outputIsDrained`.
    let carrying = AtomicCell<Bool>(false)

    init(ringCapacity: Int, engineWakeup: Wakeup) {
        input = EventRing(capacity: ringCapacity)
        output = EventRing(capacity: ringCapacity)
        counters = CycleCounters()
        self.engineWakeup = engineWakeup.semaphore
    }

    func destroy() {
        input.deallocate()
        output.deallocate()
        counters.destroy()
        carrying.destroy()
    }
}

/// The part of a process cycle every backend shares: turn the server's frame time into the engine's
/// monotonic clock, queue input with absolute frames, and write due output at exact offsets. It runs on
/// the I/O thread and therefore allocates nothing, takes no lock and makes no syscall besides `sem_post`.
///
/// Noncopyable: the frame clock is mutable state of the one I/O thread, so there is exactly one
/// `CycleCore` per backend, inside the I/O thread's state (`JACKProcessState`, `ALSAIOState`, the
/// virtual backend). The control thread touches it only while no cycle runs (open, close).
struct CycleCore: ~Copyable, @unchecked Sendable {
    // @unchecked: mutable fields (the frame clock, per-port offsets, the carried event) are touched
    // only by the I/O thread, or by the control thread while it is stopped; everything shared goes
    // through `channels`.
    let channels: CycleChannels
    var input: EventRing { channels.input }
    var output: EventRing { channels.output }
    var counters: CycleCounters { channels.counters }
    var engineWakeup: UnsafeMutablePointer<sem_t> { channels.engineWakeup }
    /// One event's bytes on their way from the output ring to a port buffer.
    let scratch: UnsafeMutableRawPointer
    /// The last offset written on each output port in this cycle: a port buffer must be in time order.
    let lastOffsets: UnsafeMutablePointer<UInt32>
    let outputCount: Int
    /// An event a full port buffer refused, kept for the next cycle instead of dropped: a refused
    /// note-off (a panic or a stop silencing hundreds of notes at once) would leave a note stuck.
    let carry: UnsafeMutableRawPointer
    let carried: UnsafeMutablePointer<CarriedEvent>

    struct CarriedEvent {
        var frame: UInt64 = 0
        var port = 0
        /// 0: nothing carried.
        var length = 0
    }

    /// The server's frame time made monotonic: every frame the engine sees comes from here.
    private(set) var clock = EngineFrameClock()

    init(channels: CycleChannels, outputCount: Int) {
        self.channels = channels
        scratch = .allocate(byteCount: channels.output.maxEventSize, alignment: 16)
        self.outputCount = outputCount
        lastOffsets = .allocate(capacity: max(1, outputCount))
        lastOffsets.initialize(repeating: 0, count: max(1, outputCount))
        carry = .allocate(byteCount: channels.output.maxEventSize, alignment: 16)
        carried = .allocate(capacity: 1)
        carried.initialize(to: CarriedEvent())
    }

    /// Releases what the I/O thread owns (the channels belong to `CycleEndpoints`), once it has stopped.
    func deallocate() {
        scratch.deallocate()
        lastOffsets.deallocate()
        carry.deallocate()
        carried.deallocate()
    }

    /// Forgets queued events both ways and a carried one (control thread, while no cycle runs).
    func discardQueued() {
        input.discardAll()
        output.discardAll()
        discardCarried()
    }

    /// Forgets queued events and zeroes the counters: a fresh start after open.
    func restart() {
        counters.reset()
        discardQueued()
    }

    private func discardCarried() {
        carried.pointee.length = 0
        channels.carrying.store(false, ordering: .releasing)
    }

    /// A new server counts from its own origin; the engine's clock continues where it stopped.
    mutating func serverRestarted() { clock.serverRestarted() }

    /// Starts a cycle of `length` frames at the server's 32-bit frame time; returns its engine frame.
    mutating func begin(serverFrame: UInt32, length: Int) -> UInt64 {
        let start = clock.cycleStart(serverFrame: serverFrame, length: length)
        begin(start: start, length: length)
        counters.clockHeld.store(clock.heldCycles, ordering: .relaxed)
        return start
    }

    /// The same for a 64-bit server clock (the ALSA queue, the virtual backend's simulated one).
    mutating func begin(extendedServerFrame: UInt64, length: Int) -> UInt64 {
        let start = clock.cycleStart(extendedServerFrame: extendedServerFrame, length: length)
        begin(start: start, length: length)
        counters.clockHeld.store(clock.heldCycles, ordering: .relaxed)
        return start
    }

    /// Marks the start of a cycle of `length` frames beginning at engine frame `start`.
    private func begin(start: UInt64, length: Int) {
        counters.cycleStart.store(start, ordering: .relaxed)
        counters.cycleLength.store(length, ordering: .relaxed)
        for port in 0..<outputCount { lastOffsets[port] = 0 }
    }

    /// Queues one received event for the engine.
    func received(frame: UInt64, bytes: UnsafeRawBufferPointer) {
        if !input.push(frame: frame, port: 0, bytes: bytes) {
            counters.dropped.wrappingIncrement(ordering: .relaxed)
        }
    }

    /// Writes every queued output event due before `start + length` through `write(port, offset,
    /// bytes)`, which returns false when the port buffer is full. Events not yet due stay queued. An
    /// event the port buffer refuses is carried to the next cycle (written first there, late) and
    /// nothing more is written this cycle, so events keep their order and none is lost.
    func dispatch(
        start: UInt64, length: Int, write: (Int, UInt32, UnsafeRawBufferPointer) -> Bool
    ) {
        let end = start + UInt64(length)
        if carried.pointee.length > 0 {
            let event = carried.pointee
            guard deliver(frame: event.frame, port: event.port, UnsafeRawBufferPointer(start: carry, count: event.length), start: start, write)
            else { return }
            discardCarried()
        }
        while let next = output.peek(), next.frame < end {
            guard let event = output.pop(into: scratch) else { break }
            let port = Int(event.port)
            guard port < outputCount else {
                counters.dropped.wrappingIncrement(ordering: .relaxed)
                continue
            }
            if !deliver(frame: event.frame, port: port, UnsafeRawBufferPointer(start: scratch, count: event.length), start: start, write) {
                carry.copyMemory(from: scratch, byteCount: event.length)
                carried.pointee = CarriedEvent(frame: event.frame, port: port, length: event.length)
                channels.carrying.store(true, ordering: .releasing)
                return
            }
        }
    }

    /// Writes one event at its offset (offset 0 when its frame has passed, counted late), never
    /// before the port's previous event. False when the port buffer is full.
    private func deliver(
        frame: UInt64, port: Int, _ bytes: UnsafeRawBufferPointer, start: UInt64,
        _ write: (Int, UInt32, UnsafeRawBufferPointer) -> Bool
    ) -> Bool {
        let offset = max(frame < start ? 0 : UInt32(frame - start), lastOffsets[port])
        guard write(port, offset, bytes) else { return false }
        lastOffsets[port] = offset
        if frame < start { counters.late.wrappingIncrement(ordering: .relaxed) }
        return true
    }

    /// Ends the cycle and wakes the engine thread.
    func end() {
        counters.cycles.wrappingIncrement(ordering: .releasing)
        sem_post(engineWakeup)
    }
}
