import ArgumentParser
import Engine
import Foundation
import Live
import Music
import Neural

/// `sideman analyze`: the musical sanity measures of issue 6 on a data set, and on what a model
/// generates from it (Sources/Music/Analysis defines each measure).
struct Analyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Measure musical sanity: notes in key, parallel fifths and octaves, drum bar repetition.",
        discussion: """
            On data alone: folk tunes give the share of their notes in the labelled key and in the key \
            estimated from the whole tune; JSB SATB chorales give Bach's parallel fifths and octaves per 100 \
            16th steps (all six voice pairs); band songs give the drums' bar repetition.

            With --model and --generate: an event model is primed with each tune's first 2 bars (32 steps) \
            and samples 4 bars; the generated notes' in-key share (against the key estimated from the prime, \
            the tune's labelled key, and the key estimated from the generated notes) stands beside the same \
            shares of the tune's own next 4 bars. A note-set drums model samples 8 bars of 16 steps from reset \
            per piece; its bar repetition stands beside the data's. A soprano-conditioned ATB model sings \
            under each chorale's soprano, redrawing a chord with parallel fifths or octaves as the chorale \
            preset does (--voice-leading-draws); its parallels and notes in key stand beside Bach's.

            Examples:
              sideman analyze --data corpora/jsb/satb-16th.valid.json
              sideman analyze --data corpora/folk/valid.jsonl --json
              sideman analyze --model presets/folk/continuation.safetensors \\
                --data corpora/folk/valid.jsonl --generate --pieces 200

            The corpus formats are in docs/DATA.md.
            """)

    @Option(help: "Data to measure (valid splits: folk, jsb-satb or band).") var data: String
    @Option(help: "Data format: folk, jsb-satb, band (default: detected).") var format: TrainingCorpus.Format?
    @Option(help: "Model (.safetensors written by `sideman train`), for --generate.") var model: String?
    @Flag(help: "Measure what the model generates beside the data.") var generate = false
    @Option(help: "Pieces to generate for (default: all).") var pieces: Int?
    @Option(help: "Sampling temperature.") var temperature: Float = 1.0
    @Option(help: "Nucleus sampling: keep the likeliest events up to this probability (event models).") var topP: Float = 1.0
    @Option(help: "Sampler seed.") var seed: UInt64 = 1
    @Option(help: "Chorale ATB: draws per step before a chord with parallel fifths or octaves is kept (1: every first draw; the default is the chorale preset's).")
    var voiceLeadingDraws = Part.voiceLeadingDraws
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        if generate, model == nil { throw ValidationError("--generate needs --model") }
        if model != nil, !generate { throw ValidationError("--model is only used with --generate") }
        if let pieces, pieces < 1 { throw ValidationError("--pieces must be at least 1") }
        guard temperature > 0, temperature <= 10 else { throw ValidationError("--temperature must be in (0, 10]") }
        guard topP > 0, topP <= 1 else { throw ValidationError("--top-p must be in (0, 1]") }
        guard voiceLeadingDraws >= 1, voiceLeadingDraws <= 100 else { throw ValidationError("--voice-leading-draws must be in 1...100") }
    }

    func run() throws {
        try reportingFailures {
            guard FileManager.default.fileExists(atPath: data) else { throw Failure(data, "no such file", status: .noInput) }
            let chosen: TrainingCorpus.Format
            do { chosen = try format ?? TrainingCorpus.detect(path: data) } catch let error as CorpusError {
                throw Failure(error.file, error.problem, status: .dataError)
            }
            let report: AnalysisReport
            do {
                if let model {
                    report = try GeneratedAnalysis(
                        modelPath: model, dataPath: data, format: chosen, pieces: pieces, temperature: temperature, topP: topP, seed: seed,
                        voiceLeadingDraws: voiceLeadingDraws
                    ).run()
                } else {
                    report = try ReferenceAnalysis.run(path: data, format: chosen)
                }
            } catch let error as CorpusError {
                throw Failure(error.file, error.problem, status: .dataError)
            }
            if json {
                let bytes = try JSONSerialization.data(withJSONObject: report.object, options: [.sortedKeys])
                print(String(decoding: bytes, as: UTF8.self))
            } else {
                for line in report.lines { print(line) }
            }
        }
    }
}

/// What analyze prints: a JSON object and the same numbers as lines of text.
struct AnalysisReport {
    var object: [String: Any] = [:]
    var lines: [String] = []
}

/// Formats a share as a percentage, "n/a" when there was nothing to measure.
func percent(_ share: Double?) -> String { share.map { String(format: "%.1f%%", $0 * 100) } ?? "n/a" }
