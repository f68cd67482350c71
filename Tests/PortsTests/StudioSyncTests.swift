import Foundation
import MIDI
import Testing
import TestSupport

/// `sideman run` following the studio's timeline through a real jackd: JACK transport driven by
/// jack_transport (as timebase master, or with Sideman as master), and an Ableton Link session with
/// LinkHut, Link's own test peer, as the second peer.
@Suite(.serialized, .enabled(if: TestPaths.jackMissing == nil, "needs jackd and python3-jack-client (scripts/setup.sh)"))
struct StudioSyncTests {
    /// The tiny band of `DaemonBandTests` with `transport` as the preset's transport block.
    static func preset(transport: String) throws -> String {
        let folder = try DaemonBandTests.bandFolder()
        let path = "\(folder)/sync.yaml"
        try """
            name: sync
            ports:
              client_name: sideman
            transport:
            \(transport.split(separator: "\n").map { "  \($0)" }.joined(separator: "\n"))
            thru:
              enabled: false
            performance:
              mode: accompaniment
            parts:
              - {name: bass, role: bass, model: melody.safetensors, channel: 3, program: 33, range: [36, 55], grid: 8th}
              - {name: keys, role: chords, model: sets.safetensors, channel: 4, range: [48, 76], grid: quarter}

            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func noteOns(_ events: [(frame: UInt64, bytes: [UInt8])], channel: UInt8, from: UInt64, to: UInt64) -> [UInt64] {
        events.filter { $0.bytes.count == 3 && $0.bytes[0] == 0x90 | channel && $0.bytes[2] > 0 && $0.frame >= from && $0.frame < to }
            .map(\.frame).sorted()
    }

    /// Waits until the peer sees the transport in `rolling`, and (rolling) with an origin other than `not`.
    static func awaitTransport(_ peer: JackPeer, rolling: Bool, not previous: Int64? = nil) throws -> Int64? {
        let deadline = Date(timeIntervalSinceNow: 10)
        while Date() < deadline {
            let seen = try peer.transport()
            if seen.rolling == rolling, !rolling || (seen.origin != nil && seen.origin != previous) { return seen.origin }
            usleep(20_000)
        }
        throw HarnessError("the transport did not \(rolling ? "roll" : "stop")")
    }

    /// The player's melody: eight 8th notes on the transport's grid from the first beat after `after`.
    static func play(_ rig: DaemonTests.Rig, origin: Int64, sixteenth: Double, after: UInt64) -> (first: UInt64, end: UInt64) {
        let beat = 4 * sixteenth
        let firstBeat = (Double(Int64(after) - origin) / beat).rounded(.up)
        let first = UInt64(Double(origin) + firstBeat * beat)
        for k in 0..<8 {
            let on = first + UInt64(Double(2 * k) * sixteenth)
            let pitch = UInt8([60, 64, 67, 72, 67, 64, 62, 65][k])
            rig.sender.send([0x90, pitch, 100], at: on)
            rig.sender.send([0x80, pitch, 0], at: on + UInt64(2 * sixteenth) - UInt64(rig.sender.blockSize))
        }
        return (first, first + UInt64(16 * sixteenth))
    }

    /// How far each note-on lies behind the last line of `grid` frames from `origin` (fractional grid).
    static func lateness(_ frames: [UInt64], origin: Int64, grid: Double) -> [Int] {
        frames.map { f in
            let position = Double(Int64(f) - origin) / grid
            var late = (position - position.rounded()) * grid
            if late < -grid / 4 { late += grid }
            return Int(late.rounded())
        }
    }

    /// The player's melody from the first beat after now + 0.25 s; the band's note-ons on its 8th grid,
    /// and how far behind that grid's lines each lies.
    static func band(_ rig: DaemonTests.Rig, origin: Int64, sixteenth: Double) throws -> [Int] {
        let rate = Double(rig.sender.sampleRate)
        let phrase = play(rig, origin: origin, sixteenth: sixteenth, after: try rig.sender.now() + UInt64(rate / 4))
        _ = try rig.receiver.waitForReceived(timeout: 20) { $0.last.map { $0.frame > phrase.end } ?? false }
        let events = try rig.receiver.received()
        let bass = noteOns(events, channel: 2, from: phrase.first, to: phrase.end)
        let keys = noteOns(events, channel: 3, from: phrase.first, to: phrase.end)
        #expect(bass.count >= 4 && keys.count >= 2, "bass \(bass.count) notes, keys \(keys.count)")
        return lateness(bass + keys, origin: origin, grid: 2 * sixteenth)
    }

    /// Most notes within `limit` frames after their grid line. A loaded machine can hold a peer's note back
    /// (the player's, written late by a Python client), and the band reacts when it comes, or hold the
    /// engine's step back a cycle; a wrong tempo or phase would put nearly every note off, so a quarter may
    /// be, and at least one (CI runs under load: one note of seven 503 frames behind Link's grid; 11 of 49
    /// notes three periods behind the master's grid while the rest of the suite ran beside it).
    /// `disturbed`: the server had xruns or the daemon late events while the notes played (a busy machine
    /// delays the player's notes and the engine's steps by tens of ms); then half of them may be off.
    static func expectOnGrid(_ late: [Int], limit: Int, _ what: String, disturbed: Bool = false) {
        let off = late.filter { $0 < 0 || $0 > limit }
        let allowed = disturbed ? late.count / 2 : max(1, late.count / 4)
        #expect(!late.isEmpty && off.count <= allowed, "\(what): frames behind the grid \(late.sorted())")
    }

    /// Stops the transport: the band's notes end and no new one starts.
    static func expectSilenceAfterStop(_ rig: DaemonTests.Rig, _ transport: ChildProcess) throws {
        transport.send("stop")
        _ = try awaitTransport(rig.receiver, rolling: false)
        let stoppedAt = try rig.sender.now()
        usleep(500_000)
        let events = try rig.receiver.received()
        let late = events.filter {
            $0.frame > stoppedAt + UInt64(2 * rig.sender.blockSize) && $0.bytes.count == 3 && $0.bytes[0] & 0xF0 == 0x90 && $0.bytes[2] > 0
        }
        #expect(late.isEmpty, "notes started after the transport stopped")
        var tracker = NoteTracker()
        for e in events { MIDIStreamParserCheck.messages(e.bytes).forEach { tracker.observe($0) } }
        #expect(tracker.isSilent, "notes left sounding after the transport stopped")
    }

    @Test func followsJackTransportWithJackTransportAsTimebaseMaster() throws {
        // Preset tempo 120; the timebase master says 100, and the band must keep the master's.
        let path = try Self.preset(transport: "source: jack\nbpm: 120")
        let server = try JackServer()
        defer { server.stop() }
        let transport = try ChildProcess("/usr/bin/jack_transport", [], environment: server.environment)
        defer { transport.stop() }
        transport.send("master")
        transport.send("tempo 100")
        let rig = try DaemonTests.Rig(server: server, arguments: ["--preset", path])
        defer { rig.stop() }
        #expect(rig.daemon.errorLines.contains { $0.contains("following JACK transport") })
        let rate = Double(rig.sender.sampleRate)
        let period = rig.sender.blockSize

        // Before the transport rolls, the player's notes get nothing: the grid is the transport's.
        let early = try rig.sender.now() + UInt64(rate / 5)
        rig.sender.send([0x90, 60, 100], at: early)
        rig.sender.send([0x80, 60, 0], at: early + UInt64(rate / 4))
        usleep(600_000)
        let silent = try rig.receiver.received()
        #expect(silent.filter { $0.bytes.count == 3 && $0.bytes[0] & 0xF0 == 0x90 && $0.bytes[2] > 0 }.isEmpty)

        transport.send("play")
        let origin = try #require(try Self.awaitTransport(rig.receiver, rolling: true))
        #expect(try rig.receiver.transport().bpm == 100)
        // On the master's 8th grid at 100 bpm (not the preset's 120): a step is decided when its tick has
        // been received, a cycle after it, and written from the next writable frame, so a note is behind
        // its line by up to two periods (a tick early in one cycle, written at the start of the next but one).
        let late = try Self.band(rig, origin: origin, sixteenth: rate * 60 / 100 / 4)
        Self.expectOnGrid(late, limit: 2 * period, "jack_transport master")
        print("JACK transport, jack_transport master at 100 bpm, period \(period): frames behind the grid \(late.sorted())")
        try Self.expectSilenceAfterStop(rig, transport)
        transport.send("quit")
    }

    @Test func asTimebaseMasterPublishesTheTempoAndBarAndFollowsLocates() throws {
        let path = try Self.preset(transport: "source: jack\nbpm: 90\nmeter: 3/4\ntimebase_master: true")
        let server = try JackServer()
        defer { server.stop() }
        let rig = try DaemonTests.Rig(server: server, arguments: ["--preset", path])
        defer { rig.stop() }
        #expect(rig.daemon.errorLines.contains { $0.contains("following JACK transport as timebase master") })
        let transport = try ChildProcess("/usr/bin/jack_transport", [], environment: server.environment)
        defer { transport.stop() }
        let rate = Double(rig.sender.sampleRate)
        let period = rig.sender.blockSize
        let sixteenth = rate * 60 / 90 / 4

        transport.send("play")
        let origin = try #require(try Self.awaitTransport(rig.receiver, rolling: true))
        let seen = try rig.receiver.transport()
        #expect(seen.bpm == 90 && seen.beatsPerBar == 3, "BBT as another client sees it: \(seen)")
        let late = try Self.band(rig, origin: origin, sixteenth: sixteenth)
        Self.expectOnGrid(late, limit: 2 * period, "Sideman master")

        // Moved while rolling (as a DAW's locate does): the band goes on on the new position's grid.
        transport.send("locate 1000000")
        let moved = try #require(try Self.awaitTransport(rig.receiver, rolling: true, not: origin))
        let lateAfter = try Self.band(rig, origin: moved, sixteenth: sixteenth)
        Self.expectOnGrid(lateAfter, limit: 2 * period, "after the locate")
        print("JACK transport, Sideman master at 90 bpm 3/4, period \(period): frames behind the grid \((late + lateAfter).sorted())")
        try Self.expectSilenceAfterStop(rig, transport)
        transport.send("quit")
    }

    /// Why the Link test cannot run: LinkHut (Debian's ableton-link-utils) and `script` give the second peer,
    /// and Link finds peers by multicast on a network interface that is up (loopback does not count).
    static var linkHutMissing: String? {
        for tool in ["/usr/bin/LinkHut", "/usr/bin/script"] where !FileManager.default.isExecutableFile(atPath: tool) {
            return "\(tool) is not installed (run scripts/setup.sh)"
        }
        let interfaces = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/class/net")) ?? []
        let multicast = interfaces.contains { name in
            guard let text = try? String(contentsOfFile: "/sys/class/net/\(name)/flags", encoding: .utf8),
                let flags = Int(text.trimmingCharacters(in: .whitespacesAndNewlines).dropFirst(2), radix: 16)
            else { return false }
            return flags & 0x1 != 0 && flags & 0x8 == 0 && flags & 0x1000 != 0  // up, not loopback, multicast
        }
        return multicast ? nil : "no network interface is up with multicast, which Link needs to find peers"
    }

    /// LinkHut, Link's own example peer (JACK audio, a metronome on LinkHut:out_1), on a terminal of its
    /// own (`script`), driven by its keys: a enables Link, e raises the tempo 1 bpm, space plays, q quits.
    final class LinkHut {
        let child: ChildProcess
        init(server: JackServer) throws {
            child = try ChildProcess("/usr/bin/script", ["-qfc", "LinkHut", "/dev/null"], environment: server.environment)
            // Its key help ends with quit: keys pressed before it reads the terminal are lost.
            while let line = child.nextLine(timeout: 20) {
                if line.contains("quit: q") { return }
            }
            child.stop()
            throw HarnessError("LinkHut did not start")
        }
        func press(_ key: String) {
            child.send(key)
            usleep(150_000)
        }
        func stop() {
            child.send("q")
            if child.waitForExit(timeout: 5) == nil { child.stop() }
        }
    }

    /// Waits for Sideman's log to say it follows a Link session of at least one peer (at `bpm` when given);
    /// returns the session's tempo from that line.
    static func awaitLinkLine(_ daemon: ChildProcess, bpm: Double? = nil, timeout: Double) -> Double? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while Date() < deadline {
            for line in daemon.errorLines.reversed() {
                guard let at = line.firstRange(of: "following Link: "), !line[at.upperBound...].hasPrefix("0 peers"),
                    let comma = line[at.upperBound...].firstIndex(of: ","),
                    let tempo = Double(line[line.index(after: comma)...].split(separator: " ").first ?? "")
                else { continue }
                if bpm == nil || tempo == bpm { return tempo }
            }
            usleep(50_000)
        }
        return nil
    }

    @Test(.enabled(if: linkHutMissing == nil, "\(linkHutMissing ?? "")"))
    func keepsTheTempoAndBeatOfALinkSessionWithLinkHutAsTheOtherPeer() throws {
        let path = try Self.preset(transport: "source: link\nbpm: 100")
        let server = try JackServer()
        defer { server.stop() }
        let rig = try DaemonTests.Rig(server: server, arguments: ["--preset", path])
        defer { rig.stop() }
        #expect(rig.daemon.errorLines.contains { $0.contains("following Link: 0 peers, 100.0 bpm") })
        let ear = try JackPeer(name: "ear", server: server, audioIn: true)
        defer { ear.stop() }
        let hut = try LinkHut(server: server)
        defer { hut.stop() }
        hut.press("a")
        // The two sessions meet (Link keeps one of their tempos, 100 or LinkHut's 120); then LinkHut moves
        // the tempo and Sideman follows.
        let joined = try #require(
            Self.awaitLinkLine(rig.daemon, timeout: 30), "LinkHut did not join: \(rig.daemon.errorLines.suffix(3))")
        #expect(joined == 100 || joined == 120)
        for _ in 0..<6 { hut.press("e") }
        let bpm = joined + 6
        let moved = Self.awaitLinkLine(rig.daemon, bpm: bpm, timeout: 15)
        try #require(moved != nil, "the session's new tempo did not reach Sideman: \(rig.daemon.errorLines.suffix(3))")
        hut.press(" ")
        try ear.connect("LinkHut:out_1", "ear:audio_in")

        // The band plays on LinkHut's beats: the keys (a quarter-note part) sound with its clicks.
        let rate = Double(rig.sender.sampleRate)
        let period = rig.sender.blockSize
        let beat = rate * 60 / bpm
        let xrunsBefore = try rig.sender.xruns()
        let start = try rig.sender.now() + UInt64(rate / 4)
        for k in 0..<16 {
            let on = start + UInt64(Double(k) * beat / 2)
            rig.sender.send([0x90, UInt8(60 + [0, 4, 7, 12][k % 4]), 100], at: on)
            rig.sender.send([0x80, UInt8(60 + [0, 4, 7, 12][k % 4]), 0], at: on + UInt64(beat / 2) - UInt64(period))
        }
        let end = start + UInt64(8 * beat)
        let events = try rig.receiver.waitForReceived(timeout: 20) { $0.last.map { $0.frame > end } ?? false }
        let clicks = try ear.onsets()
        try #require(clicks.count >= 6, "LinkHut's metronome was not heard (\(clicks.count) clicks)")
        let intervals = zip(clicks.dropFirst(), clicks).map { Double($0 - $1) }
        let median = intervals.sorted()[intervals.count / 2]
        let disturbances = try rig.disturbances(sinceSenderXruns: xrunsBefore)
        // Under load LinkHut's own clicks wobble (a CI run beside the flood tests, 141 xruns and late
        // events: clicks 432 frames short of the beat) and the band's notes come later; a 16th of a beat
        // still tells a wrong tempo (6 bpm off drifts past it within two beats) or phase.
        let tolerance = disturbances > 0 ? beat / 16 : Double(period)
        #expect(abs(median - beat) < tolerance, "LinkHut clicks \(median) frames apart; a beat at \(bpm) bpm is \(beat)")
        // Each chord's first note, from LinkHut's first click on.
        let notes = Self.noteOns(events, channel: 3, from: max(start, clicks[0]), to: end)
        let keys = notes.enumerated().filter { i, f in i == 0 || f - notes[i - 1] > UInt64(beat / 4) }.map(\.element)
        try #require(keys.count >= 3)
        // Each keys chord against the nearest click: Sideman places ticks for when the cycle is heard and
        // LinkHut for its port's latency, so the two may differ by a couple of periods, not by a beat's part.
        let offsets = keys.map { k in clicks.map { Int64(k) - Int64($0) }.min { abs($0) < abs($1) }! }
        print("Link at \(bpm) bpm, period \(period): keys chords minus LinkHut's nearest click, frames: \(offsets); \(disturbances) xruns and late events")
        Self.expectOnGrid(
            offsets.map { Int(abs($0)) }, limit: disturbances > 0 ? max(3 * period, Int(beat / 16)) : 3 * period, "keys against LinkHut's clicks",
            disturbed: disturbances > 0)
    }

    /// The process callback with a followed timeline (reading it, turning it into clock, merging that with
    /// the player's input) allocates nothing: the malloc-counting preload of `DaemonTests`, around each live
    /// cycle, while the band plays to the timeline.
    @Test(arguments: ["source: jack\nbpm: 110\ntimebase_master: true", "source: link\nbpm: 110"])
    func followingATimelineAllocatesNothingInTheProcessCallback(transportBlock: String) throws {
        let library = try AllocationCounter.build()
        let report = FileManager.default.temporaryDirectory.appendingPathComponent("sideman-alloc-sync-\(getpid()).txt")
        try? FileManager.default.removeItem(at: report)
        let path = try Self.preset(transport: transportBlock)
        let server = try JackServer()
        defer { server.stop() }
        let rig = try DaemonTests.Rig(
            server: server, arguments: ["--preset", path], environment: ["LD_PRELOAD": library, "SIDEMAN_ALLOC_REPORT": report.path])
        defer { rig.stop() }
        if transportBlock.contains("jack") {
            let transport = try ChildProcess("/usr/bin/jack_transport", [], environment: server.environment)
            defer { transport.stop() }
            transport.send("play")
            _ = try Self.awaitTransport(rig.receiver, rolling: true)
            transport.send("quit")
        }
        let rate = Double(rig.sender.sampleRate)
        let start = try rig.sender.now() + UInt64(rate / 4)
        for k in 0..<16 {
            let on = start + UInt64(Double(k) * rate / 8)
            rig.sender.send([0x90, UInt8(60 + k % 12), 100], at: on)
            rig.sender.send([0x80, UInt8(60 + k % 12), 0], at: on + UInt64(rate / 10))
        }
        let end = start + UInt64(2 * rate)
        let events = try rig.receiver.waitForReceived(timeout: 20) { $0.last.map { $0.frame > end } ?? false }
        #expect(!Self.noteOns(events, channel: 2, from: start, to: end + UInt64(rate)).isEmpty, "the band did not play")
        rig.daemon.signal(SIGTERM)
        #expect(rig.daemon.waitForExit() == 0)
        let fields = try String(contentsOf: report, encoding: .utf8).split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        try #require(fields.count == 4)
        #expect(fields[0] > 200, "the probe saw \(fields[0]) cycles")
        #expect(fields[3] > 1000, "the counter is live: \(fields[3]) allocations in the whole process")
        #expect(fields[1] == 0 && fields[2] == 0, "\(fields[1]) allocations and \(fields[2]) frees inside cycles")
    }

    @Test func aTimelineOnTheAlsaBackendIsAUsageError() throws {
        let path = try Self.preset(transport: "source: link")
        let run = try ChildProcess(Program.sideman, ["run", "--backend", "alsa", "--preset", path])
        #expect(run.waitForExit() == 64)
        #expect(run.errorLines.first == "sideman: alsa: transport source jack or link needs the JACK backend (--backend jack)")
    }

    @Test func aReloadThatChangesTheTimelineSaysItTakesARestart() throws {
        let path = try Self.preset(transport: "source: jack\nbpm: 100")
        let server = try JackServer()
        defer { server.stop() }
        let rig = try DaemonTests.Rig(server: server, arguments: ["--preset", path])
        defer { rig.stop() }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try text.replacingOccurrences(of: "source: jack", with: "source: link").write(toFile: path, atomically: true, encoding: .utf8)
        rig.daemon.signal(SIGHUP)
        #expect(rig.daemon.waitForError(containing: "\(path): the transport source (jack, link) changes at the next restart") != nil)
        #expect(rig.daemon.waitForError(containing: "\(path): reloaded") != nil)
    }
}
