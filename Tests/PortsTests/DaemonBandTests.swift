import Foundation
import Engine
import MIDI
import Testing
import TestSupport

/// `sideman run` with a preset that has parts, through a real jackd: a melody from a python3-jack-client
/// peer gets accompaniment on the preset's channels, on the grid, within a period of the player's notes;
/// the session recording is written on SIGUSR1 and at stop.
@Suite(.serialized, .enabled(if: TestPaths.jackMissing == nil, "needs jackd and python3-jack-client (scripts/setup.sh)"))
struct DaemonBandTests {
    /// Runs the CLI to completion (training the tiny models).
    static func sideman(_ arguments: [String]) throws {
        let child = try ChildProcess(Program.sideman, arguments)
        guard child.waitForExit(timeout: 120) == 0 else {
            throw HarnessError("sideman \(arguments.joined(separator: " ")) failed: \(child.errorLines.joined(separator: " | "))")
        }
    }

    /// A folder with two tiny models trained by `sideman train` on made-up data (a melody event model on
    /// scales, a note-set model on triads with a beat under them) and a band preset using them.
    /// A fresh folder holding copies of the models and preset trained once per test run (training them
    /// in every live test loaded the 2-core box enough to turn timing tests red).
    static func bandFolder() throws -> String {
        let trained = try trainedBand.get()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sideman-band-\(getpid())-\(Int.random(in: 0..<1_000_000))").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for file in ["melody.safetensors", "sets.safetensors", "band.yaml"] {
            try FileManager.default.copyItem(atPath: "\(trained)/\(file)", toPath: "\(folder)/\(file)")
        }
        return folder
    }

    static let trainedBand: Result<String, any Error> = Result { try trainBand() }

    static func trainBand() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sideman-band-trained-\(getpid())-\(Int.random(in: 0..<1_000_000))").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var tunes = ""
        for k in 0..<16 {
            let root = 57 + k % 12
            let notes = (0..<32).map { i in "[\(i * 2),2,\(root + [0, 2, 4, 5, 7, 9, 11, 12][i % 8])]" }.joined(separator: ",")
            tunes += "{\"id\":\"t\(k)\",\"title\":\"scale\",\"spq\":4,\"notes\":[\(notes)]}\n"
        }
        try tunes.write(toFile: "\(folder)/tunes.jsonl", atomically: true, encoding: .utf8)
        let pieces = (0..<8).map { k -> String in
            let frames = (0..<64).map { s -> String in
                let root = [48, 53, 55, 48][(s / 16) % 4] + k % 3
                return "[\(root),\(root + 4),\(root + 7)" + (s % 4 == 0 ? ",36" : "") + "]"
            }
            return "[" + frames.joined(separator: ",") + "]"
        }
        try ("[" + pieces.joined(separator: ",") + "]").write(toFile: "\(folder)/pianoroll.json", atomically: true, encoding: .utf8)
        let tiny = ["--family", "basic", "--hidden", "24", "--layers", "1", "--epochs", "2", "--batch", "8", "--seq-len", "32", "--transpose", "0"]
        try sideman(["train", "--data", "\(folder)/tunes.jsonl", "--valid", "\(folder)/tunes.jsonl", "--out", "\(folder)/melody.safetensors"] + tiny)
        try sideman(["train", "--data", "\(folder)/pianoroll.json", "--valid", "\(folder)/pianoroll.json", "--out", "\(folder)/sets.safetensors"] + tiny)
        try """
            name: band
            ports:
              client_name: sideman
            transport:
              bpm: 120
            thru:
              enabled: false
            performance:
              mode: both
              continuation_bars: 1
            parts:
              - {name: answer, role: continuation, model: melody.safetensors, channel: 2}
              - {name: bass, role: bass, model: melody.safetensors, channel: 3, program: 33, range: [36, 55], grid: 8th}
              - {name: keys, role: chords, model: sets.safetensors, channel: 4, range: [48, 76], grid: quarter}
              - {name: drums, role: drums, model: sets.safetensors, channel: 10, range: [35, 59]}
              - {name: alto, role: counter-melody, model: melody.safetensors, channel: 5, range: [55, 72]}

            """.write(toFile: "\(folder)/band.yaml", atomically: true, encoding: .utf8)
        return folder
    }

    func noteOns(_ events: [(frame: UInt64, bytes: [UInt8])], channel: UInt8) -> [UInt64] {
        events.filter { $0.bytes.count == 3 && $0.bytes[0] == 0x90 | channel && $0.bytes[2] > 0 }.map(\.frame).sorted()
    }

    @Test func aMelodyGetsTheBandOnItsChannelsOnTheGridWithinAPeriodAndTheSessionIsRecorded() throws {
        let folder = try Self.bandFolder()
        let recordings = "\(folder)/sessions"
        let server = try JackServer()
        defer { server.stop() }
        let rig = try DaemonTests.Rig(server: server, arguments: ["--preset", "\(folder)/band.yaml", "--record", recordings])
        defer { rig.stop() }
        let rate = UInt64(rig.sender.sampleRate)
        let period = UInt64(rig.sender.blockSize)
        let fps = rate * 60 / 120 / 4  // one 16th at 120 bpm
        // Sixteen 8th notes; the first starts the grid.
        let xrunsBefore = try rig.sender.xruns()
        let base = try rig.sender.now() + rate / 5
        let pitches: [UInt8] = [60, 62, 64, 65, 67, 69, 71, 72, 71, 69, 67, 65, 64, 62, 60, 67]
        var strikes: [UInt64] = []
        for (k, p) in pitches.enumerated() {
            let on = base + UInt64(k) * 2 * fps
            strikes.append(on)
            rig.sender.send([0x90, p, 100], at: on)
            rig.sender.send([0x80, p, 0], at: on + 2 * fps - period)
        }
        let end = base + 40 * fps
        let events = try rig.receiver.waitForReceived(timeout: 30) { $0.last.map { $0.frame > end } ?? false }
        // SIGUSR1: the session so far is written, and the daemon plays on. Answering it, the daemon also
        // reports any xruns and late events, which a loaded machine (the flood tests beside this one) causes.
        rig.daemon.signal(SIGUSR1)
        #expect(rig.daemon.waitForError(containing: "session written") != nil)
        usleep(200_000)
        let disturbances = try rig.disturbances(sinceSenderXruns: xrunsBefore, ask: false)
        if disturbances > 0 { print("band on the grid: \(disturbances) xruns and late or dropped events on a loaded machine; \(rig.daemon.errorLines.filter { $0.contains("so far") })") }

        // The band plays on the preset's channels (bass, keys, drums, alto).
        for channel: UInt8 in [2, 3, 9, 4] { #expect(!noteOns(events, channel: channel).isEmpty, "nothing on channel \(channel + 1)") }
        #expect(events.contains { $0.bytes == [0xC2, 32] }, "the bass's program change was not sent")
        // On the grid: the bass's notes start on its 8th grid, within one period (reactions come at the first
        // writable frame after the player's note). Early by a period is allowed too: under xruns JACK's frame
        // time can read a period stale for a while; Sideman's clock keeps real time through it (it never
        // goes back), while the peers stamp their events with the stale reading.
        // Committing late, the bass waits for the player's note on its steps: its first note a chord's
        // spread (the preset's default, 25 ms) after the player's first, and after the melody has stopped,
        // a downbeat it held back for a strike comes at the on-step window's end (30 ms).
        let grid = Int64(2 * fps)
        let spread = Int64(Double(rate) * PerformanceSettings().chordSpreadMilliseconds / 1000)
        let window = Int64(rate * 30 / 1000)
        // With xruns or late events, the checks below hold for most notes rather than every one: a step
        // the engine thread was kept from by a busy machine goes out late, and a note the sender's
        // callback wrote in a cycle the server gave up on never reaches the daemon.
        let melodyEnd = base + 32 * fps
        var offGrid: [Int64] = []
        let bass = noteOns(events, channel: 2).filter { $0 >= base }
        for frame in bass {
            let offset = frame.frames(since: base) % grid
            let onTheGrid = offset <= Int64(period) || offset >= grid - Int64(period)
            let first = frame < base + fps && offset <= spread + Int64(period)
            let waitedInVain = frame > melodyEnd && offset <= window + Int64(period) && offset + 2 * Int64(period) >= window
            if !(onTheGrid || first || waitedInVain) { offGrid.append(offset) }
        }
        if disturbances == 0 {
            #expect(offGrid.isEmpty, "bass notes off the grid by \(offGrid) frames")
        } else {
            #expect(offGrid.count * 4 <= bass.count, "bass notes off the grid by \(offGrid) frames, of \(bass.count)")
        }
        // Reaction: from each player's on-step note to the following parts' first note on that step (the
        // first, bass and alto, a chord's spread later).
        var reactions: [UInt64] = []
        for f in strikes {
            for channel: UInt8 in [2, 4] {
                // In the first half of the step: a note in its second half is the next step's, a period early
                // while JACK's frame time reads stale (see the grid check above).
                if let g = noteOns(events, channel: channel).first(where: { $0 >= f && $0 < f + fps / 2 }) { reactions.append(g - f) }
            }
        }
        #expect(!reactions.isEmpty)
        let sorted = reactions.sorted()
        if disturbances == 0 {
            #expect(reactions.dropFirst(2).allSatisfy { $0 <= period }, "reactions in frames: \(sorted)")
            #expect(reactions.prefix(2).allSatisfy { $0 <= UInt64(spread) + period }, "reactions in frames: \(sorted)")
        } else {
            // Most on time, counting the first two (bass and alto on the first chord) from the chord's spread:
            // under xruns fewer strikes reach the daemon, and those two alone can be a quarter of them.
            let fromTheirDue = reactions.enumerated().map { $0.offset < 2 ? $0.element - min($0.element, UInt64(spread)) : $0.element }.sorted()
            #expect(fromTheirDue[fromTheirDue.count * 3 / 4] <= period, "reactions in frames: \(sorted)")
        }
        print("reaction (frames, period \(period)): n=\(sorted.count) min=\(sorted.first ?? 0) median=\(sorted[sorted.count / 2]) "
            + "p90=\(sorted[sorted.count * 9 / 10]) max=\(sorted.last ?? 0); distribution \(Dictionary(grouping: sorted, by: { $0 }).mapValues(\.count).sorted { $0.key < $1.key })")

        let files = try FileManager.default.contentsOfDirectory(atPath: recordings).filter { $0.hasSuffix(".mid") }
        #expect(files.count == 1)
        let path = "\(recordings)/\(files[0])"
        let first = try MIDIFileReader.read(path: path).file
        #expect(first.tracks.map(\.name) == ["tempo", "player", "answer", "bass", "keys", "drums", "alto"])
        let recorded = first.tracks[1].events.filter { $0.message?.isSoundingNoteOn == true }.count
        if disturbances == 0 {
            #expect(recorded == pitches.count)
        } else {
            #expect(recorded <= pitches.count && recorded >= pitches.count - min(disturbances, pitches.count / 4), "\(recorded) of \(pitches.count) recorded")
        }
        #expect(first.tracks[3].events.contains { $0.message?.isSoundingNoteOn == true })

        // A recording that cannot be written (a FIFO put in its place, which would block an open for ever)
        // is one clean log line, and the recording goes on to be written at stop.
        try FileManager.default.removeItem(atPath: path)
        try #require(mkfifo(path, 0o644) == 0)
        rig.daemon.signal(SIGUSR1)
        let refused = rig.daemon.waitForError(containing: "\(path): cannot create: is a FIFO, not a regular file; the recording goes on")
        #expect(refused != nil)
        try FileManager.default.removeItem(atPath: path)

        // Stop: every note the band started has ended at the receiver, and the recording is complete.
        rig.daemon.signal(SIGTERM)
        #expect(rig.daemon.waitForExit() == 0)
        let all = try rig.receiver.received()
        var tracker = NoteTracker()
        for e in all { MIDIStreamParserCheck.messages(e.bytes).forEach { tracker.observe($0) } }
        #expect(tracker.isSilent, "notes left sounding after stop")
        let last = try MIDIFileReader.read(path: path).file
        let count = { (f: MIDIFile) in f.tracks.reduce(0) { $0 + $1.events.count } }
        #expect(count(last) >= count(first))
        let stopped = last.tracks.dropFirst(2).allSatisfy { track in
            var t = NoteTracker()
            for e in track.events { if let m = e.message { t.observe(m) } }
            return t.isSilent
        }
        #expect(stopped, "the recording holds a part's note without its note-off")
    }
}


