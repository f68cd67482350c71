/// Which way a port carries MIDI, seen from the port's owner: an `input` port receives.
public enum PortDirection: String, Sendable {
    case input = "in"
    case output = "out"
}

/// A port another program (or Sideman) owns, as listed by the backend.
public struct PortInfo: Hashable, Sendable {
    /// Full name, `client:port`.
    public var name: String
    /// `midi`, `audio`, or the backend's own type string.
    public var type: String
    public var direction: PortDirection
    public var isPhysical: Bool

    public init(name: String, type: String, direction: PortDirection, isPhysical: Bool) {
        self.name = name
        self.type = type
        self.direction = direction
        self.isPhysical = isPhysical
    }
}

/// What a backend needs to come up: the client's name and its ports.
public struct PortConfiguration: Sendable {
    public var clientName: String
    public var inputName: String
    /// One output per part, or a single output carrying a channel per part.
    public var outputNames: [String]
    /// JACK server name (nil: $JACK_DEFAULT_SERVER or the default server).
    public var serverName: String?
    /// Bytes of each ring between the process callback and the engine thread.
    public var ringCapacity: Int
    /// A timeline the backend follows and hands the engine as MIDI clock (JACK backend only).
    public var timing: ExternalTiming = .none

    public init(
        clientName: String = "sideman", inputName: String = "in", outputNames: [String] = ["out"],
        serverName: String? = nil, ringCapacity: Int = 1 << 16
    ) {
        self.clientName = clientName
        self.inputName = inputName
        self.outputNames = outputNames
        self.serverName = serverName
        self.ringCapacity = ringCapacity
    }
}

/// A studio timeline the engine's grid follows. The backend reads it every cycle and gives the engine
/// the equivalent MIDI clock (start, song position, continue, 24 ticks per quarter, stop), replacing any
/// clock on the input port.
public enum ExternalTiming: Sendable, Equatable {
    case none
    /// JACK transport. Tempo and bar come from BBT when a timebase master publishes it, else `bpm`
    /// (quarter notes per minute) counts from frame 0. With `timebaseMaster`, Sideman publishes `bpm`
    /// and the meter as BBT when no other client is master.
    case jackTransport(bpm: Double, beatsPerBar: Int, beatUnit: Int, timebaseMaster: Bool)
    /// An Ableton Link session: tempo and the phase of a bar of `quartersPerBar`; `bpm` is offered when
    /// Sideman is the first peer. With `startStopSync`, the grid runs only while the session plays.
    case link(bpm: Double, quartersPerBar: Double, startStopSync: Bool)
}

/// Counters and clock facts of a running backend, read by the control thread.
public struct PortStatus: Sendable, Equatable {
    public var sampleRate: Int = 0
    public var bufferSize: Int = 0
    public var cycles: UInt64 = 0
    public var xruns: UInt64 = 0
    /// Output events whose frame had already passed when their cycle came (written at offset 0).
    public var lateEvents: UInt64 = 0
    /// Events that did not fit a ring or a port buffer.
    public var droppedEvents: UInt64 = 0
    /// Cycles in which the server's clock read earlier than the engine's (`EngineFrameClock`): since the
    /// first, the engine's frames may run ahead of the server's by a constant up to a period or so.
    public var clockHeldCycles: UInt64 = 0
    /// True from a successful open until close or server loss.
    public var isConnected: Bool = false
    /// True once the server went away under an open client.
    public var isLost: Bool = false
    /// SCHED_FIFO priority of the I/O thread, 0 when it is not real-time: threads that serve it
    /// (the engine) should run just below it.
    public var ioPriority: Int = 0

    public init() {}
}

/// A failure to reach or use a backend; `subject` names the backend or the port for the user.
public struct PortError: Error, Sendable, CustomStringConvertible {
    public var subject: String
    public var problem: String
    /// True when the backend itself is absent (no server, no device): worth waiting for.
    public var isUnavailable: Bool

    public init(_ subject: String, _ problem: String, isUnavailable: Bool = false) {
        self.subject = subject
        self.problem = problem
        self.isUnavailable = isUnavailable
    }

    public var description: String { "\(subject): \(problem)" }
}

/// Things a callback saw that the control thread must act on outside real time.
public struct PortNotifications: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// A port appeared or went away: re-apply connection patterns.
    public static let portsChanged = PortNotifications(rawValue: 1)
    /// The server went away: stop sending, close, reconnect.
    public static let lost = PortNotifications(rawValue: 2)
    /// A connection was made or broken: a new destination of an output may need greeting.
    public static let connectionsChanged = PortNotifications(rawValue: 4)
}

