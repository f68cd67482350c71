import Foundation
import MIDI
import Neural
import Testing
import TestSupport

/// `sideman train` and `sideman eval` as a user runs them: tiny corpora written to a temporary folder.
@Suite("sideman train and eval")
struct TrainCommandTests {
    /// A fresh folder for one test, removed afterwards.
    static func inFolder(_ body: (URL) throws -> Void) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sideman-train-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try body(folder)
    }

    /// Folk tunes in the data README's format: scales up and down in quarter notes.
    static func folk(_ count: Int, shift: Int) -> String {
        (0..<count).map { i in
            let notes = (0..<16).map { k in "[\(k * 4),4,\(60 + (i + shift) % 5 + [0, 2, 4, 5, 7, 5, 4, 2][k % 8])]" }
            return "{\"id\":\"t\(i)\",\"title\":\"\",\"meter\":[4,4],\"key\":\"C major\",\"spq\":4,\"pickup_steps\":0,\"notes\":[\(notes.joined(separator: ","))]}"
        }.joined(separator: "\n") + "\n"
    }

    static let small = ["--hidden", "16", "--layers", "1", "--batch", "4", "--seq-len", "16", "--epochs", "2"]

    @Test func trainsOnFolkThenEvaluatesAsJSON() throws {
        try Self.inFolder { dir in
            let train = dir.appendingPathComponent("train.jsonl"), valid = dir.appendingPathComponent("valid.jsonl")
            try Self.folk(12, shift: 0).write(to: train, atomically: true, encoding: .utf8)
            try Self.folk(3, shift: 1).write(to: valid, atomically: true, encoding: .utf8)
            let model = dir.appendingPathComponent("m.safetensors").path
            let run = try Program.sideman(["train", "--family", "lookback", "--data", train.path, "--valid", valid.path, "--out", model] + Self.small)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(FileManager.default.fileExists(atPath: model))
            #expect(FileManager.default.fileExists(atPath: model + ".ckpt"))
            // The first line says how many threads and why: a model this small has work for one.
            let cores = ProcessInfo.processInfo.activeProcessorCount
            #expect(run.stderr.contains(cores == 1 ? "1 thread (every core" : "1 thread (of \(cores) cores"), "\(run.stderr)")
            #expect(run.stderr.contains("sample-steps/s"), "\(run.stderr)")
            // ... and the recurrent products' precision: bf16 where the CPU has AVX-512 BF16 (auto).
            #expect(run.stderr.contains("recurrent products: \(RecurrentPrecision.fastest.rawValue)"), "\(run.stderr)")
            // The loss curve beside the model: a train and a valid line, a point per epoch, the best ringed.
            let curve = try SVGDocument.read(model + ".loss.svg")
            #expect(curve.withClass("series").map { $0["points"]?.split(separator: " ").count } == [2, 2])
            #expect(curve.withClass("highlight").count == 1)
            #expect(curve.withClass("legend").count == 2)
            let eval = try Program.sideman(["eval", "--model", model, "--data", valid.path, "--json"])
            #expect(eval.status == 0, "\(eval.stderr)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
            let nll = try #require(object["nll_per_step"] as? Double)
            #expect(nll > 0 && nll < log(130.0))
            #expect(object["pieces"] as? Int == 3)
            // 16 quarter notes → 64 steps + the closing note-off = 65 events, 64 predicted per tune.
            #expect(object["steps"] as? Int == 3 * 64)
            #expect(object["frame_nll"] == nil)
            // Resuming the finished run's checkpoint for one more epoch works.
            let more = try Program.sideman(["train", "--family", "lookback", "--data", train.path, "--valid", valid.path, "--out", model,
                                         "--resume", model + ".ckpt"] + Self.small.dropLast(2) + ["--epochs", "3"])
            #expect(more.status == 0, "\(more.stderr)")
            #expect(more.stderr.contains("epoch 3:"))
            // bf16 is refused, in one line, where the CPU lacks it; fp32 is there on every CPU.
            let alternative: RecurrentPrecision = RecurrentPrecision.fastest == .bf16 ? .fp32 : .bf16
            let chosen = try Program.sideman(["train", "--family", "lookback", "--data", train.path, "--valid", valid.path, "--out",
                                              dir.appendingPathComponent("precision.safetensors").path, "--recurrent-precision",
                                              alternative.rawValue] + Self.small.dropLast(2) + ["--epochs", "1"])
            if alternative == .fp32 {
                #expect(chosen.status == 0 && chosen.stderr.contains("recurrent products: fp32"), "\(chosen.stderr)")
            } else {
                #expect(chosen.status == 64 && chosen.stderr.contains("needs a CPU with AVX-512 BF16"), "\(chosen.stderr)")
            }
            // The resumed run's curve holds the whole history, not only its own epoch.
            let resumed = try SVGDocument.read(model + ".loss.svg")
            #expect(resumed.withClass("series").map { $0["points"]?.split(separator: " ").count } == [3, 3])
            // Starting from the trained weights, a new run's first epoch is already better than a fresh one's.
            func firstValid(_ r: Program.Outcome) -> Double? {
                r.stderr.split(separator: "\n").first { $0.hasPrefix("epoch 1:") }
                    .flatMap { $0.components(separatedBy: "valid NLL ").last?.split(separator: " ").first }.flatMap { Double($0) }
            }
            let fresh = try Program.sideman(["train", "--family", "lookback", "--data", train.path, "--valid", valid.path,
                                          "--out", dir.appendingPathComponent("fresh.safetensors").path] + Self.small)
            let continued = try Program.sideman(["train", "--family", "lookback", "--data", train.path, "--valid", valid.path,
                                              "--out", dir.appendingPathComponent("more.safetensors").path, "--init-from", model] + Self.small)
            #expect(continued.status == 0, "\(continued.stderr)")
            let a = try #require(firstValid(fresh)), b = try #require(firstValid(continued))
            #expect(b < a, "continued \(b), fresh \(a)")
            // Weights of another shape cannot seed the run.
            let other = try Program.sideman(["train", "--family", "basic", "--data", train.path, "--valid", valid.path,
                                          "--out", dir.appendingPathComponent("x.safetensors").path, "--init-from", model] + Self.small)
            #expect(other.status == 65 && other.stderr.hasPrefix("sideman: \(model): has another configuration"), "\(other.stderr)")
        }
    }

    /// A transformer trained with dropout on its input map writes it in its metadata; a run may go on from
    /// its weights attending further back (ALiBi: the weights serve any window), not at another width.
    @Test func aTransformerGoesOnFromItsWeightsWithAWiderWindow() throws {
        try Self.inFolder { dir in
            let train = dir.appendingPathComponent("train.jsonl"), valid = dir.appendingPathComponent("valid.jsonl")
            try Self.folk(8, shift: 0).write(to: train, atomically: true, encoding: .utf8)
            try Self.folk(2, shift: 1).write(to: valid, atomically: true, encoding: .utf8)
            let shape = ["--family", "transformer", "--data", train.path, "--valid", valid.path, "--layers", "1", "--heads", "2",
                         "--batch", "4", "--seq-len", "16", "--epochs", "1"]
            let model = dir.appendingPathComponent("t.safetensors").path
            let run = try Program.sideman(["train", "--out", model, "--hidden", "16", "--window", "8", "--input-dropout", "0.2"] + shape)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(try SafeTensors.read(path: model).metadata["input_dropout"] == "0.2")
            let wider = dir.appendingPathComponent("wider.safetensors").path
            let further = try Program.sideman(["train", "--out", wider, "--hidden", "16", "--window", "32", "--init-from", model] + shape)
            #expect(further.status == 0, "\(further.stderr)")
            #expect(try SafeTensors.read(path: wider).metadata["window"] == "32")
            let wide = try Program.sideman(["train", "--out", wider, "--hidden", "24", "--window", "32", "--init-from", model] + shape)
            #expect(wide.status == 65 && wide.stderr.hasPrefix("sideman: \(model): has another configuration"), "\(wide.stderr)")
            let lstm = try Program.sideman(["train", "--family", "lookback", "--data", train.path, "--valid", valid.path, "--out", wider,
                                            "--input-dropout", "0.2"] + Self.small)
            #expect(lstm.status == 64 && lstm.stderr.contains("--input-dropout is the transformer's"), "\(lstm.stderr)")
        }
    }

    /// Both chain heads train, evaluate and (nade_chain) bench from the file `sideman train` writes.
    @Test(arguments: [["--head", "pitch_chain"], ["--head", "nade_chain", "--chain-hidden", "8"]])
    func pianoRollEvaluationReportsFrameNLL(_ head: [String]) throws {
        try Self.inFolder { dir in
            let roll = dir.appendingPathComponent("pianoroll-quarter.train.json")
            try "[[[60,64,67],[62,65,69],[],[60,64,67],[59,62,67]],[[57,60,64],[57,60,64],[55,59,62]]]".write(to: roll, atomically: true, encoding: .utf8)
            let model = dir.appendingPathComponent("p.safetensors").path
            let run = try Program.sideman(["train", "--data", roll.path, "--valid", roll.path, "--out", model] + head + Self.small)
            #expect(run.status == 0, "\(run.stderr)")
            let eval = try Program.sideman(["eval", "--model", model, "--data", roll.path, "--json"])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
            #expect(object["steps"] as? Int == 8)
            let frame = try #require(object["frame_nll"] as? Double)
            #expect(frame > 0 && frame == object["nll_per_step"] as? Double)
            #expect(object["head"] as? String == head[1])
            let bench = try Program.sideman(["bench", "--model", model, "--steps", "50", "--warmup", "20", "--cold-steps", "2",
                                          "--precision", "int8", "--json"])
            #expect(bench.status == 0, "\(bench.stderr)")
            let timing = try #require(try JSONSerialization.jsonObject(with: Data(bench.stdout.utf8)) as? [String: Any])
            #expect((timing["median_us"] as? Double ?? 0) > 0)
            #expect((timing["vs_fp32_mean_kl_nats"] as? Double ?? -1) >= 0)
            // The step's limits: the int8 weights it streams (a byte per weight, rows padded to 64, a scale and a
            // sum per row) and the time to read and to multiply them here.
            #expect((timing["weight_bytes"] as? Int ?? 0) > 0 && (timing["multiply_adds"] as? Int ?? 0) > 0, "\(timing)")
            #expect((timing["limit_us"] as? Double ?? 0) > 0 && (timing["median_over_limit"] as? Double ?? 0) > 0, "\(timing)")
            // prefetch() timed after each walk: it rehearses whole steps, so it takes at least the fastest warm one.
            #expect((timing["prefetch_median_us"] as? Double ?? 0) >= (timing["min_us"] as? Double ?? 1), "\(timing)")
            // The memory-free loop timed after each step, for reading the step's p99 against the machine's own.
            #expect((timing["fixed_loop_median_us"] as? Double ?? 0) > 0, "\(timing)")
            #expect((timing["fixed_loop_p99_over_median"] as? Double ?? 0) >= 1 && (timing["p99_over_median"] as? Double ?? 0) >= 1, "\(timing)")
            // How often the core was taken away in the second after the steps, and the share of steps that meets
            // one: the rate times the step's median (every gap counted is over 2 µs, so a median under it is wrong).
            let rate = try #require(timing["interruptions_per_s"] as? Double ?? (timing["interruptions_per_s"] as? Int).map(Double.init), "\(timing)")
            let share = try #require(timing["steps_interrupted_percent"] as? Double ?? (timing["steps_interrupted_percent"] as? Int).map(Double.init))
            let median = try #require(timing["median_us"] as? Double)
            #expect(rate >= 0 && abs(share - 100 * rate * median * 1e-6) <= 0.02, "\(timing)")
            if rate > 0 { #expect((timing["interruption_median_us"] as? Double ?? 0) >= 2, "\(timing)") }
            // eval --precision streams the pieces at int8 beside fp32: fp32's streamed NLL is the trainer's.
            let streamed = try Program.sideman(["eval", "--model", model, "--data", roll.path, "--precision", "int8", "--json"])
            let costs = try #require(try JSONSerialization.jsonObject(with: Data(streamed.stdout.utf8)) as? [String: Any], "\(streamed.stderr)")
            #expect(abs((costs["streamed_fp32_nll"] as? Double ?? 0) - frame) < 1e-4 * max(1, frame), "\(costs)")
            #expect(costs["precision"] as? String == "int8" && costs["precision_cost_nats"] is Double, "\(costs)")
        }
    }

    /// `--average` and `--weights-dtype f16`: the same run stored at half precision is half the file, loads
    /// everywhere the f32 file does, and evaluates to nearly the same NLL; a decay outside (0, 1) is refused.
    @Test func anAveragedModelStoredAtHalfPrecision() throws {
        try Self.inFolder { dir in
            let roll = dir.appendingPathComponent("pianoroll-quarter.train.json")
            try "[[[60,64,67],[62,65,69],[],[60,64,67],[59,62,67]],[[57,60,64],[57,60,64],[55,59,62]]]".write(to: roll, atomically: true, encoding: .utf8)
            let conv = ["--family", "conv", "--residual", "8", "--stacks", "1", "--layers-per-stack", "3", "--average", "0.9",
                        "--batch", "2", "--seq-len", "8", "--epochs", "3"]
            var nll: [Double] = [], size: [Int] = []
            for dtype in ["f32", "f16"] {
                let model = dir.appendingPathComponent("\(dtype).safetensors").path
                let run = try Program.sideman(["train", "--data", roll.path, "--valid", roll.path, "--out", model, "--weights-dtype", dtype] + conv)
                #expect(run.status == 0, "\(run.stderr)")
                let header = String(decoding: try Data(contentsOf: URL(fileURLWithPath: model)).prefix(400), as: UTF8.self)
                #expect(header.contains("\"dtype\":\"\(dtype.uppercased())\""), "\(header)")
                size.append(try FileManager.default.attributesOfItem(atPath: model)[.size] as? Int ?? 0)
                let eval = try Program.sideman(["eval", "--model", model, "--data", roll.path, "--json"])
                let object = try #require(try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
                nll.append(try #require(object["frame_nll"] as? Double))
            }
            #expect(abs(nll[0] - nll[1]) < 0.01, "\(nll)")
            #expect(Double(size[1]) < 0.6 * Double(size[0]), "\(size)")
            let bad = try Program.sideman(["train", "--data", roll.path, "--valid", roll.path,
                                        "--out", dir.appendingPathComponent("x.safetensors").path, "--average", "1"])
            #expect(bad.status == 64 && bad.stderr.contains("--average"), "\(bad.stderr)")
        }
    }

    /// A folder of the user's .mid files (the example in examples/) trains as melody lines.
    @Test func trainsOnAFolderOfMIDIFiles() throws {
        var root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) { root.deleteLastPathComponent() }
        let example = root.appendingPathComponent("examples/twinkle.mid")
        try #require(FileManager.default.fileExists(atPath: example.path))
        try Self.inFolder { dir in
            let songs = dir.appendingPathComponent("songs")
            try FileManager.default.createDirectory(at: songs, withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: example, to: songs.appendingPathComponent("twinkle.mid"))
            let model = dir.appendingPathComponent("m.safetensors").path
            let run = try Program.sideman(["train", "--data", songs.path, "--valid", songs.path, "--out", model] + Self.small)
            #expect(run.status == 0, "\(run.stderr)")
            let eval = try Program.sideman(["eval", "--model", model, "--data", songs.path, "--json"])
            #expect(eval.status == 0, "\(eval.stderr)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
            #expect((object["pieces"] as? Int ?? 0) >= 1)
            #expect((object["steps"] as? Int ?? 0) > 0)
        }
    }

    /// Chorales in the SATB format: the ATB model learns under the soprano (its condition), and the
    /// soprano lines join melody data as a second --data file.
    @Test func trainsATBUnderTheSopranoAndMelodiesWithSopranoLines() throws {
        try Self.inFolder { dir in
            let satb = dir.appendingPathComponent("satb-16th.train.json")
            let chorale = (0..<12).map { k in "[\(67 + k % 3),\(64),\(60 - k % 2),\(48)]" }.joined(separator: ",")
            try "[[\(chorale)],[\(chorale)]]".write(to: satb, atomically: true, encoding: .utf8)
            let model = dir.appendingPathComponent("atb.safetensors").path
            let run = try Program.sideman(["train", "--family", "conv", "--residual", "8", "--format", "jsb-atb", "--data", satb.path,
                                        "--valid", satb.path, "--out", model, "--head", "pitch_chain"] + Self.small)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stderr.contains("conditioned on the soprano"))
            // eval reads the same SATB file as ATB under the soprano, from the model's metadata.
            let eval = try Program.sideman(["eval", "--model", model, "--data", satb.path, "--json"])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
            #expect(object["steps"] as? Int == 24)

            let folk = dir.appendingPathComponent("tunes.jsonl")
            try Self.folk(4, shift: 0).write(to: folk, atomically: true, encoding: .utf8)
            let both = try Program.sideman(["train", "--data", folk.path, "--data", satb.path, "--valid", folk.path,
                                         "--out", dir.appendingPathComponent("m.safetensors").path] + Self.small)
            #expect(both.status == 0, "\(both.stderr)")
            #expect(both.stderr.contains("on 6 pieces"), "4 tunes and 2 soprano lines: \(both.stderr)")

            // A condition the data cannot supply, and a family that takes none, are usage errors.
            let harmony = try Program.sideman(["train", "--format", "jsb-atb", "--condition", "harmony", "--data", satb.path,
                                            "--valid", satb.path, "--out", model] + Self.small)
            #expect(harmony.status == 64 && harmony.stderr.contains("no harmony condition"), "\(harmony.stderr)")
            let lookback = try Program.sideman(["train", "--family", "lookback", "--condition", "harmony", "--data", folk.path,
                                             "--valid", folk.path, "--out", model] + Self.small)
            #expect(lookback.status == 64 && lookback.stderr.contains("lookback takes no condition inputs"), "\(lookback.stderr)")
        }
    }

    /// `--onsets`: the band chord part as onset and hold frames (176 units, said in the model's metadata);
    /// eval reads the data that way from the metadata and splits the frame NLL into its struck half and the
    /// held half given it. Only the chord part has holds to tell apart.
    @Test func trainsTheChordPartInOnsetAndHoldFrames() throws {
        try Self.inFolder { dir in
            try FileManager.default.createDirectory(at: dir.appendingPathComponent("songs"), withIntermediateDirectories: true)
            var lines: [String] = []
            for k in 0..<4 {
                // A triad struck on each beat and held through it, one bar in each of two chords.
                var events: [SMFEvent] = []
                for beat in 0..<8 {
                    let root = UInt8(60 + k + (beat < 4 ? 0 : 5))
                    for p in [root, root + 4, root + 7] {
                        events.append(SMFEvent(tick: beat * 96, .noteOn(channel: 0, note: p, velocity: 80)))
                        events.append(SMFEvent(tick: beat * 96 + 90, .noteOff(channel: 0, note: p, velocity: 0)))
                    }
                }
                events.sort { $0.tick < $1.tick }
                let song = MIDIFile(format: .simultaneousTracks, division: .ticksPerQuarter(96), tracks: [MIDITrack(), MIDITrack(events: events)])
                try Data(MIDIFileWriter.write(song)).write(to: dir.appendingPathComponent("songs/s\(k).mid"))
                let names = ["C", "C#", "D", "D#"][k], fourth = ["F", "F#", "G", "G#"][k]
                lines.append(#"{"file":"songs/s\#(k).mid","groove":"T","beats_per_bar":4,"ticks_per_beat":96,"bars":2,"#
                    + #""chords":[["\#(names)"],["\#(fourth)"]],"tracks":[{"track":1,"role":"chord"}]}"#)
            }
            let manifest = dir.appendingPathComponent("band.jsonl")
            try (lines.joined(separator: "\n") + "\n").write(to: manifest, atomically: true, encoding: .utf8)
            let model = dir.appendingPathComponent("comping.safetensors").path
            let run = try Program.sideman(["train", "--family", "conv", "--residual", "8", "--part", "chord", "--onsets", "--head", "nade_chain",
                                        "--chain-hidden", "8", "--data", manifest.path, "--valid", manifest.path, "--out", model, "--transpose", "0"]
                                       + Self.small)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(try SafeTensors.read(path: model).metadata["frame_layout"] == "onset_hold")
            let eval = try Program.sideman(["eval", "--model", model, "--data", manifest.path, "--json"])
            #expect(eval.status == 0, "\(eval.stderr)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
            #expect(object["steps"] as? Int == 4 * 32)
            let frame = try #require(object["frame_nll"] as? Double)
            let struck = try #require(object["struck_nll"] as? Double), held = try #require(object["held_given_struck_nll"] as? Double)
            #expect(struck > 0 && held > 0 && abs(struck + held - frame) < 1e-3 * frame, "\(struck) + \(held) vs \(frame)")

            let bass = try Program.sideman(["train", "--part", "bass", "--onsets", "--data", manifest.path, "--valid", manifest.path,
                                         "--out", model] + Self.small)
            #expect(bass.status == 64 && bass.stderr.contains("--onsets"), "\(bass.stderr)")
        }
    }

    @Test func missingDataExits66AndBadDataExits65() throws {
        try Self.inFolder { dir in
            let missing = dir.appendingPathComponent("nothing.jsonl").path
            let a = try Program.sideman(["train", "--data", missing, "--valid", missing, "--out", dir.appendingPathComponent("x").path])
            #expect(a.status == 66)
            #expect(a.stderr == "sideman: \(missing): no such file\n")
            let bad = dir.appendingPathComponent("bad.jsonl")
            try "{\"id\":\"x\",\"spq\":4,\"notes\":[[0,4,60],[2,4,62]]}\n".write(to: bad, atomically: true, encoding: .utf8)
            let b = try Program.sideman(["train", "--data", bad.path, "--valid", bad.path, "--out", dir.appendingPathComponent("y").path])
            #expect(b.status == 65)
            #expect(b.stderr.hasPrefix("sideman: \(bad.path): line 1:"))
            #expect(b.stderr.split(separator: "\n").count == 1)
            let garbage = dir.appendingPathComponent("m.safetensors")
            try Data([1, 2, 3]).write(to: garbage)
            let c = try Program.sideman(["eval", "--model", garbage.path, "--data", bad.path])
            #expect(c.status == 65)
            #expect(c.stderr.hasPrefix("sideman: \(garbage.path): "))
        }
    }
}
