import ArgumentParser
import Foundation
import Music
import Neural

/// Glue between the corpus loaders (Music) and the trainer (Neural): loads a data path as training pieces,
/// turning a missing file into exit 66 and an unreadable one into exit 65.
struct TrainingData {
    var corpus: TrainingCorpus
    var pieces: [TrainingPiece]

    var kind: TrainingModelConfig.DataKind {
        if case .events = corpus.content { return .events }
        return .frames
    }

    /// Vocabulary size and the first index that moves under transposition.
    var units: Int { kind == .events ? EventVocabulary.classes : TrainingCorpus.pianoUnits }
    var firstPitchIndex: Int { kind == .events ? EventVocabulary.firstPitchIndex : 0 }

    static func load(_ path: String, format: TrainingCorpus.Format?, part: TrainingCorpus.BandPart) throws -> TrainingData {
        guard FileManager.default.fileExists(atPath: path) else { throw Failure(path, "no such file", status: .noInput) }
        do {
            let corpus = try TrainingCorpus.load(path: path, format: format, part: part)
            for line in corpus.skipped { printToStandardError("sideman: skipped \(line)") }
            let pieces: [TrainingPiece]
            switch corpus.content {
            case .events(let lines): pieces = lines.map { TrainingPiece(events: $0) }
            case .frames(let frames): pieces = frames.map { TrainingPiece(frames: $0) }
            }
            guard !pieces.isEmpty else { throw Failure(path, "holds no pieces", status: .dataError) }
            return TrainingData(corpus: corpus, pieces: pieces)
        } catch let error as CorpusError {
            throw Failure(error.file, error.problem, status: .dataError)
        }
    }
}

extension TrainingCorpus.Format: ExpressibleByArgument {}
extension TrainingCorpus.BandPart: ExpressibleByArgument {}
extension HeadKind: ExpressibleByArgument {}
extension Family: ExpressibleByArgument {}
extension Gemm.Backend: ExpressibleByArgument {}

