import Foundation
import Testing
import TestSupport

/// Paths the JACK tests need: the package root (for scripts/) and python3 (`Program.sideman` is the binary).
enum TestPaths {
    static var packageRoot: URL {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        return url
    }

    static var peerScript: String { packageRoot.appendingPathComponent("scripts/jack_peer.py").path }

    static let python = "/usr/bin/python3"

    /// Why JACK tests cannot run here, or nil when jackd, jack_lsp and python3-jack-client are present.
    static var jackMissing: String? {
        for tool in ["/usr/bin/jackd", "/usr/bin/jack_lsp", python] where !FileManager.default.isExecutableFile(atPath: tool) {
            return "\(tool) is not installed (run scripts/setup.sh)"
        }
        guard let check = try? Program.run(python, ["-c", "import jack"]) else { return "cannot run \(python)" }
        return check.status == 0 ? nil : "python3-jack-client is not installed (run scripts/setup.sh)"
    }
}

/// A private jackd on the dummy backend, named uniquely per test so tests never share a server.
final class JackServer: @unchecked Sendable {
    // @unchecked: used from one test at a time.
    let name: String
    let period: Int
    private var process: Process?

    init(period: Int = 128, tag: String = #function, startNow: Bool = true) throws {
        let clean = tag.filter { $0.isLetter || $0.isNumber }.prefix(16)
        name = "sm\(clean)\(getpid())\(Int.random(in: 0..<1_000_000))"
        self.period = period
        if startNow { try start() }
    }

    /// Environment for clients of this server.
    var environment: [String: String] { ["JACK_NO_START_SERVER": "1", "JACK_DEFAULT_SERVER": name] }

    /// Starts jackd and polls `jack_lsp -s NAME` until it answers. Real-time scheduling (-R) keeps the
    /// graph on time while other work loads the machine; where it is refused, jackd runs without it.
    func start() throws {
        do {
            try start(realtime: true)
        } catch {
            stop()
            try start(realtime: false)
        }
    }

    private func start(realtime: Bool) throws {
        leftRegistered = false
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/jackd")
        server.arguments = (realtime ? ["-R"] : []) + ["-n", name, "-d", "dummy", "-r", "48000", "-p", String(period)]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        server.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        try server.run()
        process = server
        let deadline = Date(timeIntervalSinceNow: 20)
        while Date() < deadline {
            if !server.isRunning { throw HarnessError("jackd -n \(name) exited with \(server.terminationStatus)") }
            if isAnswering() { return }
            usleep(20_000)
        }
        throw HarnessError("jackd -n \(name) did not answer within 20 s")
    }

    func isAnswering() -> Bool { portNames() != nil }

    /// `jack_lsp` output, or nil when the server does not answer.
    func portNames() -> [String]? { lsp([]) }

    /// Every connection as `source>destination` (both directions listed), or nil without a server.
    func connections() -> [String]? {
        guard let lines = lsp(["-c"]) else { return nil }
        var result: [String] = []
        var port = ""
        for line in lines {
            if line.hasPrefix(" ") {
                result.append("\(port)>\(line.trimmingCharacters(in: .whitespaces))")
            } else {
                port = line
            }
        }
        return result
    }

    private func lsp(_ options: [String]) -> [String]? {
        guard let lsp = try? Program.run("/usr/bin/jack_lsp", options + ["-s", name], environment: environment), lsp.status == 0 else {
            return nil
        }
        return lsp.stdout.split(separator: "\n").map(String.init)
    }

    /// Set when the server was killed with SIGKILL and not started again: JACK keeps a killed server's
    /// entry in its registry of 8 (in /dev/shm) until a server of the same name starts, so without a
    /// clean start and stop under this name, a few such tests would leave no room for any server.
    private var leftRegistered = false

    /// Stops jackd by PID with `signal` and waits for the PID to exit.
    func stop(signal: Int32 = SIGTERM) {
        defer { if signal == SIGKILL { leftRegistered = true } }
        guard let server = process else { return }
        process = nil
        if server.isRunning { kill(server.processIdentifier, signal) }
        let deadline = Date(timeIntervalSinceNow: 10)
        while server.isRunning && Date() < deadline { usleep(10_000) }
        if server.isRunning {
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
        }
    }

