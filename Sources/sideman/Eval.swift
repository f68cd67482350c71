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
            (88 units, MIDI 21..108, each frame given all earlier frames; docs/DESIGN-NOTES.md §7; an onset and hold model's \
            frames have 176, and its band chord data is read that way).

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
    @Option(help: "Also stream every piece through the step at this storage (fp32, fp16, int8 or int8-wide-attention) beside an fp32 copy: the NLL the daemon's precision costs.")
    var precision: Precision?
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard batch >= 1, batch <= 4096 else { throw ValidationError("--batch must be in 1...4096") }
    }

    /// A MusicVAE on the data's phrases (the windows `train-vae` cuts, every bar), as the paper reports it.
    private func evaluateVAE(_ set: WeightSet) throws {
        let config: MusicVAEConfig
        do { config = try MusicVAEConfig(metadata: set.metadata) } catch { throw Failure(model, error.description, status: .dataError) }
        let phrases = try TrainVAE.phrases(data, content: config.content, bars: config.bars, hop: 1)
        guard !phrases.isEmpty else { throw Failure(data, "holds no \(config.bars)-bar \(config.content.rawValue) phrases", status: .dataError) }
        let vae = TrainableMusicVAE(config, batch: min(batch, phrases.count), seed: 0)
        do { try vae.load(set) } catch { throw Failure(model, error.description, status: .dataError) }
        let r = MusicVAETrainer.evaluate(vae, phrases)
        if json {
            print(String(format: "{\"model\": \"music_vae\", \"content\": \"%@\", \"phrases\": %d, \"nll_per_step\": %.6f, \"kl_per_bar\": %.4f, "
                         + "\"teacher_forced_accuracy\": %.4f, \"sampled_accuracy\": %.4f}",
                         config.content.rawValue, r.phrases, r.nllPerStep, r.klPerBar, r.teacherForcedAccuracy, r.sampledAccuracy))
        } else {
            print("\(r.phrases) \(config.bars)-bar \(config.content.rawValue) phrases: " + TrainVAE.describe(r).dropFirst("valid: ".count))
        }
    }

    func run() throws {
        try reportingFailures {
            try CommandFiles.requireInput(model)
            let set: WeightSet
            let config: TrainingModelConfig
            do {
                set = try SafeTensors.read(path: model)
                if MusicVAEConfig.describes(set.metadata) { return try evaluateVAE(set) }
                config = try TrainingModelConfig(metadata: set.metadata)
            } catch let error as WeightsError {
                throw Failure(model, error.description, status: .dataError)
            }
            // A soprano-conditioned model reads SATB chorales as ATB under the soprano.
            var chosen = format
            if chosen == nil, config.conditioning == .soprano, (try? TrainingCorpus.detect(path: data)) == .jsbSATB { chosen = .jsbATB }
            // The data is read in the model's frame layout (an onset and hold model: band chord parts).
            let layout = TrainingCorpus.FrameLayout(rawValue: config.frameLayout.rawValue) ?? .pitches
            let corpus = try TrainingData.load([data], format: chosen, part: layout == .onsetHold ? .chord : config.frameLayout == .ensemble ? .band : part,
                                            frameLayout: layout)
            guard corpus.kind == config.data, corpus.units == config.units else {
                throw Failure(data, "holds \(corpus.kind.rawValue) with \(corpus.units) classes; the model predicts \(config.data.rawValue) with \(config.units)",
                              status: .dataError)
            }
            let encoding = SequenceEncoding(config, firstPitchIndex: corpus.firstPitchIndex)
            let pieces = try corpus.pieces(conditioned: config.conditioning, styles: config.styles).map { encoding.encode($0) }
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
            // The whole band's events: the NLL of a 16th step of all three parts, comparable with the sum of the
            // separate parts' NLLs per step (each step's events end with one STEP).
            let bandSteps = config.frameLayout == .ensemble
                ? pieces.reduce(0) { total, piece in total + (0..<piece.count).filter { piece.targets.row($0) == [EnsembleVocabulary.step] }.count } : 0
            if bandSteps > 0 { report["nll_per_band_step"] = nll * Double(count) / Double(bandSteps) }
            // An onset and hold chain: how much of the frame NLL is saying what is struck.
            var split: (struck: Double, total: Double)? = nil
            if config.frameLayout == .onsetHold, config.head == .nadeChain {
                do { split = Self.struckShare(try makeModel(from: set), pieces) } catch let error as WeightsError {
                    throw Failure(model, error.description, status: .dataError)
                }
                report["struck_nll"] = split!.struck
                report["held_given_struck_nll"] = split!.total - split!.struck
            }
            var streamed: StreamedNLL? = nil
            if let precision {
                do {
                    let reduced = try makeModel(from: set), reference = try makeModel(from: set)
                    reduced.prepare(precision)
                    streamed = StreamedNLL.measure(reduced, pieces, reference: reference)
                } catch let error as WeightsError { throw Failure(model, error.description, status: .dataError) }
                report["precision"] = precision.rawValue
                report["streamed_nll"] = streamed!.nll
                report["streamed_fp32_nll"] = streamed!.referenceNLL!
                report["precision_cost_nats"] = streamed!.nll - streamed!.referenceNLL!
                if let kl = streamed!.klFromReference { report["kl_from_fp32_nats"] = kl }
            }
            if json {
                let bytes = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
                print(String(decoding: bytes, as: UTF8.self))
            } else {
                print(String(format: "NLL per step: %.4f nats over %d steps of %d pieces (%d parameters)", nll, count, corpus.pieceCount,
                             parameters))
                if config.data == .frames {
                    print(String(format: "frame NLL: %.4f nats (%d units, each frame given all earlier ones)", nll, config.units))
                }
                if bandSteps > 0 {
                    print(String(format: "NLL per 16th step of the band: %.4f nats (%.2f events per step)", nll * Double(count) / Double(bandSteps),
                                 Double(count) / Double(bandSteps)))
                }
                if let streamed, let precision {
                    print(String(format: "streamed through the step at %@: NLL %.6f per step, fp32 %.6f: %@ costs %+.2e nats per step%@",
                                 precision.rawValue, streamed.nll, streamed.referenceNLL!, precision.rawValue, streamed.nll - streamed.referenceNLL!,
                                 streamed.klFromReference.map { String(format: " (KL from fp32 %.2e)", $0) } ?? ""))
                }
                if let split {
                    print(String(format: "struck half: %.4f nats per frame (what is struck), held half given it: %.4f (streamed from each piece's start)",
                                 split.struck, split.total - split.struck))
                }
            }
        }
    }

    /// An onset and hold chain model's frame NLL split where the held half starts: log p(the struck pitches)
    /// and the rest, each piece streamed from reset. Per frame, averaged over every frame.
    static func struckShare(_ model: any StreamingModel, _ pieces: [EncodedPiece]) -> (struck: Double, total: Double) {
        guard let chain = model.chain else { return (.nan, .nan) }
        var struck = 0.0, total = 0.0, steps = 0
        for piece in pieces {
            model.reset()
            for t in 0..<piece.count {
                var input = FeatureList()
                for k in piece.inputs.range(t) { input.append(Int(piece.inputs.indices[k]), value: piece.inputs.values[k]) }
                let logits = model.step(input)
                let p = chain.logProbability(logits.baseAddress!, of: FeatureList(piece.targets.row(t)), splitAt: chain.units / 2)
                total -= p.total
                struck -= p.below
                steps += 1
            }
        }
        return (struck / Double(max(1, steps)), total / Double(max(1, steps)))
    }
}
