import Foundation
import Testing
import TestSupport

/// `sideman analyze` as a user runs it: hand-built data whose measures are known, the valid splits when
/// training corpora are there (TestSupport's Corpora), a tiny trained model for --generate, and bad input.
@Suite("sideman analyze")
struct AnalyzeCommandTests {
    typealias Run = TrainCommandTests

    static func json(_ outcome: Program.Outcome) throws -> [String: Any] {
        #expect(outcome.status == 0, "stderr: \(outcome.stderr)")
        return try #require(JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
    }

    @Test func choraleParallelsAreCountedOverAllVoicePairs() throws {
        try Run.inFolder { dir in
            // Step 0 -> 1 all voices up a tone: A-T and A-B are fifths (7, 19), S-T, T-B and S-B octaves.
            // Step 1 -> 2 only the soprano moves (oblique), step 2 -> 3 the bass rests.
            let chorale = "[[[72,67,60,48],[74,69,62,50],[76,69,62,50],[77,71,64,-1]]]"
            let path = dir.appendingPathComponent("satb-16th.valid.json")
            try chorale.write(to: path, atomically: true, encoding: .utf8)
            let object = try Self.json(Program.sideman(["analyze", "--data", path.path, "--json"]))
            #expect(object["data"] as? String == "jsb-satb")
            #expect(object["steps"] as? Int == 4)
            // Step 2 -> 3: A, T up a tone again (69->71, 62->64): 7 apart, another fifth; S-T 14->13, no.
            #expect(object["parallel_fifths"] as? Int == 3)
            #expect(object["parallel_octaves"] as? Int == 3)
            #expect(object["parallel_fifths_per_100_steps"] as? Double == 75)
        }
    }

    @Test func folkKeySharesAgainstLabelAndEstimate() throws {
        try Run.inFolder { dir in
            // A C major scale-tune with one F#, labelled C major; and one mislabelled as F# major.
            let notes = [60, 62, 64, 65, 67, 69, 71, 72, 67, 64, 66, 60].enumerated().map { "[\($0.offset * 4),4,\($0.element)]" }
                .joined(separator: ",")
            let tunes = [
                "{\"id\":\"a\",\"meter\":[4,4],\"key\":\"C major\",\"spq\":4,\"pickup_steps\":0,\"notes\":[\(notes)]}",
                "{\"id\":\"b\",\"meter\":[4,4],\"key\":\"F# major\",\"spq\":4,\"pickup_steps\":0,\"notes\":[\(notes)]}",
            ]
            let path = dir.appendingPathComponent("valid.jsonl")
            try (tunes.joined(separator: "\n") + "\n").write(to: path, atomically: true, encoding: .utf8)
            let object = try Self.json(Program.sideman(["analyze", "--data", path.path, "--json"]))
            #expect(object["tunes"] as? Int == 2)
            #expect(object["notes"] as? Int == 24)
            // C major holds 11 of 12 notes; F# major (F# G# A# B C# D# F) holds F#, B and F: 3 of 12.
            #expect(object["in_key_labelled"] as? Double == 14.0 / 24.0)
            #expect(object["in_key_estimated"] as? Double == 22.0 / 24.0)
            #expect(object["estimated_key_agrees_with_label"] as? Double == 0.5)
        }
    }

    @Test func validSplitsGiveReferenceRates() throws {
        guard let data = Corpora.folder() else {
            print(Corpora.skipReason)
            return
        }
        let bach = try Self.json(Program.sideman(["analyze", "--data", "\(data)/jsb/satb-16th.valid.json", "--json"]))
        #expect(bach["chorales"] as? Int == 76)
        // Bach avoids them but not absolutely: a handful in 18,408 steps, far below one per 100 steps.
        let fifths = try #require(bach["parallel_fifths_per_100_steps"] as? Double)
        #expect(fifths > 0 && fifths < 1)
        let folk = try Self.json(Program.sideman(["analyze", "--data", "\(data)/folk/valid.jsonl", "--json"]))
        #expect(folk["tunes"] as? Int == 624)
        #expect((folk["in_key_labelled"] as? Double ?? 0) > 0.9)
        let band = try Self.json(Program.sideman(["analyze", "--data", "\(data)/band/valid.jsonl", "--json"]))
        let drums = try #require(band["data_drums"] as? [String: Any])
        let same = try #require(drums["same_as_previous_bar"] as? Double)
        let earlier = try #require(drums["same_as_an_earlier_bar"] as? Double)
        #expect(same > 0 && same <= earlier && earlier <= 1)
        #expect((drums["compared_bars"] as? Int ?? 0) > 1000)
    }

