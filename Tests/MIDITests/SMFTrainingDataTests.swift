import Foundation
import Testing
import TestSupport

@testable import MIDI

/// Real files from the band data set, written by MMA (another tool), checked against their manifest.
@Suite("SMF real files")
struct SMFTrainingDataTests {
    /// The band corpus (docs/DATA.md), nil when the tests run without the corpora.
    static func dataFolder() -> String? { Corpora.folder(needing: "band/train.jsonl").map { "\($0)/band" } }

    struct Entry {
        var file: String
        var tracks: [(track: Int, notes: Int, channel: Int, name: String)]
        var ticksPerBeat: Int
        var midiType: Int
    }

    static func manifest(_ folder: String) throws -> [Entry] {
        let text = try String(contentsOfFile: folder + "/train.jsonl", encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            let tracks = (object["tracks"] as! [[String: Any]]).map {
                (track: $0["track"] as! Int, notes: $0["notes"] as! Int, channel: $0["channel"] as! Int, name: $0["name"] as! String)
            }
            return Entry(file: object["file"] as! String, tracks: tracks, ticksPerBeat: object["ticks_per_beat"] as! Int, midiType: object["midi_type"] as! Int)
        }
    }

    @Test("a sample of 50 band files: notes per track, channels, names and division match the manifest")
    func bandSample() throws {
        guard let folder = Self.dataFolder() else {
            print(Corpora.skipReason)
            return
        }
        let entries = try Self.manifest(folder)
        try #require(entries.count >= 50)
        let stride = entries.count / 50
        var checkedTracks = 0
        for entry in Swift.stride(from: 0, to: entries.count, by: stride).prefix(50).map({ entries[$0] }) {
            let bytes = try #require(FileManager.default.contents(atPath: folder + "/" + entry.file), "\(entry.file)")
            let outcome = try MIDIFileReader.read([UInt8](bytes))
            #expect(outcome.warnings.isEmpty, "\(entry.file): \(outcome.warnings)")
            #expect(outcome.file.format.rawValue == UInt16(entry.midiType))
            #expect(outcome.file.division == .ticksPerQuarter(UInt16(entry.ticksPerBeat)))
            for expected in entry.tracks {
                let track = try #require(outcome.file.tracks.indices.contains(expected.track) ? outcome.file.tracks[expected.track] : nil, "\(entry.file) track \(expected.track)")
                let notes = track.events.filter { $0.message?.isSoundingNoteOn ?? false }.count
                #expect(notes == expected.notes, "\(entry.file) track \(expected.track)")
                #expect(Set(track.events.compactMap { $0.message?.channel }) == [UInt8(expected.channel)], "\(entry.file) track \(expected.track)")
                #expect(track.name == expected.name)
                checkedTracks += 1
            }
            // Our writer keeps every event: writing the file and reading it back gives the same file.
            #expect(try MIDIFileReader.read(MIDIFileWriter.write(outcome.file)).file == outcome.file, "\(entry.file)")
        }
        #expect(checkedTracks >= 100)
    }
}
