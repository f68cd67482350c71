import CJACK
import CLink

#if canImport(Glibc)
    import Glibc
#endif

/// MIDI through a JACK server: one input, one or more outputs, sample-accurate both ways.
///
/// The process callback runs on JACK's thread against a preallocated `JACKProcessState` (which holds
/// the one `CycleCore`); the engine thread talks to it only through its face, `endpoints`, and the two
/// rings behind it; the control thread uses the backend itself: opens, connects and closes.
public final class JACKBackend: CycleDrivenBackend, @unchecked Sendable {
    // @unchecked: `client` and the port names change only on the control thread (open/close), while
    // the I/O and engine threads are stopped or not yet started; everything the other threads touch
    // lives behind `state` and is synchronized by rings and atomics.

    public let backendName = "jack"
    public private(set) var connectsClientsBeforeTheyRun = false
    public let configuration: PortConfiguration
    private let state: UnsafeMutablePointer<JACKProcessState>
    public let endpoints: CycleEndpoints
    private var counters: CycleCounters { endpoints.counters }
    private var client: OpaquePointer?
    public private(set) var inputPortName = ""
    public private(set) var outputPortNames: [String] = []
    /// The Link session while the preset follows one: it lives as long as the backend, across servers.
    private var linkSession: OpaquePointer?
    /// What JACK's timebase callback reads when Sideman publishes BBT.
    private let timebase: UnsafeMutablePointer<sideman_timebase>
    /// Whether this client became JACK's timebase master at the last open (false: another client is).
    public private(set) var isTimebaseMaster = false

    public init(configuration: PortConfiguration) {
        self.configuration = configuration
        let outputs = configuration.outputNames.count
        endpoints = CycleEndpoints(ringCapacity: configuration.ringCapacity, outputCount: outputs)
        state = .allocate(capacity: 1)
        state.initialize(
            to: JACKProcessState(
                core: endpoints.makeCore(),
                client: nil, inputPort: nil,
                outputPorts: .allocate(capacity: max(1, outputs)),
                outputBuffers: .allocate(capacity: max(1, outputs)),
                controlWakeup: endpoints.controlWakeup.semaphore))
        state.pointee.outputPorts.initialize(repeating: nil, count: max(1, outputs))
        state.pointee.outputBuffers.initialize(repeating: nil, count: max(1, outputs))
        timebase = .allocate(capacity: 1)
        timebase.initialize(to: sideman_timebase(quarters_per_minute: 120, beats_per_bar: 4, beat_type: 4))
        switch configuration.timing {
        case .none:
            break
        case .jackTransport(let bpm, let beatsPerBar, let beatUnit, _):
            timebase.pointee = sideman_timebase(
                quarters_per_minute: bpm, beats_per_bar: Int32(beatsPerBar), beat_type: Int32(beatUnit))
            state.pointee.timeline = .jackTransport(fallbackQuartersPerMinute: bpm)
            state.pointee.bridge = TickBridge(quartersPerBar: Double(beatsPerBar) * 4 / Double(beatUnit))
        case .link(let bpm, let quartersPerBar, let startStopSync):
            if let session = sideman_link_create(bpm) {
                sideman_link_enable_start_stop_sync(session, startStopSync ? 1 : 0)
                sideman_link_enable(session, 1)
                linkSession = session
                state.pointee.timeline = .link(
                    session: session, quartersPerBar: quartersPerBar, startStopSync: startStopSync)
            }
            state.pointee.bridge = TickBridge(quartersPerBar: quartersPerBar)
        }
    }

    deinit {
        close()
        if let linkSession { sideman_link_destroy(linkSession) }
        timebase.deallocate()
        state.pointee.core.deallocate()
        state.pointee.outputPorts.deallocate()
        state.pointee.outputBuffers.deallocate()
        state.deallocate()
    }

    // MARK: control thread