/// The seam between the daemon and a MIDI transport (JACK, ALSA sequencer, in-process virtual).
///
/// Time is absolute frames at the backend's sample rate, counted from the backend's own origin (for
/// JACK, the server's frame counter; a sequencer backend converts its queue time to frames at its
/// nominal rate). Three threads use a backend, each through its own face: the control thread through
/// `PortControl` (the backend itself), the engine thread through the `EnginePort` the backend vends,
/// and the backend's own I/O thread through state no other thread's face can reach.
public protocol PortBackend: PortControl {
    /// The engine thread's face, handed to it when it starts; the same object for the backend's
    /// lifetime, across open and close.
    var enginePort: any EnginePort { get }
}

extension PortControl {
    public func timingStatus() -> String? { nil }
    public var connectsClientsBeforeTheyRun: Bool { false }
}

/// The control thread's face of a backend: bringing it up and down, connecting, listing, counters and
/// notifications. Not for the engine thread (open and close are not thread-safe against each other).
public protocol PortControl: AnyObject {
    /// Short backend name for messages: `jack`, `alsa`, `virtual`.
    var backendName: String { get }
    var configuration: PortConfiguration { get }
    /// Creates the client and its ports and starts I/O. Throws `PortError` (unavailable when there is
    /// no server to talk to).
    func open() throws(PortError)
    /// Stops I/O and releases the client; queued events are discarded. Safe after loss and when closed.
    func close()
    /// One line on the followed studio timeline (JACK transport, Link peers and tempo); nil for none.
    func timingStatus() -> String?
    /// Every port the backend can see, including Sideman's own.
    func listPorts() throws(PortError) -> [PortInfo]
    /// Connects `source` (an output) to `destination` (an input), both full port names. Connecting an
    /// existing connection succeeds.
    func connect(_ source: String, to destination: String) throws(PortError)
    /// Full names of this client's ports (`client:in`, `client:out`...), valid while open.
    var inputPortName: String { get }
    var outputPortNames: [String] { get }
    /// True when a client's ports can be connected before the client runs, so that what is sent to them
    /// meanwhile is lost (PipeWire's JACK; JACK itself refuses the connection until the client activates).
    var connectsClientsBeforeTheyRun: Bool { get }
    /// The ports output `index` is connected to now (full names), or nil when the backend cannot tell.
    func destinations(ofOutput index: Int) -> [String]?
    func status() -> PortStatus
    /// Sleeps until a callback reports something for the control thread, or `seconds` pass; returns
    /// and clears what was reported.
    func waitForNotifications(seconds: Double) -> PortNotifications
    /// Wakes `waitForNotifications` early (signals use this).
    func interruptNotificationWait()
}

/// The engine thread's face of a backend: the rings to and from the I/O thread, its wake-up, and the
/// clock it publishes. Every member is lock-free and allocation-free; `receive` and `schedule` are the
/// single consumer and producer of their rings, so one thread at a time (the engine thread) uses them.
/// The read-only members are safe from any thread.
public protocol EnginePort: AnyObject, Sendable {
    /// Sleeps until the I/O thread has run a cycle (or delivered input), or `seconds` pass.
    func waitForCycle(seconds: Double)
    /// Hands every queued input event to `body` with its absolute frame; returns how many.
    @discardableResult
    func receive(_ body: (_ frame: UInt64, _ bytes: UnsafeRawBufferPointer) -> Void) -> Int
    /// Queues one output event for the output port `port` at absolute `frame`. Events must be queued in
    /// nondecreasing frame order; an event whose frame has passed goes out at the start of the next
    /// cycle and counts as late. Returns false when the event was dropped (ring full, too long, lost).
    @discardableResult
    func schedule(frame: UInt64, port: Int, bytes: UnsafeRawBufferPointer) -> Bool
    /// Start of the most recent cycle and its length: frames before `cycleStart + cycleLength` can no
    /// longer be written sample-accurately.
    var cycleStart: UInt64 { get }
    var cycleLength: Int { get }
    /// Cycles run since the last open (`PortStatus.cycles`).
    var cycles: UInt64 { get }
    /// The server's sample rate (`PortStatus.sampleRate`).
    var sampleRate: Int { get }
    /// True once the server went away under an open client (`PortStatus.isLost`).
    var isLost: Bool { get }
    /// True when nothing queued for output is left to write (the control thread reads it at stop,
    /// after the engine thread has been joined).
    var outputIsDrained: Bool { get }
}
