import ArgumentParser
import Foundation
import Live
import Music
import Neural

/// Glue between the corpus loaders (Music) and the trainer (Neural): loads one or more data paths as training
/// pieces, turning a missing file into exit 66 and an unreadable or mismatched one into exit 65.
struct TrainingData {
    var corpora: [TrainingCorpus]
    var kind: TrainingModelConfig.DataKind

    var pieceCount: Int { corpora.reduce(0) { $0 + $1.pieceCount } }
    /// The first file's format (a validation set of the same kind is read in it).
    var format: TrainingCorpus.Format { corpora[0].format }
    /// The condition every file can supply, nil when one of them has none.
    var condition: TrainingCorpus.Condition? {
        let kinds = Set(corpora.map(\.condition))
        return kinds.count == 1 ? kinds.first! : nil
    }

    /// How the frames' units lay out (every file the same: they are read with one layout).
    var frameLayout: TrainingCorpus.FrameLayout { corpora[0].frameLayout }

    /// Vocabulary size and the first index that moves under transposition.
    var units: Int {
        if isBandEnsemble { return EnsembleVocabulary.classes }
        return kind == .events ? EventVocabulary.classes : frameLayout.units
    }

    /// Band data read as one event stream of the whole band (`--part band`).
    var isBandEnsemble: Bool { corpora[0].part == .band }
    var firstPitchIndex: Int { corpora[0].firstMovingUnit }

    /// Reads every path: the first in `format` (or as detected), the others as detected, except that JSB
    /// SATB chorales beside melody data give their soprano lines (the folk preset learns from both).
    static func load(
        _ paths: [String], format: TrainingCorpus.Format?, part: TrainingCorpus.BandPart, frameLayout: TrainingCorpus.FrameLayout = .pitches
    ) throws -> TrainingData {
        var corpora: [TrainingCorpus] = []
        var kind: TrainingModelConfig.DataKind? = nil
        for (i, path) in paths.enumerated() {
            guard FileManager.default.fileExists(atPath: path) else { throw Failure(path, "no such file", status: .noInput) }
            do {
                var chosen = i == 0 ? format : nil
                if chosen == nil, kind == .events, try TrainingCorpus.detect(path: path) == .jsbSATB { chosen = .jsbSoprano }
                let corpus = try TrainingCorpus.load(path: path, format: chosen, part: part, frameLayout: frameLayout)
                for line in corpus.skipped { printToStandardError("sideman: skipped \(line)") }
                guard corpus.pieceCount > 0 else { throw Failure(path, "holds no pieces", status: .dataError) }
                let k: TrainingModelConfig.DataKind = if case .events = corpus.content { .events } else { .frames }
                if let kind, kind != k {
                    throw Failure(path, "holds \(k.rawValue), \(paths[0]) holds \(kind.rawValue); one model learns one kind", status: .dataError)
                }
                kind = k
                corpora.append(corpus)
            } catch let error as CorpusError {
                throw Failure(error.file, error.problem, status: .dataError)
            }
        }
        return TrainingData(corpora: corpora, kind: kind!)
    }

    /// The styles the pieces name, sorted (a style-conditioned model's unit order), at most as many as it has
    /// units for.
    func styleNames() throws -> [String] {
        let names = Set(corpora.flatMap { $0.styles ?? [] }).sorted()
        guard names.count <= Conditioning.styleUnits else {
            throw Failure("--condition", "the data names \(names.count) styles; a model learns \(Conditioning.styleUnits) at most", status: .usage)
        }
        return names
    }

