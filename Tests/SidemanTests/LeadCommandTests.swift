import Foundation
import MIDI
import Music
import Testing
import TestSupport

/// `sideman train-midinet` and `lead` as a user runs them, on a tiny folk corpus.
@Suite("sideman train-midinet and lead")
struct LeadCommandTests {
    static let small = ["--noise", "8", "--generator-hidden", "16", "--generator-channels", "8", "--conditioner-channels", "4",
                        "--discriminator-hidden", "16", "--batch", "8", "--epochs", "2", "--lowest-pitch", "55", "--pitches", "24"]

    @Test func trainsThenLeadsOverChords() throws {
        try TrainCommandTests.inFolder { dir in
            let train = dir.appendingPathComponent("train.jsonl"), valid = dir.appendingPathComponent("valid.jsonl")
            try TrainCommandTests.folk(24, shift: 0).write(to: train, atomically: true, encoding: .utf8)
            try TrainCommandTests.folk(4, shift: 1).write(to: valid, atomically: true, encoding: .utf8)
            let model = dir.appendingPathComponent("lead.safetensors").path
            let run = try Program.sideman(["train-midinet", "--data", train.path, "--valid", valid.path, "--out", model] + Self.small)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stderr.contains("epoch 2:") && run.stderr.contains("distinct of 100 for one chord"), "\(run.stderr)")
            // Resuming for one more epoch carries on from the checkpoint.
            let more = try Program.sideman(["train-midinet", "--data", train.path, "--valid", valid.path, "--out", model,
                                            "--resume", model + ".ckpt"] + Self.small.map { $0 == "2" ? "3" : $0 })
            #expect(more.status == 0 && more.stderr.contains("epoch 3:") && !more.stderr.contains("epoch 1:"), "\(more.stderr)")
            let other = Self.small.map { $0 == "16" ? "32" : $0 }
            let mismatch = try Program.sideman(["train-midinet", "--data", train.path, "--valid", valid.path, "--out", model,
                                                "--resume", model + ".ckpt"] + other)
            #expect(mismatch.status == 65 && mismatch.stderr.contains("another configuration") && mismatch.stderrLines.count == 1, "\(mismatch.stderr)")

            let out = dir.appendingPathComponent("lead.mid").path
            let lead = try Program.sideman(["lead", "--model", model, "--chords", "C Am F G", "--bars", "8", "-o", out, "--json"])
            #expect(lead.status == 0, "\(lead.stderr)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(lead.stdout.utf8)) as? [String: Any])
            #expect(object["bars"] as? Int == 8)
            #expect((object["notes_in_chord"] as? Double).map { (0...1).contains($0) } == true)
            // The melody and each bar's triad, 8 bars at 120 bpm.
            let tracks = try MIDIFileReader.read(path: out).file.tracks
            let chords = try #require(tracks.first { $0.name == "chords" }).noteSpans()
            #expect(chords.count == 8 * 3 && chords.allSatisfy { $0.end <= 8 * 4 * 480 })
            let melody = try #require(tracks.first { $0.name == "lead" }).noteSpans()
            #expect(melody.allSatisfy { (55..<79).contains($0.pitch) && $0.end <= 8 * 4 * 480 })

            // bench and doctor know a MidiNet.
            let bench = try Program.sideman(["bench", "--model", model, "--steps", "2000", "--json"])
            #expect(bench.status == 0 && bench.stdout.contains("\"family\": \"midinet\""), "\(bench.stderr)")
        }
    }

    @Test func badChordsModelsAndDataAreOneLineErrors() throws {
        try TrainCommandTests.inFolder { dir in
            let train = dir.appendingPathComponent("train.jsonl")
            try TrainCommandTests.folk(12, shift: 0).write(to: train, atomically: true, encoding: .utf8)
            let model = dir.appendingPathComponent("lead.safetensors").path
            let run = try Program.sideman(["train-midinet", "--data", train.path, "--valid", train.path, "--out", model] + Self.small)
            #expect(run.status == 0, "\(run.stderr)")
            let chord = try Program.sideman(["lead", "--model", model, "--chords", "C H7 F"])
            #expect(chord.status == 64 && chord.stderr.contains("H7") && chord.stderrLines.count == 1, "\(chord.stderr)")
            let missing = try Program.sideman(["lead", "--model", "/nonexistent.safetensors", "--chords", "C"])
            #expect(missing.status == 66 && missing.stderrLines.count == 1, "\(missing.stderr)")
            let garbage = dir.appendingPathComponent("garbage.safetensors").path
            try Data([1, 2, 3]).write(to: URL(fileURLWithPath: garbage))
            let corrupt = try Program.sideman(["lead", "--model", garbage, "--chords", "C"])
            #expect(corrupt.status == 65 && corrupt.stderr.hasPrefix("sideman: \(garbage):") && corrupt.stderrLines.count == 1, "\(corrupt.stderr)")
            // Band songs hold no melodies to learn from.
            let band = dir.appendingPathComponent("band.jsonl")
            try Data("{\"file\": \"x.mid\", \"tracks\": []}\n".utf8).write(to: band)
            let wrong = try Program.sideman(["train-midinet", "--data", band.path, "--valid", band.path, "--out", dir.appendingPathComponent("x.safetensors").path])
            #expect(wrong.status == 65 && wrong.stderrLines.count == 1, "\(wrong.stderr)")
            // Too few bars for a batch.
            let few = dir.appendingPathComponent("few.jsonl")
            try TrainCommandTests.folk(1, shift: 0).write(to: few, atomically: true, encoding: .utf8)
            let tooFew = try Program.sideman(["train-midinet", "--data", few.path, "--valid", few.path, "--out", dir.appendingPathComponent("y.safetensors").path, "--batch", "64"])
            #expect(tooFew.status == 65 && tooFew.stderr.contains("a batch needs 64") && tooFew.stderrLines.count == 1, "\(tooFew.stderr)")
        }
    }
}
