import ArgumentParser
import Foundation
import Live
import Music
import Neural

/// `sideman eval`: the NLL of a trained model on a corpus, each step given all earlier steps of its piece.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure a model's NLL per step (and frame NLL for piano rolls) on a corpus.",
        discussion: """
            NLL is in nats per predicted step: per melody event for event models, per frame for note-set models
            (88 units, MIDI 21..108, each frame given all earlier frames; DESIGN §7).

            Examples:
              sideman eval --model presets/folk/continuation.safetensors \\
                --data corpora/folk/valid.jsonl
              sideman eval --model mine.safetensors --data ~/midi/held-out --json
            """)

    @Option(help: "Model (.safetensors written by `sideman train`).") var model: String
    @Option(help: "Data to evaluate on.") var data: String
    @Option(help: "Data format: folk, jsb-satb, jsb-pianoroll, band, midi-folder (default: detected).") var format: TrainingCorpus.Format?
    @Option(help: "Band part to learn: bass (events), chord or drums (frames).") var part: TrainingCorpus.BandPart = .bass
    @Option(help: "Parallel sequences per batch.") var batch = 32
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard batch >= 1, batch <= 4096 else { throw ValidationError("--batch must be in 1...4096") }
    }

    func run() throws {
        try reportingFailures {
            try CommandFiles.requireInput(model)
            let set: WeightSet
            let config: TrainingModelConfig
            do {
                set = try SafeTensors.read(path: model)
                config = try TrainingModelConfig(metadata: set.metadata)
            } catch let error as WeightsError {
                throw Failure(model, error.description, status: .dataError)
            }
            // A soprano-conditioned model reads SATB chorales as ATB under the soprano.
            var chosen = format
            if chosen == nil, config.conditioning == .soprano, (try? TrainingCorpus.detect(path: data)) == .jsbSATB { chosen = .jsbATB }
            let corpus = try TrainingData.load([data], format: chosen, part: part)
            guard corpus.kind == config.data, corpus.units == config.units else {
                throw Failure(data, "holds \(corpus.kind.rawValue) with \(corpus.units) classes; the model predicts \(config.data.rawValue) with \(config.units)",
                              status: .dataError)
            }
            let encoding = SequenceEncoding(config, firstPitchIndex: corpus.firstPitchIndex)
            let pieces = try corpus.pieces(conditioned: config.conditioning).map { encoding.encode($0) }
            let steps = 64
            let trained = config.makeModel(batch: batch, maxSteps: steps, seed: 0)
            do { try trained.load(set) } catch let error as WeightsError { throw Failure(model, error.description, status: .dataError) }
            let (nll, count) = Trainer.evaluate(trained, pieces, batch: batch, steps: steps)
            let parameters = set.tensors.values.reduce(0) { $0 + $1.values.count }
            var report: [String: Any] = [
                "nll_per_step": nll, "steps": count, "pieces": corpus.pieceCount, "family": config.family.rawValue,
                "head": config.head.rawValue, "data": config.data.rawValue,
                "parameters": parameters,
            ]
            if let kind = config.conditioning { report["condition"] = kind.rawValue }
            if config.data == .frames { report["frame_nll"] = nll }
            if json {
                let bytes = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
                print(String(decoding: bytes, as: UTF8.self))
            } else {
                print(String(format: "NLL per step: %.4f nats over %d steps of %d pieces (%d parameters)", nll, count, corpus.pieceCount,
                             parameters))
                if config.data == .frames { print(String(format: "frame NLL: %.4f nats (88 units, each frame given all earlier ones)", nll)) }
            }
        }
    }
}
