import Foundation
import MIDI
import Testing
import TestSupport

/// MIDI learn through a real jackd: each step answered in the log, what was learned kept in the preset's
/// learned-controls file, and in force again after a restart.
@Suite(.serialized, .enabled(if: TestPaths.jackMissing == nil, "needs jackd and python3-jack-client (scripts/setup.sh)"))
struct DaemonLearnTests {
    @Test func learnedControlsAreAnsweredKeptAndInForceAfterARestart() throws {
        let folder = try DaemonBandTests.bandFolder()
        try """
            name: learner
            transport: {bpm: 120}
            thru: {enabled: false}
            controls: {learn: 90}
            performance: {mode: accompaniment}
            parts:
              - {name: bass, role: bass, model: melody.safetensors, channel: 3, range: [36, 55], grid: 8th}

            """.write(toFile: "\(folder)/learner.yaml", atomically: true, encoding: .utf8)
        let state = "\(folder)/state"
        let environment = ["XDG_STATE_HOME": state]
        let kept = "\(state)/sideman/learned/learner.yaml"
        let server = try JackServer()
        defer { server.stop() }

        // Learn: press learn, then move eight controls; the last one is the bass's mute.
        do {
            let rig = try DaemonTests.Rig(server: server, arguments: ["--preset", "\(folder)/learner.yaml"], environment: environment)
            defer { rig.stop() }
            let rate = UInt64(rig.sender.sampleRate)
            var at = try rig.sender.now() + rate / 5
            rig.sender.send([0xB0, 90, 127], at: at)
            #expect(rig.daemon.waitForError(containing: "MIDI learn on: move a control for each of temperature, density") != nil)
            for controller in UInt8(74)...81 {
                at += rate / 20
                rig.sender.send([0xB0, controller, 100], at: at)
            }
            let last = rig.daemon.waitForError(containing: "MIDI learn: mute.bass is CC 81 (that was the last; learn is off); kept in \(kept)")
            #expect(last != nil, "\(rig.daemon.errorLines.suffix(3))")
            #expect(rig.daemon.errorLines.contains { $0.contains("MIDI learn: temperature is CC 74 (next: density)") })
            rig.daemon.signal(SIGTERM)
            #expect(rig.daemon.waitForExit() == 0)
        }
        let text = try String(contentsOfFile: kept, encoding: .utf8)
        #expect(text.contains("temperature: 74\n") && text.contains("mute.bass: 81\n"))

        // Restarted: CC 81 mutes the bass, as learned.
        let rig = try DaemonTests.Rig(server: server, arguments: ["--preset", "\(folder)/learner.yaml"], environment: environment)
        defer { rig.stop() }
        let rate = UInt64(rig.sender.sampleRate)
        let period = UInt64(rig.sender.blockSize)
        let sixteenth = rate / 8
        let base = try rig.sender.now() + rate / 5
        for k in 0..<24 {
            let on = base + UInt64(k) * 2 * sixteenth
            rig.sender.send([0x90, UInt8(60 + k % 8), 100], at: on)
            rig.sender.send([0x80, UInt8(60 + k % 8), 0], at: on + 2 * sixteenth - period)
        }
        let mute = base + 16 * sixteenth
        rig.sender.send([0xB0, 81, 127], at: mute)
        let end = base + 48 * sixteenth
        let events = try rig.receiver.waitForReceived(timeout: 20) { $0.last.map { $0.frame > end } ?? false }
        let bass = events.filter { $0.bytes.count == 3 && $0.bytes[0] == 0x92 && $0.bytes[2] > 0 }.map(\.frame)
        #expect(bass.contains { $0 < mute }, "the bass did not play before the mute")
        #expect(!bass.contains { $0 > mute + 2 * period }, "the bass played on after its learned mute")
    }
}
