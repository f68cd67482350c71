import Foundation
import MIDI
import Testing
import TestSupport

/// Why the PipeWire tests cannot run here: a missing tool, or a PipeWire that does not start.
enum PipeWireCheck {
    static let cannotRun: String? = {
        if let missing = TestPaths.jackMissing ?? PipeWireServer.missing { return missing }
        do {
            try PipeWireServer().stop()
            return nil
        } catch {
            return "a headless PipeWire does not start here: \(error)"
        }
    }()
}

/// Sideman under PipeWire's JACK (pipewire-jack, the audio server of current desktops): the daemon and
/// its peers started through `pw-jack` on a private headless PipeWire, at a 128-frame quantum.
@Suite(.serialized, .enabled(if: PipeWireCheck.cannotRun == nil, "\(PipeWireCheck.cannotRun ?? "")"))
struct PipeWireTests {
    @Test func theBandPlaysThroughPwJackAndEveryNoteEndsAtStop() throws {
        let folder = try DaemonBandTests.bandFolder()
        let pipewire = try PipeWireServer(quantum: 128)
        defer { pipewire.stop() }
        let pwJack = ["/usr/bin/pw-jack"]
        let daemon = try ChildProcess(
            pwJack[0],
            [Program.sideman, "run", "--backend", "jack", "--preset", "\(folder)/band.yaml", "--connect-in", "sender:out", "--connect-out", "receiver:in"],
            environment: pipewire.environment)
        defer { daemon.stop() }
        let ready = daemon.waitForError(containing: "ready as")
        #expect(ready?.contains("jack: ready as sideman:in -> sideman:out (48000 Hz, 128 frames)") == true, "\(ready ?? "\(daemon.errorLines)")")
        let sender = try JackPeer(name: "sender", launcher: pwJack, environment: pipewire.environment)
        defer { sender.stop() }
        let receiver = try JackPeer(name: "receiver", launcher: pwJack, environment: pipewire.environment)
        defer { receiver.stop() }
        // Generous bounds, waited out only when something is wrong: on a loaded 2-core CI box, a headless
        // PipeWire, three pw-jack clients and the test suite beside them took over 20 s to connect and greet.
        let deadline = Date(timeIntervalSinceNow: 60)
        while Date() < deadline, !["sender:out>sideman:in", "sideman:out>receiver:in"].allSatisfy(pipewire.connections().contains) {
            usleep(50_000)
        }
        try receiver.awaitGreeting(timeout: 60)

        let rate = UInt64(sender.sampleRate)
        let sixteenth = rate * 60 / 120 / 4
        let base = try sender.now() + rate / 4
        for k in 0..<16 {
            let on = base + UInt64(k) * 2 * sixteenth
            let pitch = UInt8([60, 62, 64, 65, 67, 69, 71, 72][k % 8])
            sender.send([0x90, pitch, 100], at: on)
            sender.send([0x80, pitch, 0], at: on + 2 * sixteenth - 128)
        }
        let end = base + 36 * sixteenth
        let events = try receiver.waitForReceived(timeout: 30) { $0.last.map { $0.frame > end } ?? false }
        for channel: UInt8 in [2, 3, 9] {
            #expect(events.contains { $0.bytes.count == 3 && $0.bytes[0] == 0x90 | channel && $0.bytes[2] > 0 }, "nothing on channel \(channel + 1)")
        }
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
        var tracker = NoteTracker()
        for e in try receiver.received() { MIDIStreamParserCheck.messages(e.bytes).forEach { tracker.observe($0) } }
        #expect(tracker.isSilent, "notes left sounding after stop")
    }

    /// PipeWire's JACK connects a client's ports as soon as they are registered, before the client runs
    /// (JACK refuses until it activates), and what the daemon sends meanwhile never reaches it: a synth
    /// connected before it runs hears a follow-up greeting once it does.
    @Test func aSynthConnectedBeforeItRunsStillHearsTheGreeting() throws {
        let pipewire = try PipeWireServer(quantum: 128)
        defer { pipewire.stop() }
        let pwJack = ["/usr/bin/pw-jack"]
        var daemon: ChildProcess?
        defer { daemon?.stop() }
        var connectedBeforeActivation = false
        let receiver = try JackPeer(name: "receiver", launcher: pwJack, environment: pipewire.environment, activationDelay: 1.5) {
            daemon = try ChildProcess(
                pwJack[0], [Program.sideman, "run", "--backend", "jack", "--connect-out", "receiver:in"], environment: pipewire.environment)
            guard daemon?.waitForError(containing: "ready as") != nil else { throw HarnessError("sideman did not start: \(daemon?.errorLines ?? [])") }
            let deadline = Date(timeIntervalSinceNow: 60)
            while Date() < deadline, !connectedBeforeActivation {
                connectedBeforeActivation = pipewire.connections().contains("sideman:out>receiver:in")
                if !connectedBeforeActivation { usleep(50_000) }
            }
        }
        defer { receiver.stop() }
        #expect(connectedBeforeActivation, "PipeWire connected the receiver's port before it activated")
        try receiver.awaitGreeting(timeout: 30)
    }
}
