import Foundation

/// One folk tune of a JSON Lines corpus (docs/DATA.md).
public struct FolkTune: Sendable {
    public var id: String
    public var title: String
    public var key: Key?
    /// [numerator, denominator], nil when the source has none.
    public var meter: (beats: Int, unit: Int)?
    public var melody: Melody
}

/// Loader for the folk JSON Lines files (one tune per line, 16th-note grid).
public enum FolkCorpus {
    private struct Record: Decodable {
        var id: String
        var title: String?
        var meter: [Int]?
        var key: String?
        var spq: Int
        var pickup_steps: Int?
        var notes: [[Int]]
    }

    public static func load(path: String) throws -> [FolkTune] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CorpusError(file: path, problem: "cannot be read")
        }
        let decoder = JSONDecoder()
        var tunes: [FolkTune] = []
        var lineNumber = 0
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { continue }
            let record: Record
            do {
                record = try decoder.decode(Record.self, from: Data(line))
            } catch let error as DecodingError {
                throw CorpusError(file: path, problem: "line \(lineNumber): \(describe(error))")
            }
            tunes.append(try tune(from: record, file: path, line: lineNumber))
        }
        return tunes
    }

    private static func tune(from r: Record, file: String, line: Int) throws -> FolkTune {
        guard r.spq == 4 else {
            throw CorpusError(file: file, problem: "line \(line): \(r.spq) steps per quarter; only 16th grids (4) are read")
        }
        var notes: [(onset: Int, duration: Int, pitch: UInt8)] = []
        notes.reserveCapacity(r.notes.count)
        var lastEnd = 0
        for n in r.notes {
            guard n.count == 3, n[0] >= lastEnd, n[1] >= 1, (0...127).contains(n[2]) else {
                throw CorpusError(file: file, problem: "line \(line): note \(n) is not [onset >= previous end, duration >= 1, pitch 0-127]")
            }
            notes.append((n[0], n[1], UInt8(n[2])))
            lastEnd = n[0] + n[1]
        }
        var meter: (Int, Int)? = nil
        var stepsPerBar: Int? = nil
        if let m = r.meter, m.count == 2, m[0] > 0, [1, 2, 4, 8, 16].contains(m[1]) {
            meter = (m[0], m[1])
            stepsPerBar = m[0] * 16 / m[1]
        }
        let melody = Melody(notes: notes, stepsPerBar: stepsPerBar, pickupSteps: r.pickup_steps ?? 0)
        return FolkTune(
            id: r.id, title: r.title ?? "", key: r.key.flatMap { Key(name: $0) }, meter: meter, melody: melody)
    }
}
