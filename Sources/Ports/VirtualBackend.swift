import Synchronization

/// An in-process backend with a simulated clock, for tests and offline runs: the caller plays the
/// server, feeding input with `play(frame:bytes:)` and running cycles with `runCycle()`; what the
/// engine scheduled comes back from `takeDelivered()` with the frame it would have sounded at.
///
/// It shares the cycle logic (rings, frame offsets, late counting) with the JACK backend, so the
/// engine sees exactly what it would see on a server.
public final class VirtualBackend: CycleDrivenBackend, @unchecked Sendable {
    // @unchecked: `core` is used by one cycle-running thread at a time (the caller of `runCycle`), the
    // engine talks to it only through its rings, and the shared lists are behind a Mutex.

    public struct Delivered: Hashable, Sendable {
        public var frame: UInt64
        public var port: Int
        public var bytes: [UInt8]
    }

    public let backendName = "virtual"
    public let configuration: PortConfiguration
    public let sampleRate: Int
    public let bufferSize: Int
    private var core: CycleCore
    public let endpoints: CycleEndpoints
    private var counters: CycleCounters { endpoints.counters }
    private let pending = Mutex<[(frame: UInt64, bytes: [UInt8])]>([])
    private let delivered = Mutex<[Delivered]>([])
    private let connections = Mutex<[(String, String)]>([])
    private let isOpen = Atomic<Bool>(false)
    private var now: UInt64 = 0

    public init(configuration: PortConfiguration = PortConfiguration(), sampleRate: Int = 48000, bufferSize: Int = 128) {
        self.configuration = configuration
        self.sampleRate = sampleRate
        self.bufferSize = bufferSize
        endpoints = CycleEndpoints(ringCapacity: configuration.ringCapacity, outputCount: configuration.outputNames.count)
        core = endpoints.makeCore()
    }

    deinit { core.deallocate() }

    /// The frame the next cycle starts at.
    public var frame: UInt64 { now }

    /// Queues a player's event for the cycle that contains `frame`.
    public func play(frame: UInt64, bytes: [UInt8]) {
        pending.withLock { $0.append((frame, bytes)) }
    }

    /// Runs one cycle of `bufferSize` frames: due input reaches the engine's ring with its frame, due
    /// output is collected at its frame (late output at the cycle start), the engine is woken.
    public func runCycle() {
        guard isOpen.load(ordering: .acquiring) else { return }
        let serverStart = now
        let start = core.begin(extendedServerFrame: serverStart, length: bufferSize)
        let end = serverStart + UInt64(bufferSize)
        let due = pending.withLock { list -> [(frame: UInt64, bytes: [UInt8])] in
            let due = list.filter { $0.frame < end }.sorted { $0.frame < $1.frame }
            list.removeAll { $0.frame < end }
            return due
        }
        for event in due {
            // Played frames are the simulated server's; the engine sees them on its own clock.
            let offset = event.frame > serverStart ? event.frame - serverStart : 0
            event.bytes.withUnsafeBytes { core.received(frame: start + offset, bytes: $0) }
        }
        var written: [Delivered] = []
        core.dispatch(start: start, length: bufferSize) { port, offset, bytes in
            written.append(Delivered(frame: start + UInt64(offset), port: port, bytes: Array(bytes)))
            return true
        }
        delivered.withLock { $0.append(contentsOf: written) }
        now = end
        core.end()
    }

    /// Everything written to the output ports so far, oldest first; clears the list.
    public func takeDelivered() -> [Delivered] {
        delivered.withLock { list in
            defer { list.removeAll() }
            return list
        }
    }

    /// Sets the simulated server's frame time for the next cycle, as a server's clock does under an xrun
    /// burst (a step back) or after a restart (`restarted`: a new server counting from its own origin).
    public func setServerFrame(_ frame: UInt64, restarted: Bool = false) {
        now = frame
        if restarted { core.serverRestarted() }
    }

    /// Simulates the server going away under the client.
    public func simulateLoss() {
        counters.lost.store(true, ordering: .releasing)
        counters.notify(.lost)
        endpoints.controlWakeup.post()
        endpoints.engineWakeup.post()
    }

    // MARK: PortBackend

    public func open() throws(PortError) {
        core.restart()
        counters.sampleRate.store(sampleRate, ordering: .relaxed)
        counters.bufferSize.store(bufferSize, ordering: .relaxed)
        isOpen.store(true, ordering: .releasing)
    }

    public func close() {
        isOpen.store(false, ordering: .releasing)
        core.discardQueued()
    }

    public var inputPortName: String { "\(configuration.clientName):\(configuration.inputName)" }
    public var outputPortNames: [String] { configuration.outputNames.map { "\(configuration.clientName):\($0)" } }

    public func listPorts() throws(PortError) -> [PortInfo] {
        [PortInfo(name: inputPortName, type: "midi", direction: .input, isPhysical: false)]
            + outputPortNames.map { PortInfo(name: $0, type: "midi", direction: .output, isPhysical: false) }
    }

    public func connect(_ source: String, to destination: String) throws(PortError) {
        connections.withLock { $0.append((source, destination)) }
    }

    /// Connections made so far, as (source, destination).
    public var connectionList: [(String, String)] { connections.withLock { $0 } }

    public func destinations(ofOutput index: Int) -> [String]? {
        guard index >= 0, index < outputPortNames.count else { return nil }
        let source = outputPortNames[index]
        return connections.withLock { $0.filter { $0.0 == source }.map(\.1) }
    }

    public func status() -> PortStatus { counters.snapshot(connected: isOpen.load(ordering: .acquiring)) }

    // Notifications and the engine face: CycleDrivenBackend, through `endpoints`.
}