    deinit {
        stop()
        // Clear the registry entry a SIGKILL left: a clean start and stop under the same name.
        if leftRegistered, (try? start()) != nil { stop() }
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// scripts/jack_peer.py: an external JACK MIDI client with ports NAME:out and NAME:in.
final class JackPeer: @unchecked Sendable {
    // @unchecked: used from one test at a time.
    let name: String
    let child: ChildProcess
    let sampleRate: Int
    let blockSize: Int

    /// Starts the peer. With `beforeActivation`, the peer registers its ports, the closure runs, and
    /// only then (after `activationDelay` seconds) does the peer activate.
    /// `audioIn`: the peer also owns an audio input, NAME:audio_in, whose loudest sample `peakLevel` reads.
    convenience init(
        name: String, server: JackServer, activationDelay: Double = 0, audioIn: Bool = false, beforeActivation: (() throws -> Void)? = nil
    ) throws {
        try self.init(
            name: name, launcher: [], serverArguments: ["--server", server.name], environment: server.environment,
            activationDelay: activationDelay, audioIn: audioIn, beforeActivation: beforeActivation)
    }

    /// A peer started through `launcher` (e.g. `pw-jack`) with `environment`.
    init(
        name: String, launcher: [String], serverArguments: [String] = [], environment: [String: String], activationDelay: Double = 0,
        audioIn: Bool = false, beforeActivation: (() throws -> Void)? = nil
    ) throws {
        self.name = name
        let command = launcher + [TestPaths.python, TestPaths.peerScript, "--name", name] + serverArguments
            + (activationDelay > 0 ? ["--delay-activation", String(activationDelay)] : []) + (audioIn ? ["--audio-in"] : [])
        child = try ChildProcess(command[0], Array(command.dropFirst()), environment: environment)
        if activationDelay > 0 {
            guard child.nextLine() == "registered" else {
                child.stop()
                throw HarnessError("peer \(name) did not register: \(child.errorLines.joined(separator: " | "))")
            }
            try beforeActivation?()
        }
        guard let ready = child.nextLine(), ready.hasPrefix("ready ") else {
            child.stop()
            throw HarnessError("peer \(name) did not start: \(child.errorLines.joined(separator: " | "))")
        }
        let fields = ready.split(separator: " ")
        sampleRate = Int(fields[1]) ?? 0
        blockSize = Int(fields[2]) ?? 0
    }

    deinit { stop() }

    func stop() {
        child.send("quit")
        if child.waitForExit(timeout: 5) == nil { child.stop() }
    }

    /// The server's current frame (jack_frame_time).
    func now() throws -> UInt64 {
        child.send("now")
        guard let line = child.nextLine(), line.hasPrefix("now "), let frame = UInt64(line.split(separator: " ")[1])
        else { throw HarnessError("peer \(name): no answer to now") }
        return frame
    }

    /// Xruns the peer has seen since it started: cycles the server ran late, when JACK itself may deliver
    /// MIDI a period late or not at all.
    func xruns() throws -> Int {
        child.send("now")
        guard let line = child.nextLine(), line.hasPrefix("now "), let count = Int(line.split(separator: " ")[5])
        else { throw HarnessError("peer \(name): no answer to now") }
        return count
    }

    /// JACK transport as the peer's last cycle saw it: rolling, the frame time of transport frame 0 (nil
    /// until it has seen the transport roll; negative after a locate past the frame time), and the timebase master's BBT tempo and beats per bar (0
    /// without a master).
    func transport() throws -> (rolling: Bool, origin: Int64?, bpm: Double, beatsPerBar: Double) {
        child.send("transport")
        let fields = child.nextLine()?.split(separator: " ") ?? []
        guard fields.count == 5, fields[0] == "transport", let bpm = Double(fields[3]), let beats = Double(fields[4]) else {
            throw HarnessError("peer \(name): no answer to transport")
        }
        return (fields[1] == "1", Int64(fields[2]), bpm, beats)
    }

    /// The loudest sample heard on NAME:audio_in so far (a peer started with `audioIn`).
    func peakLevel() throws -> Double {
        child.send("level")
        guard let line = child.nextLine(), line.hasPrefix("level "), let peak = Double(line.split(separator: " ")[1])
        else { throw HarnessError("peer \(name): no answer to level") }
        return peak
    }

    func connect(_ source: String, _ destination: String) throws {
        child.send("connect \(source) \(destination)")
        let line = child.nextLine()
        guard line == "ok" else { throw HarnessError("peer \(name): connect \(source) \(destination): \(line ?? "no answer")") }
    }

    func send(_ bytes: [UInt8], at frame: UInt64) {
        child.send("at \(frame) \(bytes.map { String(format: "%02x", $0) }.joined())")
    }

    /// Events up to the end of Sideman's greeting, which `received()` leaves out once it has been awaited.
    private var greetingEnd = 0

    /// Waits for the greeting Sideman sends every destination it meets (sustain off and All Notes Off on
    /// each of the 16 channels, then the parts' programs), so the test goes on with what follows it.
    /// Returns the greeting's events.
    @discardableResult
    func awaitGreeting(timeout: Double = 20) throws -> [(frame: UInt64, bytes: [UInt8])] {
        let events = try waitForReceived(timeout: timeout) { Self.greetingLength(in: $0) != nil }
        guard let length = Self.greetingLength(in: events) else {
            throw HarnessError("peer \(name): no greeting (All Notes Off on all 16 channels) arrived")
        }
        greetingEnd += length
        return Array(events.prefix(length))
    }

    /// How many events, from the start, it takes to see All Notes Off on every channel; nil if not yet.
    static func greetingLength(in events: [(frame: UInt64, bytes: [UInt8])]) -> Int? {
        var channels = Set<UInt8>()
        for (index, event) in events.enumerated()
        where event.bytes.count == 3 && event.bytes[0] & 0xF0 == 0xB0 && event.bytes[1] == 123 {
            channels.insert(event.bytes[0] & 0x0F)
            if channels.count == 16 { return index + 1 }
        }
        return nil
    }

    /// Everything received so far (after the greeting, once awaited): (absolute frame, bytes).
    func received() throws -> [(frame: UInt64, bytes: [UInt8])] {
        Array(try everythingReceived().dropFirst(greetingEnd))
    }

    /// Everything received, greeting included.
    func everythingReceived() throws -> [(frame: UInt64, bytes: [UInt8])] {
        try records("recv").map { fields in
            let hex = Array(fields[1].utf8)
            let bytes = stride(from: 0, to: hex.count, by: 2).map {
                UInt8(String(decoding: hex[$0..<$0 + 2], as: UTF8.self), radix: 16) ?? 0
            }
            return (UInt64(fields[0]) ?? 0, bytes)
        }
    }

    /// Frames where sound began on NAME:audio_in after 20 ms or more of silence (a peer started with `audioIn`).
    func onsets() throws -> [UInt64] {
        try records("onsets").map { UInt64($0[0]) ?? 0 }
    }

    /// Frames the peer actually wrote its events at, with the frames asked for.
    func written() throws -> [(written: UInt64, asked: UInt64)] {
        try records("written").map { (UInt64($0[0]) ?? 0, UInt64($0[1]) ?? 0) }
    }

    private func records(_ command: String) throws -> [[String]] {
        child.send(command)
        guard let header = child.nextLine(), header.hasPrefix(command + " "),
            let count = Int(header.split(separator: " ")[1])
        else { throw HarnessError("peer \(name): no answer to \(command)") }
        return try (0..<count).map { _ in
            guard let line = child.nextLine() else { throw HarnessError("peer \(name): short \(command)") }
            return line.split(separator: " ").map(String.init)
        }
    }

    /// Polls until `received()` satisfies `done`, or `timeout` passes; returns the last list.
    func waitForReceived(
        timeout: Double = 20, until done: ([(frame: UInt64, bytes: [UInt8])]) -> Bool
    ) throws -> [(frame: UInt64, bytes: [UInt8])] {
        let deadline = Date(timeIntervalSinceNow: timeout)
        var events = try received()
        while !done(events) && Date() < deadline {
            usleep(20_000)
            events = try received()
        }
        return events
    }
}
