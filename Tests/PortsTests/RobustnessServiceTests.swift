import Foundation
import Testing
import TestSupport

/// The service face of the binary: `sideman doctor`, log levels and lines, the metrics options.
@Suite(.serialized, .enabled(if: TestPaths.jackMissing == nil, "needs jackd and python3-jack-client (scripts/setup.sh)"))
struct RobustnessServiceTests {
    static func checkDoctorOutput(_ lines: [String], status: Int32?) {
        let checks = lines.dropLast()
        for line in checks { #expect(line.wholeMatch(of: /(ok|warn|fail) +[a-z0-9 \/_-]+: .+/) != nil, "not a check line: \(line)") }
        let failed = checks.filter { $0.hasPrefix("fail") }.count
        #expect(lines.last == "\(failed) failed, \(checks.filter { $0.hasPrefix("warn") }.count) warnings, \(checks.filter { $0.hasPrefix("ok") }.count) ok")
        #expect(status == (failed > 0 ? 69 : 0), "exit status follows the failures")
        for check in ["jack", "alsa", "rtprio", "memlock", "sched_fifo", "audio group", "presets", "cpu", "int8"] {
            #expect(checks.contains { $0.dropFirst(5).hasPrefix("\(check):") }, "no \(check) check")
        }
        for line in checks where !line.hasPrefix("ok") { #expect(line.contains("; fix: ") || line.hasPrefix("warn cpu"), "says what to fix: \(line)") }
    }

    @Test func doctorReportsTheRunningServerItsRateAndPeriod() throws {
        let server = try JackServer(period: 256)
        defer { server.stop() }
        let doctor = try ChildProcess(Program.sideman, ["doctor"], environment: server.environment)
        var lines: [String] = []
        while let line = doctor.nextLine(timeout: 30) { lines.append(line) }
        let status = doctor.waitForExit()
        #expect(lines.first?.hasPrefix("ok   jack: server \"\(server.name)\" answers: 48000 Hz, period 256 frames (5.33 ms)") == true, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("ok   presets: ") && $0.contains("default") }, "the bundled default preset loads")
        Self.checkDoctorOutput(lines, status: status)
        // The doctor's client came and went: nothing of it is left on the server.
        #expect(server.portNames()?.contains { $0.hasPrefix("sideman-doctor:") } == false)
    }

    @Test func doctorWithoutAServerSaysHowToStartOne() throws {
        let environment = ["JACK_NO_START_SERVER": "1", "JACK_DEFAULT_SERVER": "sideman-none-\(getpid())"]
        let doctor = try ChildProcess(Program.sideman, ["doctor"], environment: environment)
        var lines: [String] = []
        while let line = doctor.nextLine(timeout: 30) { lines.append(line) }
        let status = doctor.waitForExit()
        #expect(lines.first?.hasPrefix("warn jack: server \"sideman-none-\(getpid())\": no server running") == true, "\(lines)")
        if !FileManager.default.fileExists(atPath: "/dev/snd/seq") {
            #expect(lines.contains { $0.hasPrefix("fail backend: neither a JACK server nor the ALSA sequencer") })
            #expect(status == 69)
        }
        Self.checkDoctorOutput(lines, status: status)
    }

    @Test func doctorFailsOnABrokenPresetAndAMissingModel() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("sideman-doctor-\(getpid())")
        let folder = home.appendingPathComponent("sideman")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        try "thru:\n  transpose: 100\n".write(to: folder.appendingPathComponent("broken.yaml"), atomically: true, encoding: .utf8)
        try "parts:\n  - name: bass\n    role: bass\n    model: bass.safetensors\n    channel: 2\n"
            .write(to: folder.appendingPathComponent("band.yaml"), atomically: true, encoding: .utf8)
        let server = try JackServer()
        defer { server.stop() }
        let doctor = try ChildProcess(
            Program.sideman, ["doctor"], environment: server.environment.merging(["XDG_CONFIG_HOME": home.path]) { $1 })
        var lines: [String] = []
        while let line = doctor.nextLine(timeout: 30) { lines.append(line) }
        let status = doctor.waitForExit()
        #expect(lines.contains { $0.hasPrefix("fail preset broken: \(folder.path)/broken.yaml: thru.transpose") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("fail model band/bass: \(folder.path)/bass.safetensors: no such file; fix: ") }, "\(lines)")
        #expect(status == 69)
        Self.checkDoctorOutput(lines, status: status)
    }

    @Test func logLinesCarryTheirLevelAndTheLevelOptionFiltersThem() throws {
        let environment = ["JACK_NO_START_SERVER": "1", "JACK_DEFAULT_SERVER": "sideman-none-\(getpid())"]
        let chatty = try ChildProcess(Program.sideman, ["run", "--backend", "jack"], environment: environment)
        defer { chatty.stop() }
        let waiting = try #require(chatty.waitForError(containing: "no server running"))
        #expect(waiting.hasPrefix("sideman: warning: jack: no server running"), "\(waiting)")
        chatty.signal(SIGTERM)
        #expect(chatty.waitForExit() == 0)

        let quiet = try ChildProcess(Program.sideman, ["run", "--backend", "jack", "--log-level", "error"], environment: environment)
        defer { quiet.stop() }
        usleep(500_000)  // long enough for the warning it must not print
        quiet.signal(SIGTERM)
        #expect(quiet.waitForExit() == 0)
        #expect(quiet.errorLines.isEmpty, "\(quiet.errorLines)")

        let server = try JackServer()
        defer { server.stop() }
        let daemon = try ChildProcess(Program.sideman, ["run", "--backend", "jack"], environment: server.environment)
        defer { daemon.stop() }
        let ready = try #require(daemon.waitForError(containing: "ready as"))
        #expect(ready == "sideman: info: jack: ready as sideman:in -> sideman:out (48000 Hz, 128 frames)")
    }

    @Test func metricsRefuseRemoteAddressesUnlessAllowedAndReportABusyPort() throws {
        let environment = ["JACK_NO_START_SERVER": "1", "JACK_DEFAULT_SERVER": "sideman-none-\(getpid())"]
        let remote = try ChildProcess(Program.sideman, ["run", "--metrics", "0.0.0.0:9464"], environment: environment)
        #expect(remote.waitForExit() == 64)
        #expect(remote.errorLines.first?.contains("not a loopback address") == true, "\(remote.errorLines)")
        let garbage = try ChildProcess(Program.sideman, ["run", "--metrics", "9464"], environment: environment)
        #expect(garbage.waitForExit() == 64)
        let open = try ChildProcess(
            Program.sideman, ["run", "--metrics", "0.0.0.0:0", "--metrics-allow-remote"], environment: environment)
        #expect(open.waitForExit() == 64)
        #expect(
            open.errorLines == ["sideman: --metrics-allow-remote: needs --metrics-token-file PATH: other machines must send a bearer token to read the metrics"])

        let first = try ChildProcess(
            Program.sideman, ["run", "--backend", "jack", "--metrics", "127.0.0.1:0"], environment: environment)
        defer { first.stop() }
        let port = try RobustnessJackTests.metricsPort(first)
        let metrics = try RobustnessJackTests.scrape(port)
        #expect(metrics["sideman_up"] == 0, "no server yet: down")
        let busy = try ChildProcess(
            Program.sideman, ["run", "--backend", "jack", "--metrics", "127.0.0.1:\(port)"], environment: environment)
        #expect(busy.waitForExit() == 69)
        #expect(busy.errorLines == ["sideman: metrics 127.0.0.1:\(port): cannot listen: Address already in use"])
    }

