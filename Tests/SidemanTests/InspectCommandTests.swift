import Foundation
import Testing
import TestSupport

/// Runs the built `sideman` binary as a user would and checks exit codes, stdout and stderr.
@Suite("sideman inspect")
struct InspectCommandTests {
    static func packageRoot(filePath: String = #filePath) -> URL? {
        var url = URL(fileURLWithPath: filePath).deletingLastPathComponent()
        while url.path != "/" {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
            url = url.deletingLastPathComponent()
        }
        return nil
    }

    static func example() throws -> String {
        let path = try #require(packageRoot()).appendingPathComponent("examples/twinkle.mid").path
        try #require(FileManager.default.fileExists(atPath: path))
        return path
    }

    /// Writes `bytes` to a file in a fresh folder, runs `body` with its path, then removes the folder.
    static func withTemporaryFile(_ name: String, _ bytes: [UInt8], _ body: (String) throws -> Void) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sideman-inspect-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        try body(path)
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test("a good file: exit 0, one JSON object with the song's facts")
    func goodFileJSON() throws {
        let path = try Self.example()
        let run = try Program.sideman(["inspect", path, "--json"])
        #expect(run.status == 0)
        #expect(run.stderr.isEmpty)
        #expect(run.stdout.split(separator: "\n").count == 1)
        let object = try Self.json(run.stdout)
        for key in ["format", "division", "tracks", "notes", "seconds", "ticks", "tempos", "timeSignatures", "keySignatures", "warnings"] {
            #expect(object[key] != nil, "missing \(key)")
        }
        #expect(object["format"] as? Int == 1)
        #expect(object["division"] as? Int == 480)
        #expect(object["notes"] as? Int == 66)
        #expect(abs((object["seconds"] as? Double ?? 0) - 28.8) < 1e-6)
        let tracks = try #require(object["tracks"] as? [[String: Any]])
        #expect(tracks.map { $0["name"] as? String } == ["Melody", "Bass"])
        #expect(tracks.map { $0["notes"] as? Int } == [42, 24])
        #expect(tracks.map { $0["channels"] as? [Int] } == [[0], [1]])
        #expect(tracks.map { $0["programs"] as? [Int] } == [[0], [32]])
        let keys = try #require(object["keySignatures"] as? [[String: Any]])
        #expect(keys.first?["key"] as? String == "C major")
        let tempos = try #require(object["tempos"] as? [[String: Any]])
        #expect(tempos.first?["bpm"] as? Double == 100)
        let meters = try #require(object["timeSignatures"] as? [[String: Any]])
        #expect(meters.first?["numerator"] as? Int == 4 && meters.first?["denominator"] as? Int == 4)
        #expect((object["warnings"] as? [Any])?.isEmpty == true)
    }

    @Test("a good file as text: format, division, tracks, tempo, key, duration")
    func goodFileText() throws {
        let run = try Program.sideman(["inspect", try Self.example()])
        #expect(run.status == 0)
        #expect(run.stderr.isEmpty)
        for words in ["format 1", "2 tracks", "480 ticks per quarter note", "28.800 s", "66 notes", "100.00 BPM", "4/4", "C major", "\"Melody\": 42 notes", "\"Bass\": 24 notes"] {
            #expect(run.stdout.contains(words), "missing \(words) in \(run.stdout)")
        }
    }

    @Test("a band file from the data set matches its manifest")
    func bandFile() throws {
        guard let corpora = Corpora.folder(needing: "band/train/50sRock1Plus_0.mid") else {
            print(Corpora.skipReason)
            return
        }
        let band = URL(fileURLWithPath: corpora).appendingPathComponent("band")
        let path = band.appendingPathComponent("train/50sRock1Plus_0.mid").path
        let line = try String(contentsOfFile: band.appendingPathComponent("train.jsonl").path, encoding: .utf8).split(separator: "\n").first { $0.contains("\"train/50sRock1Plus_0.mid\"") }
        let manifest = try Self.json(String(try #require(line)))
        let run = try Program.sideman(["inspect", path, "--json"])
        #expect(run.status == 0)
        let object = try Self.json(run.stdout)
        let tracks = try #require(object["tracks"] as? [[String: Any]])
        var total = 0
        for entry in try #require(manifest["tracks"] as? [[String: Any]]) {
            let index = try #require(entry["track"] as? Int)
            #expect(tracks[index]["notes"] as? Int == entry["notes"] as? Int)
            #expect(tracks[index]["name"] as? String == entry["name"] as? String)
            total += entry["notes"] as? Int ?? 0
        }
        #expect(object["notes"] as? Int == total)
        #expect(object["division"] as? Int == manifest["ticks_per_beat"] as? Int)
    }

    @Test("a corrupt file: exit 65 and one line naming the file, the problem and the byte")
    func corruptFile() throws {
        let good = try #require(FileManager.default.contents(atPath: try Self.example()))
        try Self.withTemporaryFile("cut.mid", Array([UInt8](good).prefix(good.count / 2))) { path in
            for arguments in [["inspect", path], ["inspect", path, "--json"]] {
                let run = try Program.sideman(arguments)
                #expect(run.status == 65)
                #expect(run.stdout.isEmpty)
                #expect(run.stderrLines.count == 1, "\(run.stderr)")
                let line = String(run.stderrLines.first ?? "")
                #expect(line.hasPrefix("sideman: \(path): "), "\(line)")
                #expect(line.range(of: #"at byte \d+$"#, options: .regularExpression) != nil, "\(line)")
            }
        }
    }

    @Test("not a MIDI file at all: exit 65")
    func notMIDI() throws {
        try Self.withTemporaryFile("notes.txt", Array("C D E F G A B\n".utf8)) { path in
            let run = try Program.sideman(["inspect", path])
            #expect(run.status == 65)
            #expect(run.stderr == "sideman: \(path): not a Standard MIDI File (no MThd header) at byte 0\n")
        }
    }

    @Test("a tolerable oddity: exit 0, the warning on stderr and in the JSON")
    func warning() throws {
        let good = try #require(FileManager.default.contents(atPath: try Self.example()))
        try Self.withTemporaryFile("extra.mid", [UInt8](good) + Array("*".utf8)) { path in
            let run = try Program.sideman(["inspect", path, "--json"])
            #expect(run.status == 0)
            #expect(run.stderrLines.count == 1)
            #expect(run.stderr.hasPrefix("sideman: \(path): warning: 1 bytes of garbage after the last chunk ignored at byte \(good.count)"))
            let object = try Self.json(run.stdout)
            #expect((object["warnings"] as? [String])?.count == 1)
            #expect(object["notes"] as? Int == 66)
        }
    }

    @Test("a missing file: exit 66 and 'no such file'")
    func missing() throws {
        let run = try Program.sideman(["inspect", "/nonexistent/song.mid"])
        #expect(run.status == 66)
        #expect(run.stderr == "sideman: /nonexistent/song.mid: no such file\n")
    }

    @Test("a directory: exit 66")
    func directory() throws {
        let run = try Program.sideman(["inspect", FileManager.default.temporaryDirectory.path])
        #expect(run.status == 66)
        #expect(run.stderrLines.count == 1)
    }

    @Test("no file given: usage error, exit 64")
    func usage() throws {
        let run = try Program.sideman(["inspect"])
        #expect(run.status == 64)
        #expect(run.stdout.isEmpty)
    }
}
