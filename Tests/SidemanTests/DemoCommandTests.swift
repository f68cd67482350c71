import Foundation
import MIDI
import Testing
import TestSupport

/// `sideman demo` and the `--svg` option, through the built binary.
@Suite("sideman demo and --svg")
struct DemoCommandTests {
    typealias CLI = InspectCommandTests

    static let soundfonts = ["/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/sounds/sf2/default-GM.sf2"]
    static var hasSynth: Bool {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let synth = path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/fluidsynth") }
        return synth && soundfonts.contains(where: FileManager.default.fileExists)
    }

    static func withFolder(_ body: (String) throws -> Void) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sideman-demo-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: folder) }
        try body(folder.path)
    }

    /// Counts the SVG's note rectangles, player and generated; fails on malformed XML.
    static func notes(inSVG path: String) throws -> (player: Int, generated: Int) {
        let notes = try SVGDocument.read(path).elements.filter { $0.name == "rect" }.map(\.attributes).filter {
            ($0["class"] ?? "").split(separator: " ").contains("note")
        }
        let player = notes.filter { ($0["class"] ?? "").split(separator: " ").contains("player") }.count
        return (player, notes.count - player)
    }

    /// Note-ons per track (each becomes one drawn note).
    /// The loudest 16-bit sample of a PCM WAV, in dBFS (-inf for silence or a file it cannot read).
    static func peakDecibels(_ bytes: [UInt8]) -> Double {
        guard let data = bytes.indices.dropLast(3).first(where: { bytes[$0..<$0 + 4].elementsEqual("data".utf8) }) else { return -.infinity }
        var peak = 0
        for i in stride(from: data + 8, to: bytes.count - 1, by: 2) {
            peak = max(peak, abs(Int(Int16(bitPattern: UInt16(bytes[i]) | UInt16(bytes[i + 1]) << 8))))
        }
        return 20 * log10(Double(peak) / 32768)
    }

    static func noteCounts(inMIDI path: String) throws -> [Int] {
        try MIDIFileReader.read(path: path).file.tracks.map { track in
            track.events.filter { if case .noteOn(_, _, let v)? = $0.message { v > 0 } else { false } }.count
        }
    }

    @Test("the built-in tune is answered by the folk preset; MIDI and SVG agree; a seed repeats it")
    func builtInDemo() throws {
        try Self.withFolder { folder in
            let run = try Program.sideman(["demo", "--out", folder, "--seed", "5"])
            #expect(run.status == 0, "\(run.stderr)")
            let midi = folder + "/demo.mid", svg = folder + "/demo.svg"
            #expect(run.stdout.contains("wrote \(midi)"))
            #expect(run.stdout.contains("wrote \(svg)"))
            let counts = try Self.noteCounts(inMIDI: midi)
            // The tune's 8 bars, then the continuation's own track.
            #expect(counts.count == 2)
            #expect(counts[0] == 30)
            #expect(counts[1] > 0, "the continuation answered nothing")
            let drawn = try Self.notes(inSVG: svg)
            #expect(drawn.player == counts[0])
            #expect(drawn.generated == counts[1])
            let first = try Data(contentsOf: URL(fileURLWithPath: midi))
            let again = try Program.sideman(["demo", "--out", folder, "--seed", "5"])
            #expect(again.status == 0)
            #expect(try Data(contentsOf: URL(fileURLWithPath: midi)) == first)
        }
    }

    @Test("a given file is the player")
    func givenFile() throws {
        let example = try CLI.example()
        try Self.withFolder { folder in
            let run = try Program.sideman(["demo", example, "--out", folder, "--bars", "2"])
            #expect(run.status == 0, "\(run.stderr)")
            let input = try Self.noteCounts(inMIDI: example)
            let counts = try Self.noteCounts(inMIDI: folder + "/demo.mid")
            #expect(Array(counts.prefix(input.count)) == input)
            let drawn = try Self.notes(inSVG: folder + "/demo.svg")
            let player = try #require(input.firstIndex { $0 > 0 })
            #expect(drawn.player == input[player])
            #expect(drawn.player + drawn.generated == counts.reduce(0, +))
        }
    }

    @Test("a missing preset is one line and exit 66, and writes nothing")
    func missingPreset() throws {
        try Self.withFolder { folder in
            let run = try Program.sideman(["demo", "--preset", "no-such-preset", "--out", folder])
            #expect(run.status == 66)
            #expect(run.stderrLines.count == 1)
            #expect(run.stderrLines.first?.hasPrefix("sideman: ") == true)
            #expect(!FileManager.default.fileExists(atPath: folder + "/demo.mid"))
        }
    }

    @Test("without FluidSynth the demo says how to get it", .enabled(if: !hasSynth))
    func wavHint() throws {
        try Self.withFolder { folder in
            let run = try Program.sideman(["demo", "--out", folder])
            #expect(run.status == 0)
            #expect(run.stdout.contains("apt-get install fluidsynth fluid-soundfont-gm"))
            #expect(!FileManager.default.fileExists(atPath: folder + "/demo.wav"))
        }
    }

    @Test("with FluidSynth and a GM soundfont the demo writes a WAV (skipped when they are not installed: apt-get install fluidsynth fluid-soundfont-gm)",
          .enabled(if: hasSynth))
    func wav() throws {
        try Self.withFolder { folder in
            let run = try Program.sideman(["demo", "--out", folder])
            #expect(run.status == 0, "\(run.stderr)")
            let wav = try Data(contentsOf: URL(fileURLWithPath: folder + "/demo.wav"))
            #expect(wav.count > 44_100)
            #expect(Array(wav.prefix(4)) == Array("RIFF".utf8))
            #expect(Array(wav[8..<12]) == Array("WAVE".utf8))
            #expect(run.stdout.contains("wrote \(folder)/demo.wav"))
            // At a listening level (FluidSynth alone leaves it near -25 dBFS), and not clipped.
            let peak = Self.peakDecibels(Array(wav))
            #expect(peak > -3 && peak < -0.5, "peak \(peak) dBFS")
        }
    }

    @Test("continue and demo put the answer on a channel the file leaves free", arguments: ["continue", "demo"])
    func theAnswerGoesOnAFreeChannel(command: String) throws {
        try Self.withFolder { folder in
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let out = command == "demo" ? folder + "/demo.mid" : folder + "/out.mid"
            // twinkle plays its bass on channel 2, the folk preset's answer channel.
            let run = try Program.sideman(command == "demo"
                ? ["demo", "--preset", "folk", "--out", folder, try CLI.example()]
                : ["continue", try CLI.example(), "-o", out, "--preset", "folk", "--bars", "2"])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stderr.contains("the answer goes on channel"))
            let tracks = try MIDIFileReader.read(path: out).file.tracks
            func channels(_ track: MIDITrack) -> Set<UInt8> { Set(track.events.compactMap { $0.message?.channel }) }
            let answer = try #require(tracks.last)
            let input = tracks.dropLast().reduce(into: Set<UInt8>()) { $0.formUnion(channels($1)) }
            #expect(!channels(answer).isEmpty, "the answer played")
            #expect(channels(answer).isDisjoint(with: input), "answer on \(channels(answer)), the file uses \(input)")
        }
    }

    @Test("continue and accompany write the piano roll with --svg", arguments: ["continue", "accompany"])
    func svgOption(command: String) throws {
        let example = try CLI.example()
        try Self.withFolder { folder in
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let out = folder + "/out.mid", svg = folder + "/out.svg"
            let run = try Program.sideman([command, example, "-o", out, "--preset", "folk", "--svg", svg])
            #expect(run.status == 0, "\(run.stderr)")
            let counts = try Self.noteCounts(inMIDI: out)
            let drawn = try Self.notes(inSVG: svg)
            let player = try #require(counts.firstIndex { $0 > 0 })
            #expect(drawn.player == counts[player])
            #expect(drawn.player + drawn.generated == counts.reduce(0, +))
        }
    }
}
