import Foundation
import Testing
import TestSupport

@testable import MIDI

/// Files we write are read by Python's mido, and files mido writes are read by us, with the same notes,
/// tempos and length. Skipped with a message where /usr/bin/python3 or mido is missing.
@Suite("SMF cross-check with mido")
struct SMFMidoCrossCheckTests {
    static let python = "/usr/bin/python3"

    static let script = #"""
        import sys, json, random, mido

        def dump(path):
            f = mido.MidiFile(path)
            out = {"type": f.type, "division": f.ticks_per_beat, "tracks": [], "seconds": f.length}
            for t in f.tracks:
                tick = 0
                notes, tempos, names, sysex = [], [], [], []
                for m in t:
                    tick += m.time
                    if m.type in ("note_on", "note_off"):
                        notes.append([tick, m.channel, m.note, m.velocity, 1 if m.type == "note_on" else 0])
                    elif m.type == "set_tempo":
                        tempos.append([tick, m.tempo])
                    elif m.type == "track_name":
                        names.append(m.name)
                    elif m.type == "sysex":
                        sysex.append([tick] + list(m.data))
                out["tracks"].append({"notes": notes, "tempos": tempos, "names": names, "sysex": sysex, "end": tick})
            return out

        def write(path, seed, kind):
            rng = random.Random(seed)
            f = mido.MidiFile(type=kind, ticks_per_beat=rng.choice([96, 192, 480, 960]))
            tracks = [mido.MidiTrack() for _ in range(1 if kind == 0 else rng.randint(2, 4))]
            f.tracks.extend(tracks)
            tracks[0].append(mido.MetaMessage("track_name", name="Conductor %d" % seed))
            for _ in range(rng.randint(0, 6)):
                tracks[0].append(mido.MetaMessage("set_tempo", tempo=rng.randint(200000, 1500000), time=rng.randint(0, 2000)))
            for track in tracks:
                for _ in range(rng.randint(0, 120)):
                    ch = rng.randint(0, 15)
                    r = rng.random()
                    dt = rng.choice([0, 0, rng.randint(1, 500), rng.randint(1, 100000)])
                    if r < 0.6:
                        track.append(mido.Message("note_on", channel=ch, note=rng.randint(0, 127), velocity=rng.randint(0, 127), time=dt))
                    elif r < 0.8:
                        track.append(mido.Message("note_off", channel=ch, note=rng.randint(0, 127), velocity=rng.randint(0, 127), time=dt))
                    elif r < 0.9:
                        track.append(mido.Message("control_change", channel=ch, control=rng.randint(0, 127), value=rng.randint(0, 127), time=dt))
                    elif r < 0.95:
                        track.append(mido.Message("pitchwheel", channel=ch, pitch=rng.randint(-8192, 8191), time=dt))
                    else:
                        track.append(mido.Message("sysex", data=[rng.randint(0, 127) for _ in range(rng.randint(0, 10))], time=dt))
            f.save(path)