    @Test func generatesFromATrainedMelodyModelReproducibly() throws {
        try Run.inFolder { dir in
            // Scale tunes of 32 quarter notes (128 steps): long enough for 2 bars of prime and 4 sampled.
            let tunes = (0..<6).map { i in
                let notes = (0..<32).map { k in "[\(k * 4),4,\(60 + [0, 2, 4, 5, 7, 9, 11, 12][(k + i) % 8])]" }
                return "{\"id\":\"t\(i)\",\"meter\":[4,4],\"key\":\"C major\",\"spq\":4,\"pickup_steps\":0,\"notes\":[\(notes.joined(separator: ","))]}"
            }.joined(separator: "\n") + "\n"
            let data = dir.appendingPathComponent("valid.jsonl")
            try tunes.write(to: data, atomically: true, encoding: .utf8)
            let model = dir.appendingPathComponent("m.safetensors").path
            let trained = try Program.sideman(["train", "--family", "lookback", "--data", data.path, "--valid", data.path, "--out", model] + Run.small)
            try #require(trained.status == 0, "\(trained.stderr)")
            let arguments = ["analyze", "--model", model, "--data", data.path, "--generate", "--pieces", "4", "--seed", "5", "--json"]
            let first = try Self.json(Program.sideman(arguments))
            #expect(first["tunes"] as? Int == 4)
            // The tunes' own next 4 bars: 16 quarter notes each, all in C major.
            #expect(first["data_notes"] as? Int == 64)
            #expect(first["in_key_data_vs_label"] as? Double == 1)
            let generated = try #require(first["in_key_generated_vs_label"] as? Double)
            #expect(generated >= 0 && generated <= 1)
            #expect((first["generated_notes"] as? Int ?? 0) > 0)
            // Same seed, same numbers.
            let again = try Program.sideman(arguments)
            #expect(again.stdout == (try Program.sideman(arguments)).stdout)
            // A melody model cannot be measured against chorales.
            let satb = dir.appendingPathComponent("satb-16th.json")
            try "[[[72,67,60,48]]]".write(to: satb, atomically: true, encoding: .utf8)
            let wrong = try Program.sideman(["analyze", "--model", model, "--data", satb.path, "--generate"])
            #expect(wrong.status == 65)
            #expect(wrong.stderr.hasPrefix("sideman: \(satb.path): is jsb-satb data;"))
            #expect(wrong.stderr.split(separator: "\n").count == 1)
        }
    }

