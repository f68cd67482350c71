import CALSA

#if canImport(Glibc)
    import Glibc
#endif

/// MIDI through the ALSA sequencer: a client with one input port and one or more output ports.
///
/// The sequencer has no process cycle, so the backend makes its own: an I/O thread wakes on input or
/// every `period` frames, stamps input with the client's queue time (the kernel stamps each event on
/// arrival), and hands output to the queue scheduled at its exact time, up to `lookahead` frames early,
/// so timing is the kernel timer's, not the thread's. Times are frames at a nominal `sampleRate` so the
/// engine sees the same clock as on JACK. It shares `CycleCore` (rings, late counting) with the others.
public final class ALSABackend: CycleDrivenBackend, @unchecked Sendable {
    // @unchecked: `sequencer`, the port ids and `ioThread` change only on the control thread in
    // open/close while the I/O thread is stopped; the engine thread uses only the rings and atomics.

    public let backendName = "alsa"
    public let configuration: PortConfiguration
    public let sampleRate: Int
    /// Frames between I/O passes when no input arrives.
    public let period: Int
    /// How far ahead of its time an event is handed to the kernel queue.
    public let lookahead: Int

    private let state: UnsafeMutablePointer<ALSAIOState>
    public let endpoints: CycleEndpoints
    private var counters: CycleCounters { endpoints.counters }
    private var ioThread: pthread_t?
    public private(set) var inputPortName = ""
    public private(set) var outputPortNames: [String] = []

    public init(configuration: PortConfiguration, sampleRate: Int = 48000, period: Int = 64, lookahead: Int = 256) {
        self.configuration = configuration
        self.sampleRate = sampleRate
        self.period = period
        self.lookahead = lookahead
        let outputs = max(1, configuration.outputNames.count)
        endpoints = CycleEndpoints(ringCapacity: configuration.ringCapacity, outputCount: configuration.outputNames.count)
        state = .allocate(capacity: 1)
        state.initialize(
            to: ALSAIOState(
                core: endpoints.makeCore(), controlWakeup: endpoints.controlWakeup.semaphore,
                outputPorts: .allocate(capacity: outputs), sampleRate: sampleRate, period: period,
                lookahead: lookahead))
        state.pointee.outputPorts.initialize(repeating: -1, count: outputs)
    }

    deinit {
        close()
        state.pointee.core.deallocate()
        state.pointee.outputPorts.deallocate()
        state.pointee.running.destroy()
        state.pointee.inputBuffer.deallocate()
        state.deallocate()
    }

    /// True when this machine has a sequencer device at all.
    public static var deviceExists: Bool { access("/dev/snd/seq", F_OK) == 0 }

    // MARK: control thread