    public func open() throws(PortError) {
        close()
        let opened = Self.openClient(configuration.clientName, server: configuration.serverName)
        guard case .success(let client) = opened else {
            if case .failure(let error) = opened { throw error }
            return
        }
        state.pointee.core.restart()
        state.pointee.core.serverRestarted()
        state.pointee.client = client
        self.client = client

        let midi = JACK_DEFAULT_MIDI_TYPE
        guard let input = jack_port_register(client, configuration.inputName, midi, UInt(JackPortIsInput.rawValue), 0)
        else {
            close()
            throw PortError("jack", "cannot register port \(configuration.inputName)")
        }
        state.pointee.inputPort = input
        for (index, name) in configuration.outputNames.enumerated() {
            guard let port = jack_port_register(client, name, midi, UInt(JackPortIsOutput.rawValue), 0) else {
                close()
                throw PortError("jack", "cannot register port \(name)")
            }
            state.pointee.outputPorts[index] = port
        }
        // PipeWire's JACK says so in its version ("3.0.0.0 (using PipeWire 0.3.65)").
        connectsClientsBeforeTheyRun = String(cString: jack_get_version_string()).contains("PipeWire")
        inputPortName = String(cString: jack_port_name(input))
        outputPortNames = (0..<configuration.outputNames.count).map {
            String(cString: jack_port_name(state.pointee.outputPorts[$0]))
        }
        counters.sampleRate.store(Int(jack_get_sample_rate(client)), ordering: .relaxed)
        counters.bufferSize.store(Int(jack_get_buffer_size(client)), ordering: .relaxed)

        let context = UnsafeMutableRawPointer(state)
        // The probing callback only when a test preloaded the allocation counter (see CJACK).
        jack_set_process_callback(client, sideman_jack_probe_resolve() != 0 ? jackProbedProcess : jackProcess, context)
        jack_set_buffer_size_callback(client, jackBufferSize, context)
        jack_set_sample_rate_callback(client, jackSampleRate, context)
        jack_set_xrun_callback(client, jackXrun, context)
        jack_set_port_registration_callback(client, jackPortRegistration, context)
        jack_set_port_connect_callback(client, jackPortConnect, context)
        jack_on_info_shutdown(client, jackShutdown, context)
        state.pointee.bridge.restart()
        state.pointee.transportPosition = TransportPosition()
        guard jack_activate(client) == 0 else {
            close()
            throw PortError("jack", "cannot activate client \(configuration.clientName)")
        }
        isTimebaseMaster = false
        if case .jackTransport(_, _, _, true) = configuration.timing {
            isTimebaseMaster = sideman_jack_become_timebase_master(client, timebase) == 0
        }
        let priority = jack_is_realtime(client) != 0 ? Int(jack_client_real_time_priority(client)) : 0
        counters.ioPriority.store(max(0, priority), ordering: .relaxed)
    }

    public func close() {
        guard let client else { return }
        if !counters.lost.load(ordering: .acquiring) { jack_deactivate(client) }
        jack_client_close(client)
        self.client = nil
        state.pointee.client = nil
        state.pointee.inputPort = nil
        for index in 0..<configuration.outputNames.count { state.pointee.outputPorts[index] = nil }
        state.pointee.core.discardQueued()
    }

    /// The Link session as the control thread sees it: peers, tempo, beat in the bar, playing; nil
    /// when the preset follows no Link session.
    public func linkStatus() -> (peers: Int, bpm: Double, beat: Double, playing: Bool)? {
        guard let linkSession, case .link(_, let quartersPerBar, _) = configuration.timing else { return nil }
        var beat = 0.0
        var tempo = 0.0
        var playing: Int32 = 0
        sideman_link_app_read(linkSession, quartersPerBar, &beat, &tempo, &playing)
        return (Int(sideman_link_peers(linkSession)), tempo, beat, playing != 0)
    }

