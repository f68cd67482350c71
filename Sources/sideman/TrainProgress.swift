#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import Foundation
import Neural

/// The progress line of `sideman train`: on a terminal a bar redrawn in place, otherwise a plain line every
/// few seconds (logs and pipes get whole lines).
struct TrainProgressLine {
    let terminal = isatty(2) != 0
    var lastPrint = Date.distantPast

    mutating func show(_ p: TrainingProgress) {
        let now = Date()
        guard terminal ? now.timeIntervalSince(lastPrint) > 0.2 : now.timeIntervalSince(lastPrint) > 10 || p.chunk == p.chunksPerEpoch
        else { return }
        lastPrint = now
        let fraction = Double(p.chunk) / Double(max(p.chunksPerEpoch, 1))
        let remainingChunks = Double(p.chunksPerEpoch - p.chunk) + Double(p.totalEpochs - p.epoch - 1) * Double(p.chunksPerEpoch)
        let perChunk = p.elapsed / Double(max(p.chunksThisRun, 1))
        let eta = Self.duration(remainingChunks * perChunk)
        let figures = String(format: "epoch %d/%d  loss %.4f  %.0f sample-steps/s  ETA %@", p.epoch + 1, p.totalEpochs, p.loss,
                             p.sampleStepsPerSecond, eta)
        if terminal {
            let width = 24
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            printToStandardErrorRaw("\r[\(bar)] \(figures)\u{1B}[K")
        } else {
            printToStandardError(String(format: "chunk %d/%d  ", p.chunk, p.chunksPerEpoch) + figures)
        }
    }

    mutating func finishEpoch(_ r: EpochResult) {
        if terminal { printToStandardErrorRaw("\r\u{1B}[K") }
        printToStandardError(String(format: "epoch %d: train NLL %.4f, valid NLL %.4f%@", r.epoch + 1, r.trainNLL, r.validNLL,
                                    r.improved ? " (best so far, saved)" : ""))
        lastPrint = .distantPast
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%dh%02dm", s / 3600, s % 3600 / 60) : String(format: "%dm%02ds", s / 60, s % 60)
    }
}

/// How many threads a training command uses and why, for its first line: `--threads` when given, else every
/// core the batch has work for (DataParallelStep.defaultThreads).
struct TrainingThreads {
    let count: Int
    let chosen: Bool

    init(option: Int?, parameters: Int, rows: Int) {
        chosen = option != nil
        count = option ?? DataParallelStep.defaultThreads(parameters: parameters, rows: rows)
    }

    /// "2 threads (every core this process may use; --threads to choose)", or why fewer.
    func describe(using used: Int) -> String {
        let counted = "\(used) thread\(used == 1 ? "" : "s")"
        if chosen { return counted }
        return counted + (used == DataParallelStep.cores
            ? " (every core this process may use; --threads to choose)"
            : " (of \(DataParallelStep.cores) cores: a batch this small has no work for more; --threads to choose)")
    }
}
