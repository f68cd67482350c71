import Foundation
import Testing
import TestSupport

/// Sideman under a session manager: the NSM protocol over real UDP against scripts/nsm_stand_in.py (the
/// server's side as nsmd speaks it; Debian 12 packages no nsmd), with a real jackd: announce, open (the
/// JACK client takes the session's id, the session folder names the preset), save, quit by SIGTERM, and a
/// restart that plays the session's preset without being told it.
@Suite(.serialized, .enabled(if: TestPaths.jackMissing == nil, "needs jackd and python3-jack-client (scripts/setup.sh)"))
struct NSMSessionTests {
    final class StandIn {
        let child: ChildProcess
        let port: Int
        init() throws {
            child = try ChildProcess(TestPaths.python, [TestPaths.packageRoot.appendingPathComponent("scripts/nsm_stand_in.py").path])
            guard let line = child.nextLine(), line.hasPrefix("port "), let port = Int(line.dropFirst(5)) else {
                throw HarnessError("the NSM stand-in did not start: \(child.errorLines)")
            }
            self.port = port
        }
        /// The next message from Sideman, as ADDRESS and its arguments.
        func next() -> [String] {
            child.send("wait")
            guard let line = child.nextLine(timeout: 25), line.hasPrefix("got ") else { return [] }
            return line.dropFirst(4).split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        }
    }

    @Test func announcesOpensTheSessionAnswersSaveAndRestoresThePresetOnRestart() throws {
        let folder = try DaemonBandTests.bandFolder()
        let preset = "\(folder)/band.yaml"
        let session = "\(folder)/session-one/Sideman.nSIDE1"
        let server = try JackServer()
        defer { server.stop() }

        func start(_ arguments: [String]) throws -> (ChildProcess, StandIn) {
            let nsm = try StandIn()
            let daemon = try ChildProcess(
                Program.sideman, ["run", "--backend", "jack"] + arguments,
                environment: server.environment.merging(["NSM_URL": "osc.udp://127.0.0.1:\(nsm.port)/"]) { $1 })
            let announce = nsm.next()
            #expect(announce.count == 7 && announce[0] == "/nsm/server/announce", "\(announce) \(daemon.errorLines)")
            if announce.count == 7 {
                // Application name, capabilities (none), executable, API 1.2, the process id.
                #expect(Array(announce[1...5]) == ["Sideman", "", "sideman", "1", "2"])
                #expect(Int32(announce[6]) == daemon.process.processIdentifier)
            }
            nsm.child.send("reply-announce")
            nsm.child.send("open \(session) Sideman nSIDE1")
            #expect(nsm.next() == ["/reply", "/nsm/client/open", "Sideman is playing"])
            return (daemon, nsm)
        }

        do {
            let (daemon, nsm) = try start(["--preset", preset])
            defer { daemon.stop() }
            // The JACK client is the session's id, so the session's saved connections find it.
            let ready = daemon.waitForError(containing: "ready as")
            #expect(ready?.contains("ready as nSIDE1:in -> nSIDE1:out") == true, "\(ready ?? "\(daemon.errorLines)")")
            #expect(daemon.errorLines.contains { $0.contains("nsm: session \(session), preset \(preset), JACK client nSIDE1") })
            let kept = try String(contentsOfFile: "\(session)/session.yaml", encoding: .utf8)
            #expect(kept.contains("preset: \(preset)\n"))
            nsm.child.send("save")
            #expect(nsm.next() == ["/reply", "/nsm/client/save", "saved"])
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit() == 0)
            nsm.child.stop()
        }

        // The session manager starts Sideman again with no preset named: the session's own is played.
        let (daemon, nsm) = try start([])
        defer { daemon.stop() }
        defer { nsm.child.stop() }
        #expect(daemon.waitForError(containing: "nsm: session \(session), preset \(preset), JACK client nSIDE1") != nil)
        #expect(daemon.waitForError(containing: "ready as nSIDE1:in") != nil)
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
    }

    @Test func noSessionManagerAnsweringIsOneLineAndExit69() throws {
        // A port nobody listens on: the announce goes nowhere, and Sideman says so after its wait.
        let daemon = try ChildProcess(
            Program.sideman, ["run", "--backend", "jack"], environment: ["NSM_URL": "osc.udp://127.0.0.1:9/", "JACK_NO_START_SERVER": "1"])
        #expect(daemon.waitForExit(timeout: 30) == 69)
        #expect(daemon.errorLines.first?.hasPrefix("sideman: nsm: no session opened within 10 s of announcing to 127.0.0.1:9") == true, "\(daemon.errorLines)")
    }
}
