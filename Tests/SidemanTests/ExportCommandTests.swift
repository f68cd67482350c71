import Foundation
import Neural
import Testing
import TestSupport

/// `sideman export` as a user runs it: the rows another trainer reads are the trainer's own.
@Suite("sideman export")
struct ExportCommandTests {
    @Test func helpHasExamples() throws { try HelpCommandTests().examples(subcommand: "export") }

    @Test func writesTheTrainersRowsWithTheirEncoding() throws {
        try TrainCommandTests.inFolder { dir in
            let train = dir.appendingPathComponent("train.jsonl"), valid = dir.appendingPathComponent("valid.jsonl")
            try TrainCommandTests.folk(4, shift: 0).write(to: train, atomically: true, encoding: .utf8)
            try TrainCommandTests.folk(3, shift: 1).write(to: valid, atomically: true, encoding: .utf8)
            let out = dir.appendingPathComponent("corpus.safetensors").path
            let run = try Program.sideman(["export", "--family", "lookback", "--data", train.path, "--valid", valid.path, "--out", out,
                                           "--transpose", "1"])
            #expect(run.status == 0, "\(run.stderr)")
            let set = try SafeTensors.read(path: out)
            let m = set.metadata
            #expect(m["sideman_export"] == "1" && m["family"] == "lookback" && m["data"] == "events" && m["units"] == "130")
            #expect(m["input_size"] == "\(LookbackEncoder.inputSize(classes: 130))")
            // Every tune at shifts -1, 0 and 1; the valid split as it is.
            #expect(m["train_pieces"] == "12" && m["valid_pieces"] == "3")
            // 16 quarter notes → 65 events, 64 predicted per tune.
            #expect(m["valid_steps"] == "\(3 * 64)")
            #expect(set.tensors["valid.piece_offsets"]?.values == [0, 64, 128, 192])
            #expect(set.tensors["valid.target_offsets"]?.values.count == 3 * 64 + 1)
            // Lookback rows: the event, two lookback events and the five clock bits at least; the clock's -1s kept.
            let offsets = try #require(set.tensors["valid.input_offsets"]?.values)
            #expect(zip(offsets, offsets.dropFirst()).allSatisfy { $1 - $0 >= 8 })
            #expect(set.tensors["valid.input_values"]?.values.contains(-1) == true)
            // Encoded for a model as `sideman eval` reads the data for it.
            let model = dir.appendingPathComponent("m.safetensors").path
            let trained = try Program.sideman(["train", "--family", "basic", "--data", train.path, "--valid", valid.path, "--out", model]
                + TrainCommandTests.small)
            #expect(trained.status == 0, "\(trained.stderr)")
            let forModel = dir.appendingPathComponent("valid.safetensors").path
            let again = try Program.sideman(["export", "--model", model, "--valid", valid.path, "--out", forModel])
            #expect(again.status == 0, "\(again.stderr)")
            let basic = try SafeTensors.read(path: forModel)
            #expect(basic.metadata["family"] == "basic" && basic.metadata["input_size"] == "130" && basic.tensors["train.piece_offsets"] == nil)
            #expect(basic.tensors["valid.input_values"]?.values.count == 3 * 64)
            // The encoding comes from the model alone.
            let mixed = try Program.sideman(["export", "--model", model, "--family", "lookback", "--valid", valid.path, "--out", forModel])
            #expect(mixed.status == 64, "\(mixed.stderr)")
        }
    }
}
