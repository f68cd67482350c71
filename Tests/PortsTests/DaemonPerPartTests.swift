import Foundation
import MIDI
import Testing
import TestSupport

/// `outputs: per-part`: a port per part, and one more, `thru`, for the player's notes (and clock out and
/// the metronome), so a DAW track recording the bass records only the bass.
@Suite(.serialized, .enabled(if: TestPaths.jackMissing == nil, "needs jackd and python3-jack-client (scripts/setup.sh)"))
struct DaemonPerPartTests {
    @Test func thePlayersThruHasItsOwnPortAndThePartsPortsCarryOnlyTheParts() throws {
        let folder = try DaemonBandTests.bandFolder()
        try """
            name: perpart
            ports: {outputs: per-part}
            transport: {bpm: 120}
            thru: {enabled: true}
            performance: {mode: accompaniment}
            parts:
              - {name: bass, role: bass, model: melody.safetensors, channel: 3, range: [36, 55], grid: 8th}
              - {name: keys, role: chords, model: sets.safetensors, channel: 4, range: [48, 76], grid: quarter}

            """.write(toFile: "\(folder)/perpart.yaml", atomically: true, encoding: .utf8)
        let server = try JackServer()
        defer { server.stop() }
        let daemon = try ChildProcess(
            Program.sideman,
            ["run", "--backend", "jack", "--preset", "\(folder)/perpart.yaml", "--connect-in", "sender:out",
             "--connect-out", "bass=bassrec:in", "--connect-out", "thru=thrurec:in"],
            environment: server.environment)
        defer { daemon.stop() }
        let ready = daemon.waitForError(containing: "ready as")
        #expect(ready?.contains("sideman:in -> sideman:bass, sideman:keys, sideman:thru") == true, "\(ready ?? "not ready")")
        let sender = try JackPeer(name: "sender", server: server)
        defer { sender.stop() }
        let bass = try JackPeer(name: "bassrec", server: server)
        defer { bass.stop() }
        let thru = try JackPeer(name: "thrurec", server: server)
        defer { thru.stop() }
        let deadline = Date(timeIntervalSinceNow: 20)
        while Date() < deadline {
            let lines = server.connections() ?? []
            if ["sender:out>sideman:in", "sideman:bass>bassrec:in", "sideman:thru>thrurec:in"].allSatisfy(lines.contains) { break }
            usleep(20_000)
        }
        try bass.awaitGreeting()
        try thru.awaitGreeting()

        let rate = UInt64(sender.sampleRate)
        let sixteenth = rate / 8
        let base = try sender.now() + rate / 5
        for k in 0..<8 {
            let on = base + UInt64(k) * 2 * sixteenth
            sender.send([0x90, UInt8(60 + k), 100], at: on)
            sender.send([0x80, UInt8(60 + k), 0], at: on + sixteenth)
        }
        let end = base + 16 * sixteenth
        let strikes = { (events: [(frame: UInt64, bytes: [UInt8])]) in
            events.filter { $0.bytes.count == 3 && $0.bytes[0] & 0xF0 == 0x90 && $0.bytes[2] > 0 }
        }
        // Wait until each of the eight pitches has been struck, not for any eight 0x9n messages (a release as a
        // note-on of velocity 0, or a repeat, counts there): a CI run under load returned before 67 had come.
        let heard = try thru.waitForReceived(timeout: 20) { Set(strikes($0).map { $0.bytes[1] }).count >= 8 }
        _ = try bass.waitForReceived(timeout: 20) { $0.last.map { $0.frame > end } ?? false }
        let played = try bass.received()
        // The player's eight notes on the thru port, and nothing of theirs on the bass's.
        #expect(Set(strikes(heard).map { $0.bytes[1] }) == Set((60..<68).map(UInt8.init)))
        #expect(strikes(heard).allSatisfy { $0.bytes[0] == 0x90 })
        #expect(!strikes(played).isEmpty && strikes(played).allSatisfy { $0.bytes[0] == 0x92 }, "\(strikes(played).map(\.bytes))")
    }
}