    /// The pieces, with their condition rows when the model is conditioned; a style-conditioned model's rows
    /// take the unit of the piece's style in `styles` (none for a style not in it, as valid data's are).
    func pieces(conditioned conditioning: Conditioning?, styles: [String] = []) throws -> [TrainingPiece] {
        var pieces: [TrainingPiece] = []
        let styleUnit = Dictionary(uniqueKeysWithValues: styles.enumerated().map { ($1, Conditioning.firstStyleUnit + $0) })
        for corpus in corpora {
            let plain: [TrainingPiece]
            switch corpus.content {
            case .events(let lines): plain = lines.enumerated().map { i, line in
                var piece = TrainingPiece(events: line)
                if let bar = corpus.bars?[i] { piece.bar = (bar.stepsPerBar, bar.firstStepInBar) }
                return piece
            }
            case .frames(let frames): plain = frames.map { TrainingPiece(frames: $0) }
            }
            guard let conditioning else {
                pieces += plain
                continue
            }
            if conditioning == .beat {
                // Each step's place in its bar, from the piece's meter and pickup (none where it has no meter).
                pieces += plain.enumerated().map { i, piece in
                    let bar = corpus.bars?[i]
                    return piece.conditioned(by: (0..<piece.count).map { t in
                        bar.map { [min((t + $0.firstStepInBar) % $0.stepsPerBar, Conditioning.beatUnits - 1)] } ?? []
                    })
                }
                continue
            }
            // Band data carries the harmony, the beat and the player's rhythm; a model conditioned on less takes
            // the units it knows.
            let wanted = TrainingCorpus.Condition(rawValue: conditioning.rawValue)
            let fromBand = corpus.condition == .harmonyBeatAndRhythm && wanted != .soprano
            guard let wanted, corpus.condition == wanted || fromBand, let rows = corpus.conditions else {
                throw Failure("--condition", "\(corpus.format.rawValue) data has no \(conditioning.rawValue) condition "
                    + "(jsb-atb has soprano, band has harmony, harmony_beat, harmony_beat_rhythm and harmony_beat_style)", status: .usage)
            }
            pieces += zip(plain, rows).enumerated().map { i, pair in
                let style = conditioning.hasStyles ? corpus.styles.flatMap { styleUnit[$0[i]] } : nil
                return pair.0.conditioned(by: pair.1.map { $0.filter(wanted.keeps) + (style.map { [$0] } ?? []) })
            }
        }
        return pieces
    }

    /// The layout a model trained on this data declares in its metadata.
    var modelFrameLayout: FrameLayout { isBandEnsemble ? .ensemble : FrameLayout(rawValue: frameLayout.rawValue)! }

    /// Refuses `--lookback` where it does not apply: the Lookback features are a transformer's reading of
    /// melody events (one event a step, which the band's ensemble stream is not).
    func checkLookbackInputs(_ lookback: Bool, family: Family) throws {
        guard lookback, family != .transformer || kind != .events || isBandEnsemble else { return }
        throw Failure("--lookback", "reads melody events into a transformer; this is --family \(family.rawValue) on \(kind.rawValue)"
            + (isBandEnsemble ? " of the band's ensemble" : ""), status: .usage)
    }

    /// The condition a model trained on this data gets unless told otherwise: what the data supplies (band
    /// parts: the harmony and the beat; the player's rhythm is asked for with --condition).
    var defaultConditioning: Conditioning? {
        condition == .harmonyBeatAndRhythm ? .harmonyAndBeat : condition.flatMap { Conditioning(rawValue: $0.rawValue) }
    }
}

/// `--condition`: a condition kind, or none.
enum ConditionChoice: String, ExpressibleByArgument, CaseIterable {
    case none, soprano, harmony
    case harmonyAndBeat = "harmony_beat"
    case harmonyBeatAndRhythm = "harmony_beat_rhythm"
    case harmonyBeatAndStyle = "harmony_beat_style"
    case beat
    var conditioning: Conditioning? { Conditioning(rawValue: rawValue) }
}

extension TrainingCorpus.Format: ExpressibleByArgument {}
extension TrainingCorpus.BandPart: ExpressibleByArgument {}
extension HeadKind: ExpressibleByArgument {}
extension Precision: ExpressibleByArgument {}
extension Family: ExpressibleByArgument {}
extension Gemm.Backend: ExpressibleByArgument {}
