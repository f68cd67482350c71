import Foundation
import MIDI
import Testing
import TestSupport

/// The shipped musical presets live, on a real jackd with python3-jack-client peers, through what a live
/// set does to a daemon: its server killed and restarted mid-phrase, a flood of notes and garbage, the
/// daemon itself killed mid-note and started again, a synth connected late. Asserted on what a player
/// and a synth would hear: music after each fault, a process still alive, and nothing left sounding.
@Suite(.serialized, .enabled(if: TestPaths.jackMissing == nil, "needs jackd and python3-jack-client (scripts/setup.sh)"))
struct RobustnessLiveTests {
    typealias Events = [(frame: UInt64, bytes: [UInt8])]

    /// The notes still sounding at a receiver that heard `events` (channel, note), as the project's note
    /// tracker keeps them: note-offs, the pedal, All Sound Off / All Notes Off and System Reset included.
    static func sounding(_ events: Events) -> Set<[UInt8]> {
        var tracker = NoteTracker()
        for event in events { MIDIStreamParserCheck.messages(event.bytes).forEach { tracker.observe($0) } }
        return Set(tracker.soundingNotes.map { [$0.channel, $0.note] })
    }

    /// Program numbers (0-based) among `events`.
    static func programs(_ events: Events) -> Set<UInt8> {
        Set(events.filter { $0.bytes.count == 2 && $0.bytes[0] & 0xF0 == 0xC0 }.map(\.bytes[1]))
    }

    /// The band preset's programs, bass 34 and keys 5 in its 1-based numbers.
    static let bandPrograms: Set<UInt8> = [33, 4]

    /// Note-ons on channels other than the player's first (the parts).
    static func bandNotes(_ events: Events) -> Int {
        events.filter { $0.bytes.count == 3 && $0.bytes[0] & 0xF0 == 0x90 && $0.bytes[0] & 0x0F != 0 && $0.bytes[2] > 0 }.count
    }

    /// What the player plays for each preset: chords on the beat for the band, a melody for the others
    /// (the folk answer comes after two silent beats, the choir sings under each note). Two bars at the
    /// preset's tempo, starting `lead` frames after the peer's clock.
    static func phrase(for preset: String, on player: JackPeer, lead: UInt64 = 9600) throws {
        let rate = UInt64(player.sampleRate)
        let bpm: UInt64 = preset == "chorale" ? 72 : preset == "folk" ? 100 : 104
        let beat = rate * 60 / bpm
        let base = try player.now() + lead
        let melody: [UInt8] = [60, 62, 64, 65, 67, 65, 64, 62]
        let chords: [[UInt8]] = [[48, 60, 64, 67], [53, 60, 65, 69], [55, 59, 62, 67], [48, 60, 64, 67]]
        for k in 0..<8 {
            let notes = preset == "band" ? chords[k / 2] : [melody[k]]
            let on = base + UInt64(k) * beat
            for note in notes {
                player.send([0x90, note, 96], at: on)
                player.send([0x80, note, 0], at: on + beat - beat / 8)
            }
        }
    }

    static func startDaemon(preset: String, server: JackServer, peer: String, extra: [String] = []) throws -> ChildProcess {
        let daemon = try ChildProcess(
            Program.sideman,
            ["run", "--backend", "jack", "--preset", preset, "--connect-in", "\(peer):out", "--connect-out", "\(peer):in"] + extra,
            environment: server.environment)
        guard daemon.waitForError(containing: "ready as", timeout: 60) != nil else {
            daemon.stop()
            throw HarnessError("sideman --preset \(preset) did not come up: \(daemon.errorLines.joined(separator: " | "))")
        }
        return daemon
    }