    public func timingStatus() -> String? {
        switch configuration.timing {
        case .none:
            return nil
        case .jackTransport(_, _, _, let master):
            return "following JACK transport" + (master ? (isTimebaseMaster ? " as timebase master" : " (another client is timebase master)") : "")
        case .link:
            guard let link = linkStatus() else { return "Link: no session (the Link library could not start)" }
            let peers = link.peers == 1 ? "1 peer" : "\(link.peers) peers"
            let tenths = Int((link.bpm * 10).rounded())
            return "following Link: \(peers), \(tenths / 10).\(tenths % 10) bpm" + (link.playing ? ", playing" : "")
        }
    }

    /// Proposes a tempo to the Link session (every peer follows); ignored without one.
    public func proposeLinkTempo(_ bpm: Double) {
        if let linkSession { sideman_link_set_tempo(linkSession, bpm) }
    }

    public func listPorts() throws(PortError) -> [PortInfo] {
        if let client { return Self.ports(of: client) }
        let opened = Self.openClient("sideman-ports", server: configuration.serverName)
        switch opened {
        case .failure(let error): throw error
        case .success(let temporary):
            defer { jack_client_close(temporary) }
            return Self.ports(of: temporary)
        }
    }

    public func connect(_ source: String, to destination: String) throws(PortError) {
        guard let client, !counters.lost.load(ordering: .acquiring) else {
            throw PortError("jack", "not connected to a server", isUnavailable: true)
        }
        let result = jack_connect(client, source, destination)
        guard result == 0 || result == EEXIST else {
            throw PortError(source, "cannot connect to \(destination)")
        }
    }

    public func status() -> PortStatus { counters.snapshot(connected: client != nil) }

    public func destinations(ofOutput index: Int) -> [String]? {
        guard client != nil, !counters.lost.load(ordering: .acquiring), index >= 0, index < configuration.outputNames.count,
            let port = state.pointee.outputPorts[index]
        else { return nil }
        guard let names = jack_port_get_connections(port) else { return [] }
        defer { jack_free(names) }
        var result: [String] = []
        var k = 0
        while let name = names[k] {
            result.append(String(cString: name))
            k += 1
        }
        return result
    }

    // Notifications and the engine face: CycleDrivenBackend, through `endpoints`.

    // MARK: helpers

    private static func openClient(_ name: String, server: String?) -> Result<OpaquePointer, PortError> {
        var status = jack_status_t(0)
        sideman_jack_set_quiet(1)
        defer { sideman_jack_set_quiet(0) }
        let options = jack_options_t(JackNoStartServer.rawValue)
        guard let client = sideman_jack_client_open(name, options, &status, server) else {
            let named = server ?? getenv("JACK_DEFAULT_SERVER").map { String(cString: $0) }
            let where_ = named.map { "server \"\($0)\"" } ?? "the default server"
            if status.rawValue & JackServerFailed.rawValue != 0 {
                return .failure(PortError("jack", "no server running (\(where_) did not answer)", isUnavailable: true))
            }
            return .failure(
                PortError("jack", "cannot open client \(name) on \(where_) (status 0x\(String(status.rawValue, radix: 16)))",
                    isUnavailable: true))
        }
        return .success(client)
    }

    private static func ports(of client: OpaquePointer) -> [PortInfo] {
        guard let names = jack_get_ports(client, nil, nil, 0) else { return [] }
        defer { jack_free(names) }
        var ports: [PortInfo] = []
        var index = 0
        while let cName = names[index] {
            index += 1
            guard let port = jack_port_by_name(client, cName) else { continue }
            let flags = jack_port_flags(port)
            let type = jack_port_type(port).map { String(cString: $0) } ?? "?"
            ports.append(
                PortInfo(
                    name: String(cString: cName),
                    type: type == JACK_DEFAULT_MIDI_TYPE ? "midi" : type == JACK_DEFAULT_AUDIO_TYPE ? "audio" : type,
                    direction: flags & Int32(JackPortIsInput.rawValue) != 0 ? .input : .output,
                    isPhysical: flags & Int32(JackPortIsPhysical.rawValue) != 0))
        }
        return ports
    }
}
