import Foundation
import MIDI
import Music
import Testing
import TestSupport

/// `sideman train-vae`, `vary` and `interpolate` as a user runs them, on a tiny folk corpus.
@Suite("sideman train-vae, vary and interpolate")
struct VariationCommandTests {
    static let small = ["--encoder", "16", "--latent", "4", "--conductor", "16", "--decoder", "16", "--decoder-layers", "1",
                        "--batch", "8", "--epochs", "2"]

    /// A one-track MIDI file: quarter notes on `pitches` at 120 bpm, 480 ticks a quarter, channel 1.
    static func melodyFile(_ pitches: [UInt8], channel: MIDIChannel = 0) -> [UInt8] {
        var events = [SMFEvent(tick: 0, .tempo(microsecondsPerQuarter: 500_000))]
        for (k, p) in pitches.enumerated() {
            events.append(SMFEvent(tick: k * 480, .noteOn(channel: channel, note: p, velocity: 80)))
            events.append(SMFEvent(tick: k * 480 + 400, .noteOff(channel: channel, note: p, velocity: 0)))
        }
        return MIDIFileWriter.write(MIDIFile(format: .singleTrack, division: .ticksPerQuarter(480), tracks: [MIDITrack(events: events)]))
    }

    static func notes(_ path: String) throws -> [NoteSpan] {
        try MIDIFileReader.read(path: path).file.tracks.flatMap { $0.noteSpans() }
    }

    @Test func trainsThenVariesAndInterpolates() throws {
        try TrainCommandTests.inFolder { dir in
            let train = dir.appendingPathComponent("train.jsonl"), valid = dir.appendingPathComponent("valid.jsonl")
            try TrainCommandTests.folk(24, shift: 0).write(to: train, atomically: true, encoding: .utf8)
            try TrainCommandTests.folk(4, shift: 1).write(to: valid, atomically: true, encoding: .utf8)
            let model = dir.appendingPathComponent("vae.safetensors").path
            let run = try Program.sideman(["train-vae", "--data", train.path, "--valid", valid.path, "--out", model] + Self.small)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stderr.contains("epoch 2:") && run.stderr.contains("teacher-forced"), "\(run.stderr)")
            #expect(FileManager.default.fileExists(atPath: model + ".ckpt"))
            // Resuming for one more epoch continues the history.
            let more = try Program.sideman(["train-vae", "--data", train.path, "--valid", valid.path, "--out", model,
                                             "--resume", model + ".ckpt"] + Self.small.dropLast(2) + ["--epochs", "3"])
            #expect(more.status == 0 && more.stderr.contains("epoch 3:"), "\(more.stderr)")

            // eval reports what train-vae does, on any data of the model's kind.
            let eval = try Program.sideman(["eval", "--model", model, "--data", valid.path, "--json"])
            #expect(eval.status == 0, "\(eval.stderr)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
            #expect((object["teacher_forced_accuracy"] as? Double).map { (0...1).contains($0) } == true)
            #expect((object["kl_per_bar"] as? Double).map { $0 >= 0 } == true)
            #expect(object["phrases"] as? Int == 4 * 3)

            let tune = dir.appendingPathComponent("tune.mid").path
            try Data(Self.melodyFile([60, 62, 64, 65, 67, 65, 64, 62, 60, 64, 67, 72])).write(to: URL(fileURLWithPath: tune))
            let out = dir.appendingPathComponent("variation.mid").path
            let vary = try Program.sideman(["vary", tune, "-o", out, "--model", model, "--amount", "0.5", "--seed", "3"])
            #expect(vary.status == 0, "\(vary.stderr)")
            // Twelve quarter notes are two 2-bar phrases: the variation lasts as long, on the tune's channel.
            let varied = try Self.notes(out)
            #expect(!varied.isEmpty && varied.allSatisfy { $0.channel == 0 && $0.end <= 2 * 2 * 4 * 480 })
            // The same seed writes the same file; another seed another.
            let again = dir.appendingPathComponent("again.mid").path
            _ = try Program.sideman(["vary", tune, "-o", again, "--model", model, "--amount", "0.5", "--seed", "3"])
            #expect(FileManager.default.contents(atPath: out) == FileManager.default.contents(atPath: again))

            let other = dir.appendingPathComponent("other.mid").path
            try Data(Self.melodyFile([72, 71, 69, 67, 65, 64, 62, 60])).write(to: URL(fileURLWithPath: other))
            let morph = dir.appendingPathComponent("morph.mid").path
            let interpolate = try Program.sideman(["interpolate", tune, other, "-o", morph, "--model", model, "--steps", "4"])
            #expect(interpolate.status == 0, "\(interpolate.stderr)")
            #expect(try Self.notes(morph).allSatisfy { $0.end <= 4 * 2 * 4 * 480 })
        }
    }

    @Test func badModelsAndFilesAreOneLineErrors() throws {
        try TrainCommandTests.inFolder { dir in
            let tune = dir.appendingPathComponent("tune.mid").path
            try Data(Self.melodyFile([60, 62])).write(to: URL(fileURLWithPath: tune))
            let missing = try Program.sideman(["vary", tune, "-o", dir.appendingPathComponent("o.mid").path, "--model", "/nonexistent.safetensors"])
            #expect(missing.status == 66 && missing.stderrLines.count == 1, "\(missing.stderr)")
            let garbage = dir.appendingPathComponent("garbage.safetensors").path
            try Data([1, 2, 3]).write(to: URL(fileURLWithPath: garbage))
            let corrupt = try Program.sideman(["vary", tune, "-o", dir.appendingPathComponent("o.mid").path, "--model", garbage])
            #expect(corrupt.status == 65 && corrupt.stderr.hasPrefix("sideman: \(garbage):") && corrupt.stderrLines.count == 1, "\(corrupt.stderr)")
            let notMIDI = dir.appendingPathComponent("x.mid").path
            try Data("not midi".utf8).write(to: URL(fileURLWithPath: notMIDI))
            let train = dir.appendingPathComponent("train.jsonl")
            try TrainCommandTests.folk(8, shift: 0).write(to: train, atomically: true, encoding: .utf8)
            let model = dir.appendingPathComponent("vae.safetensors").path
            _ = try Program.sideman(["train-vae", "--data", train.path, "--valid", train.path, "--out", model] + Self.small.dropLast(2) + ["--epochs", "1"])
            let bad = try Program.sideman(["vary", notMIDI, "-o", dir.appendingPathComponent("o.mid").path, "--model", model])
            #expect(bad.status == 65 && bad.stderr.hasPrefix("sideman: \(notMIDI):") && bad.stderrLines.count == 1, "\(bad.stderr)")
            // A drum groove model needs drums; a melody model reads the melody, so a drums-only file has none.
            try Data(Self.melodyFile([36, 38], channel: 9)).write(to: URL(fileURLWithPath: tune))
            let noMelody = try Program.sideman(["vary", tune, "-o", dir.appendingPathComponent("o.mid").path, "--model", model])
            #expect(noMelody.status == 65 && noMelody.stderr.contains("no notes off channel 10"), "\(noMelody.stderr)")
        }
    }
}