    public func open() throws(PortError) {
        close()
        let sequencer = try Self.openSequencer(configuration.clientName)
        state.pointee.core.restart()
        // A new queue starts its time at 0: the engine's clock continues where it stopped.
        state.pointee.core.serverRestarted()
        state.pointee.sequencer = sequencer
        let input = sideman_seq_add_input_port(sequencer, configuration.inputName)
        guard input >= 0 else {
            close()
            throw PortError("alsa", "cannot create port \(configuration.inputName): \(Self.describe(input))")
        }
        state.pointee.inputPort = input
        for (index, name) in configuration.outputNames.enumerated() {
            let port = sideman_seq_add_output_port(sequencer, name)
            guard port >= 0 else {
                close()
                throw PortError("alsa", "cannot create port \(name): \(Self.describe(port))")
            }
            state.pointee.outputPorts[index] = port
        }
        // Without announcements a keyboard plugged in later would never be connected.
        _ = sideman_seq_watch_announcements(sequencer, input)
        let client = sideman_seq_client_id(sequencer)
        inputPortName = "\(configuration.clientName):\(configuration.inputName)"
        outputPortNames = configuration.outputNames.map { "\(configuration.clientName):\($0)" }
        state.pointee.clientID = client
        counters.sampleRate.store(sampleRate, ordering: .relaxed)
        counters.bufferSize.store(period, ordering: .relaxed)
        state.pointee.running.store(true, ordering: .releasing)
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, alsaIOThreadMain, UnsafeMutableRawPointer(state))
        guard rc == 0 else {
            close()
            throw PortError("alsa", "cannot start the I/O thread (\(String(cString: strerror(rc))))")
        }
        ioThread = thread
    }

    public func close() {
        if let thread = ioThread {
            state.pointee.running.store(false, ordering: .releasing)
            pthread_join(thread, nil)
            ioThread = nil
        }
        if let sequencer = state.pointee.sequencer {
            sideman_seq_close(sequencer)
            state.pointee.sequencer = nil
        }
        state.pointee.core.discardQueued()
    }

    public func listPorts() throws(PortError) -> [PortInfo] {
        if let sequencer = state.pointee.sequencer { return Self.ports(of: sequencer) }
        let temporary = try Self.openSequencer("sideman-ports")
        defer { sideman_seq_close(temporary) }
        return Self.ports(of: temporary)
    }

    public func destinations(ofOutput index: Int) -> [String]? {
        guard let sequencer = state.pointee.sequencer, index >= 0, index < configuration.outputNames.count else { return nil }
        final class Found { var addresses: [(Int32, Int32)] = [] }
        let found = Found()
        let context = Unmanaged.passUnretained(found).toOpaque()
        _ = sideman_seq_subscribers(sequencer, state.pointee.outputPorts[index], { context, client, port in
            Unmanaged<Found>.fromOpaque(context!).takeUnretainedValue().addresses.append((client, port))
        }, context)
        let known = Self.addresses(of: sequencer)
        return found.addresses.map { address in
            known.first { $0.client == address.0 && $0.port == address.1 }.map { "\($0.clientName):\($0.portName)" }
                ?? "\(address.0):\(address.1)"
        }
    }

    /// Connects by full names (`client:port`, or numeric `128:0`). One side must be Sideman's own port:
    /// the sequencer lets a client subscribe its own ports.
    public func connect(_ source: String, to destination: String) throws(PortError) {
        guard let sequencer = state.pointee.sequencer else {
            throw PortError("alsa", "not connected to the sequencer", isUnavailable: true)
        }
        let ports = Self.addresses(of: sequencer)
        if let index = outputPortNames.firstIndex(of: source) {
            guard let target = Self.resolve(destination, in: ports, direction: .input) else {
                throw PortError(destination, "no such ALSA sequencer port")
            }
            let rc = sideman_seq_connect_to(sequencer, state.pointee.outputPorts[index], target.client, target.port)
            guard rc == 0 || rc == -EBUSY else { throw PortError(source, "cannot connect to \(destination): \(Self.describe(rc))") }
        } else if destination == inputPortName {
            guard let origin = Self.resolve(source, in: ports, direction: .output) else {
                throw PortError(source, "no such ALSA sequencer port")
            }
            let rc = sideman_seq_connect_from(sequencer, state.pointee.inputPort, origin.client, origin.port)
            guard rc == 0 || rc == -EBUSY else { throw PortError(source, "cannot connect to \(destination): \(Self.describe(rc))") }
        } else {
            throw PortError(source, "the ALSA backend connects only to or from Sideman's own ports")
        }
    }

    public func status() -> PortStatus { counters.snapshot(connected: state.pointee.sequencer != nil) }

    // Notifications and the engine face: CycleDrivenBackend, through `endpoints`.

    // MARK: helpers

    private static func openSequencer(_ name: String) throws(PortError) -> OpaquePointer {
        var sequencer: OpaquePointer?
        let rc = sideman_seq_open(name, &sequencer)
        guard rc == 0, let sequencer else {
            if rc == -ENOENT || !deviceExists {
                throw PortError(
                    "alsa", "no ALSA sequencer: /dev/snd/seq does not exist (load the snd-seq kernel module, or use --backend jack)",
                    isUnavailable: true)
            }
            throw PortError("alsa", "cannot open the sequencer: \(describe(rc))", isUnavailable: rc == -EACCES || rc == -EPERM)
        }
        return sequencer
    }

    static func describe(_ rc: Int32) -> String { String(cString: strerror(-rc)) }

    struct Address: Hashable {
        var client: Int32
        var port: Int32
        var clientName: String
        var portName: String
        var capabilities: UInt32
        var type: UInt32
    }

    private final class Collector {
        var found: [Address] = []
    }

    static func addresses(of sequencer: OpaquePointer) -> [Address] {
        let collector = Collector()
        let context = Unmanaged.passUnretained(collector).toOpaque()
        _ = sideman_seq_list_ports(sequencer, { context, client, port, clientName, portName, capabilities, type in
            let collector = Unmanaged<Collector>.fromOpaque(context!).takeUnretainedValue()
            collector.found.append(
                Address(
                    client: client, port: port, clientName: String(cString: clientName!), portName: String(cString: portName!),
                    capabilities: capabilities, type: type))
        }, context)
        return collector.found
    }

    /// A port by `client:port` name, numeric `client:port`, or a bare client name (its first port that
    /// can be used in that direction).
    static func resolve(_ name: String, in ports: [Address], direction: PortDirection) -> Address? {
        let usable = ports.filter { direction == .input ? $0.capabilities & sideman_seq_cap_write != 0 : $0.capabilities & sideman_seq_cap_read != 0 }
        if let colon = name.lastIndex(of: ":") {
            let client = String(name[..<colon])
            let port = String(name[name.index(after: colon)...])
            if let c = Int32(client), let p = Int32(port) { return usable.first { $0.client == c && $0.port == p } }
            return usable.first { $0.clientName == client && $0.portName == port }
        }
        return usable.first { $0.clientName == name }
    }

    static func ports(of sequencer: OpaquePointer) -> [PortInfo] {
        var result: [PortInfo] = []
        for a in addresses(of: sequencer) where a.client != 0 && a.capabilities & sideman_seq_cap_no_export == 0 {
            let name = "\(a.clientName):\(a.portName)"
            let physical = a.type & sideman_seq_type_hardware != 0
            if a.capabilities & sideman_seq_cap_read != 0 {
                result.append(PortInfo(name: name, type: "midi", direction: .output, isPhysical: physical))
            }
            if a.capabilities & sideman_seq_cap_write != 0 {
                result.append(PortInfo(name: name, type: "midi", direction: .input, isPhysical: physical))
            }
        }
        return result
    }
}

