/// The engine and control threads' side of a backend whose I/O thread runs a `CycleCore`: waiting for
/// cycles and notifications, taking input from the ring and queueing output into it. JACK, ALSA and the
/// virtual backend differ only in how their I/O thread runs; this part is the same for all of them.
public final class CycleEndpoints: @unchecked Sendable {
    // @unchecked: the rings are single-producer single-consumer (the engine thread is the one
    // consumer of `input` and producer of `output`), the counters are atomics, the wake-ups semaphores.

    let counters = CycleCounters()
    let engineWakeup = Wakeup()
    let controlWakeup = Wakeup()
    let outputCount: Int
    private(set) var core: CycleCore
    /// One input event's bytes on their way to the engine's handler.
    private let receiveScratch: UnsafeMutableRawPointer

    init(ringCapacity: Int, outputCount: Int) {
        self.outputCount = outputCount
        core = CycleCore(ringCapacity: ringCapacity, outputCount: outputCount, engineWakeup: engineWakeup, counters: counters)
        receiveScratch = .allocate(byteCount: core.input.maxEventSize, alignment: 16)
    }

    deinit {
        core.deallocate()
        counters.destroy()
        receiveScratch.deallocate()
    }

    /// Forgets queued events both ways and zeroes the counters: a fresh start after open.
    func restart() {
        counters.reset()
        core.input.discardAll()
        core.output.discardAll()
        core.discardCarried()
    }

    func discardQueued() {
        core.input.discardAll()
        core.output.discardAll()
        core.discardCarried()
    }

    func waitForNotifications(seconds: Double) -> PortNotifications {
        let pending = counters.takeNotifications()
        if !pending.isEmpty { return pending }
        controlWakeup.wait(seconds: seconds)
        return counters.takeNotifications()
    }

    func waitForCycle(seconds: Double) { engineWakeup.wait(seconds: seconds) }

    func receive(_ body: (UInt64, UnsafeRawBufferPointer) -> Void) -> Int {
        var received = 0
        while let event = core.input.pop(into: receiveScratch) {
            body(event.frame, UnsafeRawBufferPointer(start: receiveScratch, count: event.length))
            received += 1
        }
        return received
    }

    func schedule(frame: UInt64, port: Int, bytes: UnsafeRawBufferPointer) -> Bool {
        guard !counters.lost.load(ordering: .acquiring), port >= 0, port < outputCount else { return false }
        if core.output.push(frame: frame, port: UInt8(port), bytes: bytes) { return true }
        counters.dropped.wrappingIncrement(ordering: .relaxed)
        return false
    }

    var cycleStart: UInt64 { counters.cycleStart.load(ordering: .relaxed) }
    var cycleLength: Int { counters.cycleLength.load(ordering: .relaxed) }
    var outputIsDrained: Bool { core.output.isEmpty && !core.carrying.load(ordering: .acquiring) }
}

/// A backend whose I/O thread runs a `CycleCore`: its engine and control side is its `CycleEndpoints`,
/// so the protocol's waiting, receiving and scheduling are written once, here.
public protocol CycleDrivenBackend: PortBackend {
    var endpoints: CycleEndpoints { get }
}

extension CycleDrivenBackend {
    public func waitForNotifications(seconds: Double) -> PortNotifications {
        endpoints.waitForNotifications(seconds: seconds)
    }

    public func interruptNotificationWait() { endpoints.controlWakeup.post() }

    public func waitForCycle(seconds: Double) { endpoints.waitForCycle(seconds: seconds) }

    @discardableResult
    public func receive(_ body: (UInt64, UnsafeRawBufferPointer) -> Void) -> Int { endpoints.receive(body) }

    @discardableResult
    public func schedule(frame: UInt64, port: Int, bytes: UnsafeRawBufferPointer) -> Bool {
        endpoints.schedule(frame: frame, port: port, bytes: bytes)
    }

    public var cycleStart: UInt64 { endpoints.cycleStart }
    public var cycleLength: Int { endpoints.cycleLength }
    public var outputIsDrained: Bool { endpoints.outputIsDrained }
}
