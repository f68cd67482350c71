import Foundation
import TestSupport
import Testing

/// `sideman run` under a service manager: the sd_notify datagrams systemd would receive, read from a
/// real AF_UNIX datagram socket while the daemon runs against a real jackd.
@Suite(.serialized, .enabled(if: TestPaths.jackMissing == nil, "needs jackd and python3-jack-client (scripts/setup.sh)"))
struct DaemonServiceTests {

    @Test func readyWatchdogReloadAndStopping() throws {
        let server = try JackServer()
        defer { server.stop() }
        let notify = try NotifySocket()
        let preset = TestPaths.packageRoot.appendingPathComponent("presets/thru.yaml").path
        let daemon = try ChildProcess(
            Program.sideman, ["run", "--backend", "jack", "--preset", preset],
            environment: server.environment.merging(["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "400000"]) { $1 })
        defer { daemon.stop() }

        let ready = try #require(notify.waitFor("READY=1"), "no READY: \(daemon.errorLines)")
        #expect(ready.contains("STATUS=preset \(preset); jack sideman:in -> sideman:out"))
        // 400 ms watchdog: pings come at least every 200 ms while the engine runs.
        #expect(notify.waitFor("WATCHDOG=1", timeout: 2) != nil)
        #expect(notify.waitFor("WATCHDOG=1", timeout: 2) != nil)

        daemon.signal(SIGHUP)
        let reloading = try #require(notify.waitFor("RELOADING=1", timeout: 5))
        #expect(reloading.contains("MONOTONIC_USEC="))
        #expect(notify.waitFor("READY=1", timeout: 5) != nil)

        daemon.signal(SIGTERM)
        #expect(notify.waitFor("STOPPING=1", timeout: 10) != nil)
        #expect(daemon.waitForExit() == 0)
    }

    /// Without a server there is no engine thread to make progress; the control thread, alive and
    /// retrying, keeps the watchdog fed so systemd does not restart a daemon that is only waiting.
    @Test func waitingForAServerStillFeedsTheWatchdog() throws {
        let server = try JackServer(startNow: false)
        let notify = try NotifySocket()
        let daemon = try ChildProcess(
            Program.sideman, ["run", "--backend", "jack"],
            environment: server.environment.merging(["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "400000"]) { $1 })
        defer { daemon.stop() }
        // Started before JACK, it is ready all the same, saying it waits (systemd's start timeout must
        // not fail it and restart it in a loop).
        let status = try #require(notify.waitFor("READY=1\nSTATUS=waiting", timeout: 10))
        #expect(status.contains("no server running"))
        #expect(notify.waitFor("WATCHDOG=1", timeout: 3) != nil)
        daemon.signal(SIGTERM)
        #expect(notify.waitFor("STOPPING=1", timeout: 10) != nil)
        #expect(daemon.waitForExit() == 0)
    }

    /// SIGHUP reads the preset and loads its models on a thread of its own. A malformed preset, one
    /// whose model file is a FIFO (its read never ends), and a long valid one with 16 parts each keep
    /// the watchdog fed (no gap reaches half of WatchdogSec) and the running preset playing while they
    /// load; RELOADING=1 and READY=1 bracket each; a failed or abandoned reload is one error line, and
    /// SIGHUPs that come while a reload is in flight make one more reload after it.
    @Test func slowBlockedAndBrokenReloadsKeepTheWatchdogFedAndTheThruPlaying() throws {
        let server = try JackServer()
        defer { server.stop() }
        let notify = NotifyRecorder(try NotifySocket())
        defer { notify.stop() }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sideman-reloads-\(getpid())")
        try? FileManager.default.removeItem(at: folder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("live.yaml")
        let head = """
            name: live
            ports: {client_name: sideman, connect_in: ["sender:out"], connect_out: ["receiver"]}
            thru: {channel: 5}

            """
        func write(_ text: String) throws { try text.write(to: file, atomically: true, encoding: .utf8) }
        try write(head)

        let watchdogSeconds = 4.0
        // Room for the 16-part preset below (3 s on an idle 2-core machine) on a loaded one.
        let timeout = 12
        let daemon = try ChildProcess(
            Program.sideman, ["run", "--backend", "jack", "--preset", file.path, "--reload-timeout", String(timeout)],
            environment: server.environment.merging(
                ["NOTIFY_SOCKET": notify.socketPath, "WATCHDOG_USEC": String(Int(watchdogSeconds * 1e6))]) { $1 })
        defer { daemon.stop() }
        try #require(notify.waitFor("READY=1", count: 1, timeout: 30), "no READY: \(daemon.errorLines)")
        let sender = try JackPeer(name: "sender", server: server)
        defer { sender.stop() }
        let receiver = try JackPeer(name: "receiver", server: server)
        defer { receiver.stop() }
        try DaemonTests.Rig.waitForConnections(server)

        /// A note played now comes out on channel 5 (as `heard`), one period after the frame the sender
        /// wrote it at, to the frame. In a cycle the server ran late on a loaded machine JACK itself may
        /// deliver MIDI late or not at all, so a try that saw xruns is played again, up to three times; a
        /// try without xruns must pass.
        func passesThru(_ note: UInt8, as heard: UInt8? = nil) throws -> Bool {
            let out: [UInt8] = [0x94, heard ?? note, 100]
            for attempt in 1...3 {
                let xrunsBefore = try sender.xruns() + receiver.xruns()
                let at = try sender.now() + 2400
                sender.send([0x90, note, 100], at: at)
                sender.send([0x80, note, 0], at: at + 480)
                let events = try receiver.waitForReceived(timeout: 10) { $0.contains { $0.bytes == out && $0.frame >= at } }
                // The python sender writes an event late when its own callback ran late.
                let writtenAt = try sender.written().last { $0.asked == at }?.written ?? at
                if events.contains(where: { $0.bytes == out && $0.frame == writtenAt + UInt64(server.period) }) { return true }
                let xruns = try sender.xruns() + receiver.xruns() - xrunsBefore
                if xruns == 0 || attempt == 3 {
                    Issue.record("sent \(note) at \(at), written at \(writtenAt), \(xruns) xruns; received \(events.suffix(6))")
                    return false
                }
            }
            return false
        }
        func failures() -> [String] { daemon.errorLines.filter { $0.contains("keeping the running preset") } }
        /// The daemon's stderr arrives apart from its datagrams: waits for `count` lines containing `text`.
        func lines(_ text: String, count: Int) -> Int {
            let deadline = Date(timeIntervalSinceNow: 10)
            var found = daemon.errorLines.filter { $0.contains(text) }.count
            while found < count && Date() < deadline {
                usleep(20_000)
                found = daemon.errorLines.filter { $0.contains(text) }.count
            }
            return found
        }
        #expect(try passesThru(60))

        // Malformed: refused at once, one line.
        try write(head + "parts: [\n")
        daemon.signal(SIGHUP)
        #expect(notify.waitFor("RELOADING=1", count: 1))
        #expect(notify.waitFor("READY=1", count: 2))
        #expect(daemon.waitForError(containing: "not valid YAML") != nil)
        #expect(lines("keeping the running preset", count: 1) == 1, "\(failures())")
        #expect(try passesThru(61))

        // A model path that is a FIFO: the read blocks for good; the reload is abandoned after the time
        // limit while the thru goes on. (A check that refuses FIFOs before reading makes this a quick
        // failure instead; either way it is one line.)
        let fifo = folder.appendingPathComponent("blocked.safetensors").path
        #expect(mkfifo(fifo, 0o600) == 0)
        try write(head + "parts: [{name: bass, role: bass, model: blocked.safetensors, channel: 3}]\n")
        daemon.signal(SIGHUP)
        #expect(notify.waitFor("RELOADING=1", count: 2))
        let started = ProcessInfo.processInfo.systemUptime
        #expect(try passesThru(62))
        let inFlight = notify.count("READY=1") == 2
        if inFlight {
            // Two more SIGHUPs while it hangs: queued as one reload, which reads the file as it is now.
            try write(head.replacingOccurrences(of: "{channel: 5}", with: "{channel: 5, transpose: 2}"))
            daemon.signal(SIGHUP)
            daemon.signal(SIGHUP)
        }
        #expect(notify.waitFor("READY=1", count: 3, timeout: Double(timeout) + 20))
        #expect(lines("keeping the running preset", count: 2) == 2, "\(failures())")
        if inFlight {
            let waited = ProcessInfo.processInfo.systemUptime - started
            #expect(waited >= Double(timeout) - 0.5, "abandoned after \(waited) s")
            #expect(failures().last?.contains("abandoned") == true, "\(failures())")
            #expect(notify.waitFor("READY=1", count: 4))
            #expect(lines("live.yaml: reloaded", count: 1) == 1)
            usleep(500_000)
            #expect(notify.count("RELOADING=1") == 3, "two SIGHUPs in flight make one reload")
            #expect(try passesThru(60, as: 62), "transposed by the queued reload")
            try write(head)
            daemon.signal(SIGHUP)
            #expect(notify.waitFor("READY=1", count: 5))
            #expect(lines("live.yaml: reloaded", count: 2) == 2)
        }
        #expect(try passesThru(63))

        // A long valid preset: 16 parts, each loading the chorale's model (seconds, half a gigabyte);
        // the thru plays on while they load.
        let model = TestPaths.packageRoot.appendingPathComponent("presets/chorale/voices.safetensors").path
        let parts = (0..<16).map { k in "  - {name: p\(k), role: voices, model: \(model), channel: \(k + 1)}" }
        let readyBefore = notify.count("READY=1")
        let reloadedBefore = daemon.errorLines.filter { $0.contains("reloaded") }.count
        let asked = ProcessInfo.processInfo.systemUptime
        try write(head + "performance: {mode: accompaniment}\nparts:\n" + parts.joined(separator: "\n") + "\n")
        daemon.signal(SIGHUP)
        #expect(try passesThru(64))
        #expect(notify.waitFor("READY=1", count: readyBefore + 1, timeout: Double(timeout) + 20))
        let took = ProcessInfo.processInfo.systemUptime - asked
        #expect(lines("reloaded", count: reloadedBefore + 1) == reloadedBefore + 1, "after \(took) s: \(daemon.errorLines)")

        // The watchdog never waited: not one gap between pings reached half of WatchdogSec.
        let gap = notify.longestGap("WATCHDOG=1")
        #expect(gap < watchdogSeconds / 2, "a \(gap) s gap between watchdog pings")
        #expect(notify.count("RELOADING=1") + 1 == notify.count("READY=1"), "each reload ends with READY=1")
        #expect(daemon.errorLines.filter { $0.hasPrefix("sideman: error:") } == failures(), "\(daemon.errorLines)")

        daemon.signal(SIGTERM)
        #expect(notify.waitFor("STOPPING=1", count: 1, timeout: 10))
        #expect(daemon.waitForExit() == 0)
    }
}
