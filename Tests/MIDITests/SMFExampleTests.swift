import Foundation
import Testing

@testable import MIDI

/// examples/twinkle.mid is this song as our writer writes it. The test keeps the file and the writer in
/// step; run with SIDEMAN_WRITE_EXAMPLE=1 to regenerate the file after a deliberate change.
@Suite("SMF bundled example")
struct SMFExampleTests {
    static let ticksPerQuarter = 480

    /// "Twinkle, Twinkle, Little Star" in C: a melody track (with tempo, meter and key) and a bass track.
    static func twinkle() -> MIDIFile {
        let q = ticksPerQuarter
        let a = [60, 60, 67, 67, 69, 69, 67]
        let b = [65, 65, 64, 64, 62, 62, 60]
        let c = [67, 67, 65, 65, 64, 64, 62]
        let phrases = [a, b, c, c, a, b]
        let bassForPhrase: [[Int]] = [[48, 48, 41, 48], [41, 48, 43, 48], [48, 41, 48, 43]]
        let bassPhrases = [0, 1, 2, 2, 0, 1].map { bassForPhrase[$0] }

        var melody: [SMFEvent] = [
            SMFEvent(tick: 0, .meta(.text(.trackName, Array("Melody".utf8)))),
            SMFEvent(tick: 0, .meta(.tempo(microsecondsPerQuarter: 600_000))),
            SMFEvent(tick: 0, .meta(.timeSignature(numerator: 4, denominatorPower: 2, clocksPerClick: 24, thirtySecondsPerQuarter: 8))),
            SMFEvent(tick: 0, .meta(.keySignature(sharps: 0, minor: false))),
            SMFEvent(tick: 0, .programChange(channel: 0, program: 0)),
        ]
        var tick = 0
        for phrase in phrases {
            for (index, note) in phrase.enumerated() {
                let length = index == phrase.count - 1 ? 2 * q : q
                melody.append(SMFEvent(tick: tick, .noteOn(channel: 0, note: UInt8(note), velocity: 90)))
                // Release a little early so repeated notes are heard as two.
                melody.append(SMFEvent(tick: tick + length - q / 8, .noteOn(channel: 0, note: UInt8(note), velocity: 0)))
                tick += length
            }
        }
        melody.append(SMFEvent(tick: tick, .meta(.endOfTrack)))

        var bass: [SMFEvent] = [
            SMFEvent(tick: 0, .meta(.text(.trackName, Array("Bass".utf8)))),
            SMFEvent(tick: 0, .programChange(channel: 1, program: 32)),
        ]
        tick = 0
        for phrase in bassPhrases {
            for note in phrase {
                bass.append(SMFEvent(tick: tick, .noteOn(channel: 1, note: UInt8(note), velocity: 80)))
                bass.append(SMFEvent(tick: tick + 2 * q - q / 8, .noteOff(channel: 1, note: UInt8(note), velocity: 0)))
                tick += 2 * q
            }
        }
        bass.append(SMFEvent(tick: tick, .meta(.endOfTrack)))
        return MIDIFile(format: .simultaneousTracks, division: .ticksPerQuarter(UInt16(q)), tracks: [MIDITrack(events: melody), MIDITrack(events: bass)])
    }

    static func examplePath(filePath: String = #filePath) -> String? {
        var url = URL(fileURLWithPath: filePath).deletingLastPathComponent()
        while url.path != "/" {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
                return url.appendingPathComponent("examples/twinkle.mid").path
            }
            url = url.deletingLastPathComponent()
        }
        return nil
    }

    @Test("examples/twinkle.mid is what our writer makes of the song, and reads back as the song")
    func bundledExample() throws {
        let path = try #require(Self.examplePath())
        let bytes = MIDIFileWriter.write(Self.twinkle())
        if ProcessInfo.processInfo.environment["SIDEMAN_WRITE_EXAMPLE"] == "1" {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        }
        let stored = try #require(FileManager.default.contents(atPath: path), "\(path) is missing")
        #expect([UInt8](stored) == bytes)
        let outcome = try MIDIFileReader.read([UInt8](stored))
        #expect(outcome.warnings.isEmpty)
        #expect(outcome.file == Self.twinkle())
        #expect(outcome.file.tracks.map { $0.events.filter { $0.message?.isSoundingNoteOn ?? false }.count } == [42, 24])
        // 12 bars of 4/4 at 100 BPM.
        #expect(abs(outcome.file.durationInSeconds - 28.8) < 1e-9)
    }
}
