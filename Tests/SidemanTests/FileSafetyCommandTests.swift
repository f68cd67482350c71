import Foundation
import Neural
import Testing
import TestSupport

/// Files that would hang, crash or fool the commands (issue 13): special files as inputs or outputs, an
/// output that is the input, weights with NaNs, MIDI files that last for years. Each command must answer
/// with one line and its exit code. Every run is bounded: a command that hangs is killed, and the test
/// fails on the exit it gets instead of hanging the suite.
@Suite("files that would hang or fool a command")
struct FileSafetyCommandTests {
    typealias CLI = InspectCommandTests

    /// Far longer than any of these commands needs, even on a loaded machine; only a hang reaches it.
    static let killAfter: Double = 300

    static func run(_ arguments: [String]) throws -> Program.Outcome {
        try Program.sideman(arguments, killAfter: killAfter)
    }

    static func withFolder(_ body: (String) throws -> Void) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sideman-files-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try body(folder)
    }

    static func makeFIFO(_ path: String) throws {
        try #require(mkfifo(path, 0o644) == 0, "mkfifo \(path): \(String(cString: strerror(errno)))")
    }

    static func shipped(_ relative: String) throws -> String {
        let path = try #require(CLI.packageRoot()).appendingPathComponent(relative).path
        try #require(FileManager.default.fileExists(atPath: path))
        return path
    }

    /// The shipped folk preset, copied into `folder` with its part's model at `model`.
    static func folkPreset(in folder: String, model: String) throws -> String {
        let yaml = try String(contentsOfFile: shipped("presets/folk.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "model: folk/continuation.safetensors", with: "model: \(model)")
        let path = "\(folder)/folk.yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func expectOneLine(_ run: Program.Outcome, _ status: Int32, _ line: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!run.killed, "killed after \(killAfter) s: it hung", sourceLocation: sourceLocation)
        #expect(run.status == status, "\(run.stderr)", sourceLocation: sourceLocation)
        #expect(run.stderr == "sideman: \(line)\n", sourceLocation: sourceLocation)
    }

    // MARK: special files as inputs

    @Test func aFIFOAsPresetModelOrMIDIFileIsRefusedAtOnceWithExit66() throws {
        let tune = try CLI.example()
        try Self.withFolder { folder in
            let fifo = "\(folder)/fifo"
            try Self.makeFIFO(fifo)
            let out = "\(folder)/out.mid"
            let fifoLine = "is a FIFO, not a regular file"
            Self.expectOneLine(try Self.run(["continue", tune, "-o", out, "--preset", fifo]), 66, "\(fifo): \(fifoLine)")
            let preset = try Self.folkPreset(in: folder, model: "fifo")
            Self.expectOneLine(
                try Self.run(["accompany", tune, "-o", out, "--preset", preset]), 66, "\(folder)/fifo: \(fifoLine) (parts[0].model)")
            Self.expectOneLine(try Self.run(["bench", "--model", fifo]), 66, "\(fifo): \(fifoLine)")
            Self.expectOneLine(try Self.run(["continue", fifo, "-o", out, "--preset", "folk"]), 66, "\(fifo): \(fifoLine)")
            Self.expectOneLine(try Self.run(["inspect", fifo]), 66, "\(fifo): \(fifoLine)")
            Self.expectOneLine(try Self.run(["demo", fifo, "--out", folder]), 66, "\(fifo): \(fifoLine)")
            #expect(!FileManager.default.fileExists(atPath: out))
        }
    }

    @Test func aDeviceAsPresetIsRefusedWithExit66() throws {
        Self.expectOneLine(
            try Self.run(["continue", try CLI.example(), "-o", "/tmp/never.mid", "--preset", "/dev/zero"]), 66,
            "/dev/zero: is a character device, not a regular file")
    }

    // MARK: weights

    @Test("a NaN or an infinity in a model's weights: exit 65 naming the file and the tensor", arguments: [DType.f32, .f16])
    func nonFiniteWeights(dtype: DType) throws {
        var set = try SafeTensors.read(path: Self.shipped("presets/folk/continuation.safetensors"))
        let (tensor, element, value): (String, Int, Float) = dtype == .f32 ? ("weight_hh_l0", 1234, .nan) : ("head.bias", 7, -.infinity)
        set.tensors[tensor]!.values[element] = value
        let what = dtype == .f32 ? "a NaN" : "-Inf"
        try Self.withFolder { folder in
            let model = "\(folder)/model.safetensors"
            try Data(SafeTensors.encode(set, dtype: dtype)).write(to: URL(fileURLWithPath: model))
            let problem = "tensor \(tensor) has \(what) at element \(element)"
            let preset = try Self.folkPreset(in: folder, model: "model.safetensors")
            let out = "\(folder)/out.mid"
            Self.expectOneLine(
                try Self.run(["continue", try CLI.example(), "-o", out, "--preset", preset]), 65, "\(model): \(problem) (parts[0].model)")
            Self.expectOneLine(try Self.run(["bench", "--model", model, "--steps", "1", "--warmup", "0", "--cold-steps", "0"]), 65, "\(model): \(problem)")
            #expect(!FileManager.default.fileExists(atPath: out))
        }
    }

    @Test func aModelWithSubnormalWeightsPlays() throws {
        var set = try SafeTensors.read(path: Self.shipped("presets/folk/continuation.safetensors"))
        for k in 0..<64 { set.tensors["weight_hh_l1"]!.values[k * 7] = Float.leastNonzeroMagnitude * Float(k + 1) }
        try Self.withFolder { folder in
            try Data(SafeTensors.encode(set)).write(to: URL(fileURLWithPath: "\(folder)/model.safetensors"))
            let preset = try Self.folkPreset(in: folder, model: "model.safetensors")
            let run = try Self.run(["continue", try CLI.example(), "-o", "\(folder)/out.mid", "--preset", preset, "--bars", "1"])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(FileManager.default.fileExists(atPath: "\(folder)/out.mid"))
        }
    }

    // MARK: offline length

    /// A Standard MIDI File of one track: header, then `events` (delta-time bytes included).
    static func smf(ticksPerQuarter: UInt16, _ events: [UInt8]) -> [UInt8] {
        let size = UInt32(events.count)
        return Array("MThd".utf8) + [0, 0, 0, 6, 0, 0, 0, 1, UInt8(ticksPerQuarter >> 8), UInt8(ticksPerQuarter & 0xFF)]
            + Array("MTrk".utf8) + [UInt8(size >> 24), UInt8(size >> 16 & 0xFF), UInt8(size >> 8 & 0xFF), UInt8(size & 0xFF)] + events
    }

    /// 44 bytes: the slowest tempo (16.8 s a quarter) at 1 tick a quarter, one short note, then the largest
    /// delta time (2^28 - 1 quarters) before the end of the track: 142 years of silence.
    static let yearsOfSilence = smf(
        ticksPerQuarter: 1,
        [0x00, 0xFF, 0x51, 0x03, 0xFF, 0xFF, 0xFF, 0x00, 0x90, 60, 64, 0x01, 0x80, 60, 0, 0xFF, 0xFF, 0xFF, 0x7F, 0xFF, 0x2F, 0x00])

    /// One note held 16 days: 265,420,800 ticks at 96 a quarter and 120 bpm.
    static let sixteenDayNote = smf(ticksPerQuarter: 96, [0x00, 0x90, 60, 64, 0xFE, 0xC8, 0x80, 0x00, 0x80, 60, 0, 0x00, 0xFF, 0x2F, 0x00])

    @Test(arguments: ["accompany", "continue", "demo"])
    func aFileLongerThanTwoHoursIsRefusedBeforeItIsPlayed(command: String) throws {
        try Self.withFolder { folder in
            for (name, bytes, length) in [("silence.mid", Self.yearsOfSilence, "142.7 years"), ("note.mid", Self.sixteenDayNote, "16.0 days")] {
                let input = "\(folder)/\(name)"
                try Data(bytes).write(to: URL(fileURLWithPath: input))
                let out = "\(folder)/out"
                let arguments = command == "demo" ? ["demo", input, "--out", out] : [command, input, "-o", out, "--preset", "folk"]
                Self.expectOneLine(try Self.run(arguments), 65, "\(input): lasts \(length), longer than the 2-hour limit for offline runs")
                #expect(!FileManager.default.fileExists(atPath: out))
            }
        }
    }

    @Test func theLengthRuleIsInEachOfflineCommandsHelp() throws {
        for command in ["accompany", "continue", "demo"] {
            let help = try Program.sideman([command, "--help"]).stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            #expect(help.contains("A file longer than 2 hours"), "\(command)")
            #expect(help.contains("names an input file (exit 64)"), "\(command)")
        }
    }

    // MARK: outputs

    @Test func anOutputOntoTheInputIsRefusedAndTheInputKept() throws {
        try Self.withFolder { folder in
            let input = "\(folder)/take.mid"
            try FileManager.default.copyItem(atPath: try CLI.example(), toPath: input)
            let before = try Data(contentsOf: URL(fileURLWithPath: input))
            let sameFile = "is the same file as the input \(input); write the output to another file"
            Self.expectOneLine(try Self.run(["continue", input, "-o", "\(folder)/./take.mid", "--preset", "folk"]), 64, "\(folder)/./take.mid: \(sameFile)")
            Self.expectOneLine(
                try Self.run(["accompany", input, "-o", input, "--preset", "folk"]), 64,
                "\(input): is an input of this command; write the output to another file")
            let out = "\(folder)/out.mid"
            Self.expectOneLine(
                try Self.run(["continue", input, "-o", out, "--preset", "folk", "--svg", out]), 64,
                "\(out): is also the -o output; write the piano roll to another file")
            #expect(try Data(contentsOf: URL(fileURLWithPath: input)) == before)
            #expect(!FileManager.default.fileExists(atPath: out))
        }
    }

    @Test func outputsThatCannotBeCreatedExit73WithTheSystemsWords() throws {
        let tune = try CLI.example()
        try Self.withFolder { folder in
            let fifo = "\(folder)/fifo.mid"
            try Self.makeFIFO(fifo)
            Self.expectOneLine(try Self.run(["continue", tune, "-o", fifo, "--preset", "folk"]), 73, "\(fifo): cannot create: is a FIFO, not a regular file")
            Self.expectOneLine(
                try Self.run(["accompany", tune, "-o", "\(folder)/out.mid", "--preset", "folk", "--svg", "/dev/null"]), 73,
                "/dev/null: cannot create: is a character device, not a regular file")
            Self.expectOneLine(
                try Self.run(["continue", tune, "-o", "\(folder)/no/such/out.mid", "--preset", "folk"]), 73,
                "\(folder)/no/such/out.mid: cannot create: No such file or directory")
            let file = "\(folder)/file"
            try Data([1]).write(to: URL(fileURLWithPath: file))
            Self.expectOneLine(try Self.run(["demo", "--out", "\(file)/demo"]), 73, "\(file)/demo: cannot create: Not a directory")
            Self.expectOneLine(
                try Self.run(["run", "--backend", "jack", "--record", "\(file)/sessions"]), 73, "\(file)/sessions: cannot create: Not a directory")
        }
    }

    @Test func trainingRefusesAnOutputOntoItsDataBeforeTraining() throws {
        try Self.withFolder { folder in
            let data = "\(folder)/train.jsonl", valid = "\(folder)/valid.jsonl"
            try TrainCommandTests.folk(8, shift: 0).write(toFile: data, atomically: true, encoding: .utf8)
            try TrainCommandTests.folk(4, shift: 1).write(toFile: valid, atomically: true, encoding: .utf8)
            let before = try Data(contentsOf: URL(fileURLWithPath: valid))
            Self.expectOneLine(
                try Self.run(["train", "--data", data, "--valid", valid, "--out", valid] + TrainCommandTests.small), 64,
                "\(valid): is an input of this command; write the output to another file")
            Self.expectOneLine(
                try Self.run(["train", "--data", data, "--valid", valid, "--out", "\(folder)/m.safetensors", "--checkpoint", "/dev/null"]
                    + TrainCommandTests.small), 73,
                "/dev/null: cannot create: is a character device, not a regular file")
            #expect(try Data(contentsOf: URL(fileURLWithPath: valid)) == before)
        }
    }
}
