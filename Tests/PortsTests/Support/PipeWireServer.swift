import Foundation

/// A private, headless PipeWire with its JACK emulation, for running Sideman and its peers through
/// `pw-jack` as on a current desktop: no session manager, no D-Bus, a driver node that schedules the
/// JACK clients by itself, its own runtime folder and socket name so it meets no other PipeWire.
final class PipeWireServer: @unchecked Sendable {
    // @unchecked: used from one test at a time.
    let folder: String
    let remote: String
    let quantum: Int
    private var process: Process?

    /// Why PipeWire tests cannot run here, or nil.
    static var missing: String? {
        for tool in ["/usr/bin/pipewire", "/usr/bin/pw-jack"] where !FileManager.default.isExecutableFile(atPath: tool) {
            return "\(tool) is not installed (scripts/setup.sh installs pipewire and pipewire-jack)"
        }
        return nil
    }

    /// The server's settings: only the modules JACK clients need, and the dummy driver (the stock
    /// config's) that runs the graph without a sound card.
    static let configuration = """
        context.properties = {
            core.daemon = true
            link.max-buffers = 16
            log.level = 2
            default.clock.rate = 48000
            default.clock.quantum = 256
            default.clock.min-quantum = 16
            default.clock.max-quantum = 8192
        }
        context.spa-libs = { support.* = support/libspa-support }
        context.modules = [
            { name = libpipewire-module-rt args = { nice.level = -11 } flags = [ ifexists nofail ] }
            { name = libpipewire-module-protocol-native }
            { name = libpipewire-module-metadata }
            { name = libpipewire-module-spa-node-factory }
            { name = libpipewire-module-client-node }
            { name = libpipewire-module-access }
            { name = libpipewire-module-adapter }
            { name = libpipewire-module-link-factory }
        ]
        context.objects = [
            { factory = spa-node-factory args = { factory.name = support.node.driver node.name = Dummy-Driver
                node.group = pipewire.dummy priority.driver = 20000 } }
            { factory = spa-node-factory args = { factory.name = support.node.driver node.name = Freewheel-Driver
                node.group = pipewire.freewheel priority.driver = 19000 node.freewheel = true } }
        ]

        """

    /// Environment for the server and its clients. `loop.cancel = false` for the JACK clients: PipeWire
    /// 0.3.65 cancels a client's process thread at close, and a Python client's thread can die holding
    /// the interpreter lock, hanging the peer for ever.
    var environment: [String: String] {
        [
            "XDG_RUNTIME_DIR": "\(folder)/run", "PIPEWIRE_RUNTIME_DIR": "\(folder)/run", "XDG_CONFIG_HOME": "\(folder)/config",
            "PIPEWIRE_REMOTE": remote, "PIPEWIRE_QUANTUM": "\(quantum)/48000", "DBUS_SESSION_BUS_ADDRESS": "",
        ]
    }

    init(quantum: Int = 128) throws {
        self.quantum = quantum
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("sideman-pw-\(getpid())-\(Int.random(in: 0..<1_000_000))").path
        remote = "sideman-pw-\(getpid())-\(Int.random(in: 0..<1_000_000))"
        let manager = FileManager.default
        try manager.createDirectory(atPath: "\(folder)/run", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try manager.createDirectory(atPath: "\(folder)/config/pipewire/jack.conf.d", withIntermediateDirectories: true)
        try Self.configuration.write(toFile: "\(folder)/pipewire.conf", atomically: true, encoding: .utf8)
        try "context.properties = { loop.cancel = false }\n".write(
            toFile: "\(folder)/config/pipewire/jack.conf.d/50-no-cancel.conf", atomically: true, encoding: .utf8)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/pipewire")
        server.arguments = ["-c", "\(folder)/pipewire.conf"]
        server.environment = ProcessInfo.processInfo.environment.merging(environment.merging(["PIPEWIRE_CORE": remote]) { $1 }) { $1 }
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        process = server
        let deadline = Date(timeIntervalSinceNow: 20)
        while Date() < deadline {
            guard server.isRunning else { throw HarnessError("pipewire exited with \(server.terminationStatus)") }
            if let lsp = try? ChildProcess("/usr/bin/pw-jack", ["jack_lsp"], environment: environment), lsp.waitForExit(timeout: 5) == 0 { return }
            usleep(50_000)
        }
        stop()
        throw HarnessError("pipewire did not answer pw-jack jack_lsp within 20 s")
    }

    /// `pw-jack jack_lsp -c`: each connection as "from>to".
    func connections() -> [String] {
        guard let lsp = try? ChildProcess("/usr/bin/pw-jack", ["jack_lsp", "-c"], environment: environment), lsp.waitForExit(timeout: 5) == 0 else {
            return []
        }
        var lines: [String] = []
        while let line = lsp.nextLine(timeout: 1) { lines.append(line) }
        var pairs: [String] = []
        var current = ""
        for line in lines {
            if line.hasPrefix(" ") || line.hasPrefix("\t") {
                pairs.append("\(current)>\(line.trimmingCharacters(in: .whitespaces))")
            } else {
                current = line
            }
        }
        return pairs
    }

    func stop() {
        guard let process else { return }
        self.process = nil
        if process.isRunning {
            process.terminate()
            let deadline = Date(timeIntervalSinceNow: 5)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: folder)
    }

    deinit { stop() }
}
