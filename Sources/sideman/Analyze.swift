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
        abstract: "Measure musical sanity: notes in key, parallel fifths and octaves, drum bar repetition, a band on held-out songs.",
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

            With --accompany --preset P (band songs): the band as a musician hears it. Each song's chord \
            track (the one named Chord, else the first chord track; songs with none are skipped and \
            counted) is the player, played through the preset on the engine `accompany` runs, at the file's \
            tempo and in its time signature, once per --seeds seed; the preset's bass, chords and drums \
            parts are measured beside the song's real bass, chord and drum tracks, the same way on both: \
            the bass on the bar's chord root at downbeats where the real bass plays (the lowest note struck \
            within half a 16th, else held through it) and on the previous chord's root where the root \
            changes; chord tones of bass and keys notes (the chord at the note's nearest 16th); keys mean \
            length in 16ths, notes held a bar or more, distinct onset 16ths per bar; drum hits (16th step, \
            GM note) per bar, kit pieces per song, bars equal to the preset's primer bar, and the mean best \
            Jaccard overlap of each drum bar with the song's real bars and with all real bars of its style \
            family (the manifest's groove_file; a real bar is held against the others); notes shorter \
            than 30 ms and flams (one part striking a pitch twice within 30 ms) per 1000 notes; the \
            largest offset from the 16th grid of an onset in the band's first bar. Only notes whose \
            nearest 16th lies in the song count. Songs are played --jobs at a time; the same seeds give \
            the same numbers.

            Examples:
              sideman analyze --data corpora/jsb/satb-16th.valid.json
              sideman analyze --data corpora/folk/valid.jsonl --json
              sideman analyze --model presets/folk/continuation.safetensors \\
                --data corpora/folk/valid.jsonl --generate --pieces 200
              sideman analyze --data corpora/band/valid.jsonl --accompany \\
                --preset band --seeds 1,2,3

            The corpus formats are in docs/DATA.md.
            """)

    @Option(help: "Data to measure (valid splits: folk, jsb-satb or band).") var data: String
    @Option(help: "Data format: folk, jsb-satb, band (default: detected).") var format: TrainingCorpus.Format?
    @Option(help: "Model (.safetensors written by `sideman train`), for --generate.") var model: String?
    @Flag(help: "Measure what the model generates beside the data.") var generate = false
    @Option(help: "Pieces to generate for, or with --accompany the band songs to play: the first N (default: all).") var pieces: Int?
    @Option(help: "Sampling temperature.") var temperature: Float = 1.0
    @Option(help: "Nucleus sampling: keep the likeliest events up to this probability (event models).") var topP: Float = 1.0
    @Option(help: "Sampler seed.") var seed: UInt64 = 1
    @Option(help: "Chorale ATB: draws per step before a chord with parallel fifths or octaves is kept (1: every first draw; the default is the chorale preset's).")
    var voiceLeadingDraws = Part.voiceLeadingDraws
    @Flag(help: "Play each band song's chord track through --preset and measure the band beside the song's real parts.") var accompany = false
    @Option(help: "Preset name or path, for --accompany.", completion: .presetNames) var preset: String?
    @Option(help: "The band's style, for --accompany: a style its models learned, none, or nearest (each song in the learned style whose drums are nearest the song's real drums, as a musician picks by ear); default: the preset's.")
    var style: String?
    @Option(help: "The drummer's kit, for --accompany: song (each song's drummer keeps to the kit pieces the song's real drums play, as a drummer told the record's kit) or preset (default: the preset's).")
    var kit: AnalysisKit = .preset
    @Option(help: "Comma-separated sampler seeds, for --accompany: each song is played once per seed.") var seeds = "1,2,3"
    @Option(help: "Songs played at once, for --accompany (default: one per CPU core).") var jobs = ProcessInfo.processInfo.activeProcessorCount
    @Flag(help: "Print one JSON object.") var json = false

    /// The --seeds list.
    var seedList: [UInt64]? {
        let parts = seeds.split(separator: ",", omittingEmptySubsequences: false).map { UInt64($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else { return nil }
        return parts.map { $0! }
    }

    func validate() throws {
        if accompany {
            if preset == nil { throw ValidationError("--accompany needs --preset") }
            if model != nil || generate { throw ValidationError("--accompany plays a preset; it takes no --model or --generate") }
            guard let list = seedList, Set(list).count == list.count else {
                throw ValidationError("--seeds must be distinct whole numbers separated by commas, e.g. 1,2,3")
            }
            guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
        } else if preset != nil || kit != .preset {
            throw ValidationError("--preset and --kit are only used with --accompany")
        }
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
                if accompany, let preset, let seedList {
                    guard chosen == .band else {
                        throw Failure(data, "is \(chosen.rawValue) data; --accompany plays band songs (a band manifest)", status: .dataError)
                    }
                    report = try AccompanyAnalysis(presetName: preset, dataPath: data, seeds: seedList, pieces: pieces, jobs: jobs, style: style,
                                                songKit: kit == .song).run()
                } else if let model {
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

/// Whose kit the drummer plays in `analyze --accompany`.
enum AnalysisKit: String, ExpressibleByArgument, CaseIterable {
    case preset, song
}