    /// (a) A player plays, jackd is killed with SIGKILL mid-phrase and started again, the player plays
    /// again: the parts play on the new server (the engine clock continues; before, the first note here
    /// trapped in the beat tracker), the process is alive, after SIGTERM nothing sounds, and the session
    /// recording runs on across the restart.
    @Test(arguments: ["band", "folk", "chorale"])
    func aServerKilledMidPhraseAndRestartedLeavesTheBandPlaying(preset: String) throws {
        let server = try JackServer()
        defer { server.stop() }
        let recordings = FileManager.default.temporaryDirectory.appendingPathComponent("sideman-live-\(getpid())-\(preset)-\(Int.random(in: 0..<1_000_000))").path
        defer { try? FileManager.default.removeItem(atPath: recordings) }
        let daemon = try Self.startDaemon(preset: preset, server: server, peer: "player", extra: ["--record", recordings])
        defer { daemon.stop() }
        var player = try JackPeer(name: "player", server: server)
        try RobustnessJackTests.waitFor(["player:out>sideman:in", "sideman:out>player:in"], on: server)
        try player.awaitGreeting()
        try Self.phrase(for: preset, on: player)
        let first = try player.waitForReceived(timeout: 30) { Self.bandNotes($0) >= 3 }
        #expect(Self.bandNotes(first) >= 3, "\(preset): the parts played before the restart")

        // Mid-phrase: the player is still playing when the server dies.
        try Self.phrase(for: preset, on: player, lead: 0)
        usleep(300_000)
        server.stop(signal: SIGKILL)
        player.child.signal(SIGKILL)
        _ = player.child.waitForExit(timeout: 5)
        try server.start()
        #expect(daemon.waitForError(containing: "reconnected", timeout: 20) != nil, "\(preset): the daemon reconnected")
        player = try JackPeer(name: "player", server: server)
        defer { player.stop() }
        try RobustnessJackTests.waitFor(["player:out>sideman:in", "sideman:out>player:in"], on: server)
        try player.awaitGreeting()
        try Self.phrase(for: preset, on: player)
        let again = try player.waitForReceived(timeout: 30) { Self.bandNotes($0) >= 3 }
        #expect(Self.bandNotes(again) >= 3, "\(preset): the parts play on the new server")
        #expect(daemon.process.isRunning, "\(preset): the daemon survived the first note after the restart")
        let perPhrase = preset == "band" ? 32 : 8
        // The whole phrase played (the thru has echoed its last note-off) before the stop.
        _ = try player.waitForReceived(timeout: 30) { events in
            events.filter { $0.bytes.count == 3 && $0.bytes[0] == 0x80 }.count >= perPhrase
        }
        #expect(!daemon.errorLines.contains { $0.contains("overflow") || $0.contains("Fatal") })

        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit(timeout: 20) == 0)
        usleep(100_000)
        let all = try player.received()
        #expect(Self.sounding(all).isEmpty, "\(preset): left sounding after SIGTERM: \(Self.sounding(all))")

