import Foundation
import Testing
import TestSupport

@testable import MIDI

/// Mutated MIDI files through the reader: it must never crash, report offsets inside the file, and hold
/// no more events and payload than the bytes it was given (memory bounded by the input).
@Suite("SMF mutation fuzz")
struct SMFMutationFuzzTests {
    static let mutationCount = 12_000

    /// Valid files to mutate: generated ones of every event kind, plus some real songs when the data is here.
    static func seedFiles() -> [[UInt8]] {
        var files = (0..<8).map { MIDIFileWriter.write(RandomMIDIFiles.file(seed: UInt64($0) &* 7919, format: $0 % 3 == 0 ? .singleTrack : .simultaneousTracks)) }
        if let data = SMFTrainingDataTests.dataFolder() {
            for name in ["50sRock1Plus_0.mid", "50sRock1_0.mid"] {
                if let contents = FileManager.default.contents(atPath: data + "/train/" + name) { files.append([UInt8](contents)) }
            }
        }
        return files
    }

    static func mutate(_ original: [UInt8], _ rng: inout SeededGenerator) -> [UInt8] {
        var bytes = original
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            guard !bytes.isEmpty else { break }
            let at = Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0...8, using: &rng) {
            case 0: bytes[at] = UInt8.random(in: 0...255, using: &rng)
            case 1: bytes[at] ^= 1 << UInt8.random(in: 0...7, using: &rng)
            case 2: bytes.removeSubrange(at...)
            case 3: bytes.insert(contentsOf: (0..<Int.random(in: 1...8, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: at)
            case 4: bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...8, using: &rng)))
            case 5, 6:
                // Corrupt a chunk length: the MThd one or a random MTrk one.
                let tags = (0..<max(0, bytes.count - 8)).filter { i in bytes[i] == 0x4D && (bytes[i + 1] == 0x54) }
                guard let tag = tags.randomElement(using: &rng) else { break }
                let choices: [UInt32] = [0, 1, 5, 0x7FFF_FFFF, 0xFFFF_FFFF, UInt32.random(in: 0...UInt32.max, using: &rng), UInt32(bytes.count)]
                let v = choices.randomElement(using: &rng)!
                bytes.replaceSubrange(tag + 4..<tag + 8, with: [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)])
            case 7:
                // A long run of continuation bytes: an overlong quantity somewhere.
                bytes.replaceSubrange(at..<min(bytes.count, at + 5), with: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
            default:
                // Duplicate a slice elsewhere (a chunk appearing twice, a repeated event).
                let length = Int.random(in: 1...min(64, bytes.count - at), using: &rng)
                bytes.insert(contentsOf: bytes[at..<at + length], at: Int.random(in: 0...bytes.count, using: &rng))
            }
        }
        return bytes
    }

    @Test("12,000 mutated files: no crash, offsets inside the file, memory bounded by the input")
    func mutations() {
        let seeds = Self.seedFiles()
        var rng = SeededGenerator(seed: 0x5EED_F11E)
        var accepted = 0
        var rejected = 0
        var kinds = Set<String>()
        for iteration in 0..<Self.mutationCount {
            let bytes = Self.mutate(seeds[iteration % seeds.count], &rng)
            do {
                let outcome = try MIDIFileReader.read(bytes)
                accepted += 1
                let events = outcome.file.tracks.reduce(0) { $0 + $1.events.count }
                let payload = outcome.file.tracks.reduce(0) { total, track in
                    total + track.events.reduce(0) { sum, e in
                        switch e.kind {
                        case .meta(let m): return sum + m.data.count
                        case .sysex(let s): return sum + s.bytes.count
                        case .channel: return sum
                        }
                    }
                }
                #expect(events <= bytes.count, "iteration \(iteration)")
                #expect(payload <= bytes.count, "iteration \(iteration)")
                #expect(outcome.warnings.allSatisfy { (0...bytes.count).contains($0.offset) }, "iteration \(iteration)")
                // Whatever was read can be written and read back to the same events.
                let again = try? MIDIFileReader.read(MIDIFileWriter.write(outcome.file))
                #expect(again != nil, "iteration \(iteration)")
                if outcome.file.format != .singleTrack, let again {
                    #expect(again.file.tracks.map { $0.events.filter { $0.kind != .meta(.endOfTrack) } } == outcome.file.tracks.map { $0.events.filter { $0.kind != .meta(.endOfTrack) } }, "iteration \(iteration)")
                }
            } catch {
                rejected += 1
                kinds.insert("\(error.kind)")
                #expect((0...bytes.count).contains(error.offset), "iteration \(iteration): \(error)")
                #expect(!error.problem.isEmpty)
            }
        }
        // Both outcomes must be exercised, and more than one kind of error, or the mutations are too tame.
        #expect(accepted > Self.mutationCount / 20)
        #expect(rejected > Self.mutationCount / 20)
        #expect(kinds.count >= 5, "\(kinds)")
    }

    @Test("a few bytes declaring huge lengths are rejected without allocating them")
    func hugeLengths() {
        let header = Bytes.header()
        let claims: [[UInt8]] = [
            Array("MTrk".utf8) + [0xFF, 0xFF, 0xFF, 0xFF] + [0x00, 0xF0, 0xFF, 0xFF, 0xFF, 0x7F],
            Array("MTrk".utf8) + [0x00, 0x00, 0x00, 0x08] + [0x00, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0x7F, 0x00],
            Array("MTrk".utf8) + [0x7F, 0xFF, 0xFF, 0xFF],
        ]
        for claim in claims {
            #expect(throws: MIDIFileError.self) { try MIDIFileReader.read(header + claim) }
        }
        #expect(throws: MIDIFileError.self) { try MIDIFileReader.read([UInt8](repeating: 0, count: MIDIFileReader.maximumFileSize + 1)) }
    }
}