        if sys.argv[1] == "read":
            print(json.dumps([dump(p) for p in sys.argv[2:]]))
        else:
            for i, path in enumerate(sys.argv[3:]):
                write(path, int(sys.argv[2]) + i, i % 2)
            print(json.dumps([dump(p) for p in sys.argv[3:]]))
        """#

    /// Runs the script; nil (after printing why) when mido cannot run here.
    static func runMido(_ arguments: [String]) throws -> [[String: Any]]? {
        guard FileManager.default.isExecutableFile(atPath: python) else {
            print("skipped: \(python) not found")
            return nil
        }
        guard try Program.run(python, ["-c", "import mido"]).status == 0 else {
            print("skipped: mido is not installed for \(python) (apt-get install python3-mido)")
            return nil
        }
        let run = try Program.run(python, ["-c", script] + arguments)
        try #require(run.status == 0, "mido failed: \(run.stderr)")
        return try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]]
    }

    static func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sideman-smf-\(getpid())-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// What both sides are compared on, per track.
    struct Listing: Equatable {
        var notes: [[Int]] = []
        var tempos: [[Int]] = []
        var names: [String] = []
        var sysex: [[Int]] = []
        var end = 0
    }

    static func listing(_ track: MIDITrack) -> Listing {
        var listing = Listing(end: track.endTick)
        for event in track.events {
            switch event.kind {
            case .channel(.noteOn(let c, let n, let v)): listing.notes.append([event.tick, Int(c), Int(n), Int(v), 1])
            case .channel(.noteOff(let c, let n, let v)): listing.notes.append([event.tick, Int(c), Int(n), Int(v), 0])
            case .meta(.tempo(let t)): listing.tempos.append([event.tick, Int(t)])
            case .meta(.text(.trackName, let bytes)): listing.names.append(MetaEvent.decodeText(bytes))
            case .sysex(let s): if case .sysex(let payload)? = s.message { listing.sysex.append([event.tick] + payload.map(Int.init)) }
            default: break
            }
        }
        return listing
    }

    static func listing(_ json: [String: Any]) -> Listing {
        Listing(
            notes: json["notes"] as! [[Int]], tempos: json["tempos"] as! [[Int]], names: json["names"] as! [String],
            sysex: json["sysex"] as! [[Int]], end: json["end"] as! Int)
    }

    /// A random song of the kinds of events mido knows, with 7-bit sysex (mido refuses others).
    static func song(seed: UInt64, format: MIDIFile.Format) -> MIDIFile {
        var rng = SeededGenerator(seed: seed)
        var conductor = [SMFEvent(tick: 0, .meta(.text(.trackName, Array("Tempo \(seed)".utf8))))]
        var tick = 0
        for _ in 0..<Int.random(in: 0...6, using: &rng) {
            tick += Int.random(in: 0...3000, using: &rng)
            conductor.append(SMFEvent(tick: tick, .meta(.tempo(microsecondsPerQuarter: UInt32.random(in: 200_000...1_500_000, using: &rng)))))
        }
        conductor.append(SMFEvent(tick: tick, .meta(.timeSignature(numerator: 3, denominatorPower: 2, clocksPerClick: 24, thirtySecondsPerQuarter: 8))))
        conductor.append(SMFEvent(tick: tick, .meta(.keySignature(sharps: Int8.random(in: -7...7, using: &rng), minor: Bool.random(using: &rng)))))
        var tracks = [MIDITrack(events: conductor)]
        for index in 0..<Int.random(in: 1...3, using: &rng) {
            var events = [SMFEvent(tick: 0, .meta(.text(.trackName, Array("Part \(index)".utf8))))]
            var t = 0
            for _ in 0..<Int.random(in: 0...150, using: &rng) {
                t += [0, 0, Int.random(in: 1...400, using: &rng), Int.random(in: 1...200_000, using: &rng)].randomElement(using: &rng)!
                if Int.random(in: 0...30, using: &rng) == 0 {
                    let payload = (0..<Int.random(in: 0...12, using: &rng)).map { _ in UInt8.random(in: 0...127, using: &rng) }
                    events.append(SMFEvent(tick: t, .sysex(SysexEvent(form: .start, bytes: payload + [0xF7]))))
                } else {
                    events.append(SMFEvent(tick: t, .channel(RandomMIDIFiles.message(&rng))))
                }
            }
            events.append(SMFEvent(tick: t + Int.random(in: 0...100, using: &rng), .meta(.endOfTrack)))
            tracks.append(MIDITrack(events: events))
        }
        let file = MIDIFile(format: .simultaneousTracks, division: .ticksPerQuarter([96, 192, 480, 960].randomElement(using: &rng)!), tracks: tracks)
        return format == .singleTrack ? MIDIFile(format: .singleTrack, division: file.division, tracks: [MIDIFileWriter.merged(tracks)]) : file
    }

    @Test("files we write read the same in mido: notes, tempos, names, sysex, length in seconds")
    func weWriteMidoReads() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var paths: [String] = []
        var files: [MIDIFile] = []
        for seed in 0..<40 {
            let file = Self.song(seed: UInt64(seed) &* 104_729 &+ 1, format: seed % 3 == 0 ? .singleTrack : .simultaneousTracks)
            let path = folder.appendingPathComponent("ours-\(seed).mid").path
            try Data(MIDIFileWriter.write(file)).write(to: URL(fileURLWithPath: path))
            paths.append(path)
            files.append(file)
        }
        guard let dumps = try Self.runMido(["read"] + paths) else { return }
        try #require(dumps.count == files.count)
        for (file, dump) in zip(files, dumps) {
            #expect(dump["type"] as? Int == Int(file.format.rawValue))
            if case .ticksPerQuarter(let t) = file.division { #expect(dump["division"] as? Int == Int(t)) }
            let theirs = (dump["tracks"] as! [[String: Any]]).map(Self.listing)
            #expect(theirs == file.tracks.map(Self.listing))
            #expect(abs((dump["seconds"] as! Double) - file.durationInSeconds) < 1e-6)
        }
    }

    @Test("files mido writes (formats 0 and 1, running status) read the same in ours")
    func midoWritesWeRead() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let paths = (0..<40).map { folder.appendingPathComponent("mido-\($0).mid").path }
        guard let dumps = try Self.runMido(["write", "2026"] + paths) else { return }
        try #require(dumps.count == paths.count)
        #expect(dumps.filter { ($0["tracks"] as! [[String: Any]]).contains { !($0["notes"] as! [[Int]]).isEmpty } }.count > 30)
        for (path, dump) in zip(paths, dumps) {
            let bytes = try #require(FileManager.default.contents(atPath: path))
            let outcome = try MIDIFileReader.read([UInt8](bytes))
            #expect(outcome.warnings.isEmpty, "\(path): \(outcome.warnings)")
            #expect(Int(outcome.file.format.rawValue) == dump["type"] as? Int)
            #expect(outcome.file.division == .ticksPerQuarter(UInt16(dump["division"] as! Int)))
            let theirs = (dump["tracks"] as! [[String: Any]]).map(Self.listing)
            #expect(outcome.file.tracks.map(Self.listing) == theirs, "\(path)")
            #expect(abs((dump["seconds"] as! Double) - outcome.file.durationInSeconds) < 1e-6, "\(path)")
        }
    }
}