        // The recording: the phrase played after the restart comes after the ones before it, and the parts'
        // notes go on past its start.
        let files = try FileManager.default.contentsOfDirectory(atPath: recordings).filter { $0.hasSuffix(".mid") }
        try #require(files.count == 1)
        let file = try MIDIFileReader.read(path: "\(recordings)/\(files[0])").file
        func onsets(_ track: MIDITrack) -> [Int] { track.events.filter { $0.message?.isSoundingNoteOn == true }.map(\.tick) }
        let played = onsets(file.tracks[1])
        try #require(played.count > perPhrase, "\(preset): \(played.count) player notes recorded")
        #expect(played == played.sorted(), "\(preset): the player's notes in order")
        let restartPhrase = played[played.count - perPhrase]
        #expect(restartPhrase > played[played.count - perPhrase - 1], "\(preset): the phrase after the restart comes after the ones before")
        let parts = file.tracks.dropFirst(2).flatMap(onsets)
        #expect(parts.contains { $0 >= restartPhrase }, "\(preset): the parts recorded after the restart")
    }

    /// (b) LONG (60 s per preset). 10,000 note messages a second for 60 s, a tenth of the events random
    /// bytes instead, into each musical preset, on a 256-frame period so xruns come easily on a loaded
    /// machine: the daemon is alive afterwards and still answers a note, and after SIGTERM every note the
    /// receiver heard start has ended.
    /// The MusicVAE presets too: under the flood the variation asks its decoder thread for a phrase at every
    /// silence it hears, and the groove drummer decodes as it plays. And the two transformer presets: the
    /// band decoder takes steps back as chords arrive, the folk answer runs int8-wide-attention.
    @Test(arguments: ["band", "folk", "chorale", "folk-variation", "groove", "band-transformer", "folk-transformer"])
    func aMinuteOfTenThousandNotesASecondAndGarbageLeavesNothingSounding(preset: String) throws {
        let server = try JackServer(period: 256)
        defer { server.stop() }
        let daemon = try Self.startDaemon(preset: preset, server: server, peer: "flood")
        defer { daemon.stop() }
        let flood = try ChildProcess(
            TestPaths.python, [RobustnessJackTests.floodScript, "--name", "flood", "--server", server.name],
            environment: server.environment)
        defer { flood.stop() }
        try #require(flood.nextLine()?.hasPrefix("ready ") == true, "flood: \(flood.errorLines)")
        try RobustnessJackTests.waitFor(["flood:out>sideman:in", "sideman:out>flood:in"], on: server)

        flood.send("notes 10000 60 \(preset.utf8.reduce(0) { $0 &* 31 &+ Int($1) } & 0xFFFF) 0.1")
        let done = try #require(flood.nextLine(timeout: 240), "\(preset): the flood did not finish")
        let fields = done.split(separator: " ")
        try #require(fields.count == 4 && fields[0] == "played", "\(preset): \(done)")
        print("\(preset) flood: \(fields[1]) note messages and \(fields[2]) random events in \(fields[3]) s")
        #expect((Int(fields[1]) ?? 0) > 300_000, "\(preset): the flood played")
        #expect(daemon.process.isRunning, "\(preset): the daemon survived the flood")

        // Still answering: a note passes (an end-of-exclusive first closes a sysex the garbage left open).
        let seen = RobustnessJackTests.probeAnswers(flood)
        #expect(seen, "\(preset): a note played after the flood came through")
        flood.send("probe 803d00")

        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit(timeout: 20) == 0, "\(preset): \(daemon.errorLines.suffix(3))")
        let receiver = try RobustnessJackTests.receiverState(flood)
        #expect(receiver.events > 1000, "\(preset): the output reached the receiver")
        #expect(receiver.stuck == "-", "\(preset): notes left sounding at the receiver: \(receiver.stuck)")
    }

    /// (c) The daemon killed with SIGKILL while a note sounds, then started again: within a second of its
    /// ports being ready the synth hears All Notes Off on the note's channel, and nothing sounds. Then a
    /// synth connected mid-set is greeted too, with the parts' programs, before any note.
    @Test func aDaemonKilledMidNoteSilencesTheSynthWhenItStartsAndGreetsALateSynth() throws {
        let server = try JackServer()
        defer { server.stop() }
        let arguments = ["run", "--backend", "jack", "--preset", "band", "--connect-in", "sender:out", "--connect-out", "receiver:in"]
        let first = try ChildProcess(Program.sideman, arguments, environment: server.environment)
        defer { first.stop() }
        try #require(first.waitForError(containing: "ready as", timeout: 60) != nil)
        let sender = try JackPeer(name: "sender", server: server)
        defer { sender.stop() }
        let receiver = try JackPeer(name: "receiver", server: server)
        defer { receiver.stop() }
        try DaemonTests.Rig.waitForConnections(server)
        try receiver.awaitGreeting()
        // The parts' programs follow the All Notes Offs.
        let programs = try receiver.waitForReceived(timeout: 5) { Self.programs($0).isSuperset(of: Self.bandPrograms) }
        #expect(Self.programs(programs).isSuperset(of: Self.bandPrograms), "programs after the greeting: \(Self.programs(programs))")

        sender.send([0x90, 64, 100], at: try sender.now() + 2400)
        let held = try receiver.waitForReceived { Self.sounding($0).contains([0, 64]) }
        #expect(Self.sounding(held).contains([0, 64]), "the player's note sounds through the thru")
        first.signal(SIGKILL)
        _ = first.waitForExit(timeout: 10)
        #expect(Self.sounding(try receiver.received()).contains([0, 64]), "a killed daemon leaves the note sounding")

        let second = try ChildProcess(Program.sideman, arguments, environment: server.environment)
        defer { second.stop() }
        try #require(second.waitForError(containing: "ready as", timeout: 60) != nil)
        let ready = Date()
        let after = try receiver.waitForReceived(timeout: 10) { !Self.sounding($0).contains([0, 64]) }
        let seconds = Date().timeIntervalSince(ready)
        #expect(!Self.sounding(after).contains([0, 64]), "the restarted daemon ended the hung note")
        #expect(seconds < 1, "All Notes Off \(seconds) s after the daemon was ready")
        print("all notes off \(String(format: "%.3f", seconds)) s after the restarted daemon was ready")

        // A second synth plugged in mid-set is greeted with the programs before any note.
        let late = try JackPeer(name: "late", server: server)
        defer { late.stop() }
        try late.connect("sideman:out", "late:in")
        let lateGreeting = try late.awaitGreeting()
        #expect(lateGreeting.allSatisfy { $0.bytes[0] & 0xF0 == 0xB0 }, "nothing but the greeting's controllers came first")
        let lateEvents = try late.waitForReceived(timeout: 5) { Self.programs($0).isSuperset(of: Self.bandPrograms) }
        let firstNote = lateEvents.firstIndex { $0.bytes.count == 3 && $0.bytes[0] & 0xF0 == 0x90 } ?? lateEvents.count
        let programsFirst = Self.programs(Array(lateEvents.prefix(firstNote)))
        #expect(programsFirst.isSuperset(of: Self.bandPrograms), "the late synth heard the programs first: \(programsFirst)")

        second.signal(SIGTERM)
        #expect(second.waitForExit(timeout: 20) == 0)
    }

    /// The server dies and does not come back, and the daemon is stopped while it waits for one: the
    /// session recorded so far is still written (before, it was written only when stopping connected).
    @Test func aStopWhileWaitingForTheServerStillWritesTheSession() throws {
        let server = try JackServer()
        defer { server.stop() }
        let recordings = FileManager.default.temporaryDirectory.appendingPathComponent("sideman-wait-\(getpid())-\(Int.random(in: 0..<1_000_000))").path
        defer { try? FileManager.default.removeItem(atPath: recordings) }
        let daemon = try Self.startDaemon(preset: "folk", server: server, peer: "player", extra: ["--record", recordings])
        defer { daemon.stop() }
        let player = try JackPeer(name: "player", server: server)
        defer { player.stop() }
        try RobustnessJackTests.waitFor(["player:out>sideman:in", "sideman:out>player:in"], on: server)
        try player.awaitGreeting()
        try Self.phrase(for: "folk", on: player, lead: 2400)
        _ = try player.waitForReceived { $0.filter { $0.bytes.count == 3 && $0.bytes[0] == 0x90 }.count >= 4 }
        server.stop(signal: SIGKILL)
        #expect(daemon.waitForError(containing: "waiting for it") != nil)
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit(timeout: 20) == 0)
        let files = try FileManager.default.contentsOfDirectory(atPath: recordings).filter { $0.hasSuffix(".mid") }
        try #require(files.count == 1, "no session written: \(daemon.errorLines.suffix(3))")
        let file = try MIDIFileReader.read(path: "\(recordings)/\(files[0])").file
        #expect(file.tracks[1].events.filter { $0.message?.isSoundingNoteOn == true }.count >= 4)
    }
}