/// What the I/O thread owns. Allocated once; the thread reads only this. Noncopyable because it holds
/// the I/O thread's one `CycleCore`.
struct ALSAIOState: ~Copyable {
    var core: CycleCore
    var counters: CycleCounters { core.counters }
    let controlWakeup: UnsafeMutablePointer<sem_t>
    let outputPorts: UnsafeMutablePointer<Int32>
    let sampleRate: Int
    let period: Int
    let lookahead: Int
    var sequencer: OpaquePointer? = nil
    var inputPort: Int32 = -1
    var clientID: Int32 = -1
    let running = AtomicCell<Bool>(false)
    let inputBuffer = UnsafeMutablePointer<UInt8>.allocate(capacity: 1 << 16)

    init(
        core: consuming CycleCore, controlWakeup: UnsafeMutablePointer<sem_t>,
        outputPorts: UnsafeMutablePointer<Int32>, sampleRate: Int, period: Int, lookahead: Int
    ) {
        self.core = core
        self.controlWakeup = controlWakeup
        self.outputPorts = outputPorts
        self.sampleRate = sampleRate
        self.period = period
        self.lookahead = lookahead
    }

    func frames(_ nanoseconds: UInt64) -> UInt64 {
        nanoseconds / 1_000_000_000 * UInt64(sampleRate) + nanoseconds % 1_000_000_000 * UInt64(sampleRate) / 1_000_000_000
    }

    /// The first nanosecond of a frame (rounded up), so `frames(nanoseconds(f)) == f` and an event is
    /// never handed to the queue for a time before its frame.
    func nanoseconds(_ frames: UInt64) -> UInt64 {
        let rate = UInt64(sampleRate)
        return frames / rate * 1_000_000_000 + (frames % rate * 1_000_000_000 + rate - 1) / rate
    }
}

/// The I/O thread: input to the engine's ring with its frame, due output to the kernel queue at its
/// exact time. It allocates nothing per pass.
private func alsaIOThreadMain(_ context: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    let state = context!.assumingMemoryBound(to: ALSAIOState.self)
    guard let sequencer = state.pointee.sequencer else { return nil }
    let periodMilliseconds = Int32(max(1, state.pointee.period * 1000 / state.pointee.sampleRate))
    var atNanoseconds: UInt64 = 0
    var port: Int32 = 0
    var announcement: Int32 = 0
    while state.pointee.running.load(ordering: .acquiring) {
        let waited = sideman_seq_wait_input(sequencer, periodMilliseconds)
        // `now` is the queue's frame; `start` the engine's (they differ once the queue went back or restarted).
        let now = state.pointee.frames(sideman_seq_queue_time_ns(sequencer))
        let start = state.pointee.core.begin(extendedServerFrame: now, length: state.pointee.period)
        if waited > 0 {
            while true {
                let n = sideman_seq_receive(sequencer, state.pointee.inputBuffer, 1 << 16, &atNanoseconds, &port, &announcement)
                if n > 0 {
                    let bytes = UnsafeRawBufferPointer(start: state.pointee.inputBuffer, count: Int(n))
                    // An event stamped before this cycle (it waited in the kernel) keeps its distance
                    // before `start`; saturating, so a stamp from before a queue restart cannot wrap.
                    let queueFrame = state.pointee.frames(atNanoseconds)
                    let before = now > queueFrame ? now - queueFrame : 0
                    let frame = start > before ? start - before : 0
                    state.pointee.core.received(frame: frame, bytes: bytes)
                } else if n == 0 && announcement != 0 {
                    state.pointee.counters.notify(.portsChanged)
                    sem_post(state.pointee.controlWakeup)
                } else if n == -ENOSPC {
                    state.pointee.counters.dropped.wrappingIncrement(ordering: .relaxed)
                } else if n == 0 {
                    break
                } else {
                    if n == -ENODEV || n == -EBADFD {
                        state.pointee.counters.lost.store(true, ordering: .releasing)
                        state.pointee.counters.notify(.lost)
                        sem_post(state.pointee.controlWakeup)
                        state.pointee.core.end()
                        return nil
                    }
                    break
                }
            }
        }
        let outputPorts = state.pointee.outputPorts
        state.pointee.core.dispatch(start: start, length: state.pointee.period + state.pointee.lookahead) { index, offset, bytes in
            let at = state.pointee.nanoseconds(now + UInt64(offset))
            return sideman_seq_send(sequencer, outputPorts[index], at, bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), bytes.count) == 0
        }
        _ = sideman_seq_flush(sequencer)
        state.pointee.core.end()
    }
    return nil
}
