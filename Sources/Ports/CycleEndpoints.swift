/// The engine face of a backend whose I/O thread runs a `CycleCore`: waiting for cycles, taking input
/// from the ring and queueing output into it, reading the clock. JACK, ALSA and the virtual backend
/// differ only in how their I/O thread runs; this part is the same for all of them. It owns what the
/// I/O thread shares with the other threads (`CycleChannels`) and the two wake-ups; the I/O thread's
/// own `CycleCore` lives in its state, not here.
public final class CycleEndpoints: EnginePort, @unchecked Sendable {
    // @unchecked: the rings are single-producer single-consumer (the engine thread is the one
    // consumer of `input` and producer of `output`), the counters are atomics, the wake-ups semaphores.

    let engineWakeup = Wakeup()
    let controlWakeup = Wakeup()
    let channels: CycleChannels
    let outputCount: Int
    var counters: CycleCounters { channels.counters }
    /// One input event's bytes on their way to the engine's handler.
    private let receiveScratch: UnsafeMutableRawPointer

    init(ringCapacity: Int, outputCount: Int) {
        self.outputCount = outputCount
        channels = CycleChannels(ringCapacity: ringCapacity, engineWakeup: engineWakeup)
        receiveScratch = .allocate(byteCount: channels.input.maxEventSize, alignment: 16)
    }

    deinit {
        channels.destroy()
        receiveScratch.deallocate()
    }

    /// The I/O thread's core over these channels; its owner deallocates it after the thread stopped.
    func makeCore() -> CycleCore { CycleCore(channels: channels, outputCount: outputCount) }

    // MARK: control thread

    func waitForNotifications(seconds: Double) -> PortNotifications {
        let pending = counters.takeNotifications()
        if !pending.isEmpty { return pending }
        controlWakeup.wait(seconds: seconds)
        return counters.takeNotifications()
    }

    // MARK: EnginePort

    public func waitForCycle(seconds: Double) { engineWakeup.wait(seconds: seconds) }

    @discardableResult
    public func receive(_ body: (UInt64, UnsafeRawBufferPointer) -> Void) -> Int {
        var received = 0
        while let event = channels.input.pop(into: receiveScratch) {
            body(event.frame, UnsafeRawBufferPointer(start: receiveScratch, count: event.length))
            received += 1
        }
        return received
    }

    @discardableResult
    public func schedule(frame: UInt64, port: Int, bytes: UnsafeRawBufferPointer) -> Bool {
        guard !counters.lost.load(ordering: .acquiring), port >= 0, port < outputCount else { return false }
        if channels.output.push(frame: frame, port: UInt8(port), bytes: bytes) { return true }
        counters.dropped.wrappingIncrement(ordering: .relaxed)
        return false
    }

    public var cycleStart: UInt64 { counters.cycleStart.load(ordering: .relaxed) }
    public var cycleLength: Int { counters.cycleLength.load(ordering: .relaxed) }
    public var cycles: UInt64 { counters.cycles.load(ordering: .relaxed) }
    public var sampleRate: Int { counters.sampleRate.load(ordering: .relaxed) }
    public var isLost: Bool { counters.lost.load(ordering: .acquiring) }
    public var outputIsDrained: Bool { channels.output.isEmpty && !channels.carrying.load(ordering: .acquiring) }
}

/// A backend whose I/O thread runs a `CycleCore`: its engine face is its `CycleEndpoints`, and the
/// control face's notification waiting is written once, here.
public protocol CycleDrivenBackend: PortBackend {
    var endpoints: CycleEndpoints { get }
}

extension CycleDrivenBackend {
    public var enginePort: any EnginePort { endpoints }

    public func waitForNotifications(seconds: Double) -> PortNotifications {
        endpoints.waitForNotifications(seconds: seconds)
    }

    public func interruptNotificationWait() { endpoints.controlWakeup.post() }
}
