import Foundation
import MIDI

/// One track of a user's MIDI file on a 16th-note grid.
public struct UserTrack: Sendable {
    public var file: String
    public var name: String?
    public var isDrums: Bool
    /// The top line (highest note at each onset): what a melody model learns from.
    public var melody: Melody
    /// Every note sounding on each step (for chord and voice models), or struck (drums).
    public var frames: PianoRoll
}

/// Loader for a folder of the user's own .mid files (searched recursively). Files that cannot be read
/// are reported, not fatal: one broken file in a folder of hundreds should not stop training.
public enum MIDIFolderCorpus {
    public struct Result: Sendable {
        public var tracks: [UserTrack]
        /// One line per file skipped, `path: problem`.
        public var skipped: [String]
    }

    public static func load(folder: String) throws -> Result {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CorpusError(file: folder, problem: "no such folder")
        }
        guard let walker = FileManager.default.enumerator(atPath: folder) else {
            throw CorpusError(file: folder, problem: "cannot be listed")
        }
        let paths = walker.compactMap { $0 as? String }
            .filter { $0.lowercased().hasSuffix(".mid") || $0.lowercased().hasSuffix(".midi") || $0.lowercased().hasSuffix(".kar") }
            .sorted()
        guard !paths.isEmpty else { throw CorpusError(file: folder, problem: "holds no .mid files") }
        var result = Result(tracks: [], skipped: [])
        for relative in paths {
            let path = "\(folder)/\(relative)"
            do {
                result.tracks += try tracks(of: MIDIFileReader.read(path: path).file, path: path)
            } catch {
                result.skipped.append("\(error)")
            }
        }
        return result
    }

    static func tracks(of file: MIDIFile, path: String) throws -> [UserTrack] {
        guard case .ticksPerQuarter(let tpq) = file.division else {
            throw MIDIFileLoadError.unreadable(path: path, reason: "uses SMPTE time, which has no beat grid to learn from")
        }
        let quantizer = StepQuantizer(ticksPerQuarter: Int(tpq))
        let stepsPerBar = firstTimeSignature(file).map { $0.numerator * 16 / $0.denominator }
        var result: [UserTrack] = []
        for track in file.tracks {
            let spans = track.noteSpans()
            // A format-0 file mixes parts on one track: split it by channel so each part stays a part.
            for channel in Set(spans.map(\.channel)).sorted() {
                let own = spans.filter { $0.channel == channel }
                let steps = (own.map { quantizer.place($0) }.map { $0.onset + $0.duration }.max() ?? 0)
                let drums = channel == 9
                result.append(
                    UserTrack(
                        file: path, name: track.name, isDrums: drums,
                        melody: quantizer.melody(own, keepLowest: false, stepsPerBar: stepsPerBar),
                        frames: drums ? quantizer.onsetFrames(own, steps: steps) : quantizer.soundingFrames(own, steps: steps)))
            }
        }
        return result
    }

    private static func firstTimeSignature(_ file: MIDIFile) -> (numerator: Int, denominator: Int)? {
        for track in file.tracks {
            for event in track.events {
                if case .meta(.timeSignature(let n, let d, _, _)) = event.kind, n > 0 { return (Int(n), 1 << Int(d)) }
            }
        }
        return nil
    }
}