    /// `--metrics-token-file`: a scrape without the token gets 401, with it 200; a token file others
    /// can read is refused at start with one line (exit 65). Loopback only here, as in every test.
    @Test func metricsWithATokenFileAnswerOnlyTheTokensBearer() throws {
        let environment = ["JACK_NO_START_SERVER": "1", "JACK_DEFAULT_SERVER": "sideman-none-\(getpid())"]
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sideman-token-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let token = "6f1c2a9e0b7d4e3f8a5c1b2d3e4f5a6b"
        let file = folder.appendingPathComponent("metrics-token").path
        try (token + "\n").write(toFile: file, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
        let exposed = try ChildProcess(
            Program.sideman, ["run", "--backend", "jack", "--metrics", "127.0.0.1:0", "--metrics-token-file", file],
            environment: environment)
        #expect(exposed.waitForExit() == 65)
        #expect(exposed.errorLines.count == 1 && exposed.errorLines.first?.hasPrefix("sideman: \(file): ") == true, "\(exposed.errorLines)")

        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        let daemon = try ChildProcess(
            Program.sideman, ["run", "--backend", "jack", "--metrics", "127.0.0.1:0", "--metrics-token-file", file],
            environment: environment)
        defer { daemon.stop() }
        let port = try RobustnessJackTests.metricsPort(daemon)
        #expect(LoopbackHTTP.get(port: port)?.status == 401)
        #expect(LoopbackHTTP.get(port: port, token: String(token.reversed()))?.status == 401)
        let scrape = try #require(LoopbackHTTP.get(port: port, token: token))
        #expect(scrape.status == 200)
        #expect(LoopbackHTTP.samples(scrape.body)["sideman_up"] == 0)
    }
}