    /// A tiny ATB model trained under the soprano: analyze feeds it each chorale's soprano, counts the
    /// parallels of what it sings beside Bach's, and a seed repeats it.
    @Test func generatesATBUnderTheSopranoBesideBach() throws {
        try Run.inFolder { dir in
            // Bach-like steps with parallel fifths and octaves in the data (all voices move up together).
            let steps = (0..<16).map { k in let d = (k / 2) % 2 == 0 ? 0 : 2; return "[\(72 + d),\(67 + d),\(60 + d),\(48 + d)]" }
            let satb = dir.appendingPathComponent("satb-16th.valid.json")
            try "[[\(steps.joined(separator: ","))],[\(steps.joined(separator: ","))]]".write(to: satb, atomically: true, encoding: .utf8)
            let model = dir.appendingPathComponent("atb.safetensors").path
            let train = try Program.sideman(["train", "--family", "basic", "--format", "jsb-atb", "--data", satb.path, "--valid", satb.path,
                                         "--out", model, "--head", "pitch_chain", "--hidden", "16", "--layers", "1", "--batch", "4",
                                         "--seq-len", "16", "--epochs", "60", "--lr", "0.01", "--patience", "60"])
            #expect(train.status == 0, "\(train.stderr)")
            let args = ["analyze", "--model", model, "--data", satb.path, "--generate", "--seed", "4", "--json"]
            let first = try Self.json(Program.sideman(args))
            #expect(first["chorales"] as? Int == 2 && first["steps"] as? Int == 32)
            // The data moves all four voices together: its own parallels are there to compare against.
            let bachFifths = try #require(first["bach_parallel_fifths_per_100_steps"] as? Double)
            let bachOctaves = try #require(first["bach_parallel_octaves_per_100_steps"] as? Double)
            #expect(bachFifths > 0 && bachOctaves > 0)
            #expect(first["generated_parallel_fifths_per_100_steps"] is Double)
            #expect((first["generated_voices_per_step"] as? Double ?? -1) >= 0)
            let again = try Self.json(Program.sideman(args))
            #expect(again["generated_parallel_octaves_per_100_steps"] as? Double == first["generated_parallel_octaves_per_100_steps"] as? Double)
            #expect(again["generated_in_key"] as? Double == first["generated_in_key"] as? Double)
            // By default a chord that moves in parallel is drawn again, as the chorale preset does; keeping
            // every first draw writes the parallels this data taught.
            let firstDraws = try Self.json(Program.sideman(args + ["--voice-leading-draws", "1"]))
            #expect(first["voice_leading_draws"] as? Int == 8 && firstDraws["voice_leading_draws"] as? Int == 1)
            func parallels(_ o: [String: Any]) -> Double {
                (o["generated_parallel_fifths_per_100_steps"] as? Double ?? 0) + (o["generated_parallel_octaves_per_100_steps"] as? Double ?? 0)
            }
            #expect(parallels(firstDraws) > 0)
            #expect(parallels(first) < parallels(firstDraws), "redrawn \(parallels(first)), first draws \(parallels(firstDraws))")
            let none = try Program.sideman(args + ["--voice-leading-draws", "0"])
            #expect(none.status == 64 && none.stderr.contains("--voice-leading-draws"), "\(none.stderr)")
            // A melody model cannot be fed a soprano: a clear error, not a run.
            let folk = dir.appendingPathComponent("tunes.jsonl")
            try TrainCommandTests.folk(3, shift: 0).write(to: folk, atomically: true, encoding: .utf8)
            let melody = dir.appendingPathComponent("m.safetensors").path
            _ = try Program.sideman(["train", "--data", folk.path, "--valid", folk.path, "--out", melody] + Run.small)
            let wrong = try Program.sideman(["analyze", "--model", melody, "--data", satb.path, "--generate"])
            #expect(wrong.status == 65 && wrong.stderr.split(separator: "\n").count == 1, "\(wrong.stderr)")
        }
    }

    @Test func badInputIsOneLineAndItsExitCode() throws {
        try Run.inFolder { dir in
            let missing = dir.appendingPathComponent("none.jsonl").path
            let a = try Program.sideman(["analyze", "--data", missing])
            #expect(a.status == 66)
            #expect(a.stderr == "sideman: \(missing): no such file\n")
            let corrupt = dir.appendingPathComponent("satb-16th.valid.json")
            try "[[[72,67,60]]]".write(to: corrupt, atomically: true, encoding: .utf8)
            let b = try Program.sideman(["analyze", "--data", corrupt.path])
            #expect(b.status == 65)
            #expect(b.stderr.hasPrefix("sideman: \(corrupt.path): chorale 0 step 0 has 3 voices"))
            #expect(b.stderr.split(separator: "\n").count == 1)
            let folk = dir.appendingPathComponent("f.jsonl")
            try "{\"id\":\"x\",\"spq\":4,\"notes\":[[0,4,60]]}\n".write(to: folk, atomically: true, encoding: .utf8)
            let model = dir.appendingPathComponent("m.safetensors")
            try Data([7, 7, 7]).write(to: model)
            let c = try Program.sideman(["analyze", "--model", model.path, "--data", folk.path, "--generate"])
            #expect(c.status == 65)
            #expect(c.stderr.hasPrefix("sideman: \(model.path): "))
            let d = try Program.sideman(["analyze", "--model", dir.appendingPathComponent("no.safetensors").path, "--data", folk.path, "--generate"])
            #expect(d.status == 66)
            let e = try Program.sideman(["analyze", "--data", folk.path, "--generate"])
            #expect(e.status == 64)
            let roll = dir.appendingPathComponent("pianoroll-quarter.json")
            try "[[[60,64,67]]]".write(to: roll, atomically: true, encoding: .utf8)
            let f = try Program.sideman(["analyze", "--data", roll.path])
            #expect(f.status == 65)
            #expect(f.stderr.contains("not jsb-pianoroll"))
        }
    }
}
