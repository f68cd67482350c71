import Foundation

/// One Bach chorale as four voices on a 16th-note grid.
public struct Chorale: Equatable, Sendable {
    /// Soprano, alto, tenor, bass: a pitch per step, nil where the voice is silent.
    public var voices: [[UInt8?]]

    public var soprano: [UInt8?] { voices[0] }
    public var stepCount: Int { voices[0].count }

    /// Each voice as a melody-event line. Chorales in the data carry no meter; most are in 4/4.
    public var voiceMelodies: [Melody] { voices.map { Melody(pitchPerStep: $0, stepsPerBar: 16) } }
}

/// Loaders for the JSB chorale encodings (docs/DATA.md).
public enum JSBCorpus {
    /// `satb-16th.*.json`: chorales as lists of [S, A, T, B] steps, -1 for silence.
    public static func loadSATB(path: String) throws -> [Chorale] {
        let raw: [[[Int]]] = try decodeJSON(path: path)
        return try raw.enumerated().map { index, steps in
            var voices = [[UInt8?]](repeating: [], count: 4)
            for (s, step) in steps.enumerated() {
                guard step.count == 4 else {
                    throw CorpusError(file: path, problem: "chorale \(index) step \(s) has \(step.count) voices, not 4")
                }
                for v in 0..<4 {
                    let p = step[v]
                    guard p == -1 || (0...127).contains(p) else {
                        throw CorpusError(file: path, problem: "chorale \(index) step \(s): pitch \(p) out of range")
                    }
                    voices[v].append(p < 0 ? nil : UInt8(p))
                }
            }
            return Chorale(voices: voices)
        }
    }

    /// `pianoroll-quarter.*.json`: chorales as lists of quarter-note frames of sounding pitches.
    public static func loadPianoRoll(path: String) throws -> [PianoRoll] {
        let raw: [[[Int]]] = try decodeJSON(path: path)
        return try raw.enumerated().map { index, frames in
            PianoRoll(
                frames: try frames.map { frame in
                    try frame.map { p in
                        guard (0...127).contains(p) else {
                            throw CorpusError(file: path, problem: "chorale \(index): pitch \(p) out of range")
                        }
                        return UInt8(p)
                    }
                })
        }
    }
}

func decodeJSON<T: Decodable>(path: String, as: T.Type = T.self) throws -> T {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw CorpusError(file: path, problem: "cannot be read")
    }
    do {
        return try JSONDecoder().decode(T.self, from: data)
    } catch let error as DecodingError {
        throw CorpusError(file: path, problem: "not the expected JSON: \(describe(error))")
    }
}

func describe(_ error: DecodingError) -> String {
    switch error {
    case .dataCorrupted(let c), .typeMismatch(_, let c), .valueNotFound(_, let c), .keyNotFound(_, let c):
        let path = c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return path.isEmpty ? c.debugDescription : "\(path): \(c.debugDescription)"
    @unknown default:
        return "\(error)"
    }
}