extension DaemonBandTests {
    /// SIGHUP with one part changed: that part starts over under its new settings; the others play on
    /// without a silence (no CC 123 anywhere) on the same grid.
    @Test func sighupReplacesOnlyTheChangedPart() throws {
        let folder = try Self.bandFolder()
        func write(altoVelocity: Int) throws {
            try """
                name: band
                thru: {enabled: false}
                transport: {bpm: 120}
                performance: {mode: accompaniment}
                parts:
                  - {name: bass, role: bass, model: melody.safetensors, channel: 3, range: [36, 55], grid: 8th}
                  - {name: alto, role: counter-melody, model: melody.safetensors, channel: 5, range: [55, 72], velocity: {base: \(altoVelocity), follow_player: 0}}

                """.write(toFile: "\(folder)/reload.yaml", atomically: true, encoding: .utf8)
        }
        try write(altoVelocity: 100)
        let server = try JackServer()
        defer { server.stop() }
        let rig = try DaemonTests.Rig(server: server, arguments: ["--preset", "\(folder)/reload.yaml"])
        defer { rig.stop() }
        let rate = UInt64(rig.sender.sampleRate)
        let period = UInt64(rig.sender.blockSize)
        let fps = rate * 60 / 120 / 4
        let base = try rig.sender.now() + rate / 5
        for k in 0..<48 {
            let on = base + UInt64(k) * 2 * fps
            rig.sender.send([0x90, 60 + UInt8(k % 8), 100], at: on)
            rig.sender.send([0x80, 60 + UInt8(k % 8), 0], at: on + 2 * fps - period)
        }
        _ = try rig.receiver.waitForReceived { $0.last.map { $0.frame > base + 16 * fps } ?? false }
        try write(altoVelocity: 40)
        rig.daemon.signal(SIGHUP)
        #expect(rig.daemon.waitForError(containing: "reloaded") != nil)
        let reloadedAt = try rig.sender.now()
        let events = try rig.receiver.waitForReceived { $0.last.map { $0.frame > reloadedAt + 24 * fps } ?? false }
        #expect(!events.contains { $0.bytes.count == 3 && $0.bytes[0] & 0xF0 == 0xB0 && $0.bytes[1] == 123 }, "a reload silenced everything")
        let alto = events.filter { $0.bytes.count == 3 && $0.bytes[0] == 0x94 && $0.bytes[2] > 0 }
        #expect(alto.contains { $0.frame < reloadedAt && $0.bytes[2] == 100 })
        #expect(alto.contains { $0.frame > reloadedAt + 2 * fps && $0.bytes[2] == 40 })
        #expect(!alto.contains { $0.frame > reloadedAt + 2 * fps && $0.bytes[2] != 40 })
        // The bass kept its grid across the reload.
        let bass = noteOns(events, channel: 2).filter { $0 > reloadedAt }
        #expect(!bass.isEmpty)
        // Within two periods of the 8th grid either way: under xruns JACK's frame time can read a period
        // stale for a while (Sideman's clock keeps real time, the peers' stamps do not), and the grid starts
        // at the first note as heard.
        for frame in bass {
            let grid = Int64(2 * fps)
            let offset = (frame.frames(since: base) % grid + grid) % grid
            #expect(min(offset, grid - offset) <= 2 * Int64(period), "bass at \(offset) frames past the grid")
        }
    }
}

enum MIDIStreamParserCheck {
    static func messages(_ bytes: [UInt8]) -> [MIDIMessage] {
        var parser = MIDIStreamParser()
        var out: [MIDIMessage] = []
        parser.parse(bytes) { out.append($0) }
        return out
    }
}
