import Files
import Foundation
import MIDI
import Testing

@testable import Engine

@Suite struct RecordingTests {
    @Test func aSessionBecomesATempoTrackAPlayerTrackAndATrackPerPart() throws {
        let recorder = SessionRecorder(partNames: ["bass", "drums"], partChannels: [2, 9])
        recorder.tempo(120, at: 0)
        recorder.player(.noteOn(channel: 0, note: 60, velocity: 90), at: 48_000)
        recorder.player(.clock, at: 48_000)  // not a channel message: not kept
        recorder.output(.noteOn(channel: 2, note: 40, velocity: 80), at: 48_000)
        recorder.output(.noteOn(channel: 0, note: 60, velocity: 90), at: 48_128)  // the thru echo: the player's track has it
        recorder.player(.noteOff(channel: 0, note: 60, velocity: 0), at: 72_000)
        recorder.output(.noteOff(channel: 2, note: 40, velocity: 0), at: 72_000)
        recorder.tempo(60, at: 72_000)
        recorder.output(.noteOn(channel: 9, note: 36, velocity: 100), at: 120_000)
        recorder.output(.noteOff(channel: 9, note: 36, velocity: 0), at: 121_000)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sideman-rec-\(getpid()).mid").path
        try recorder.write(to: path, sampleRate: 48_000)
        let file = try MIDIFileReader.read(path: path).file
        #expect(file.tracks.count == 4)
        #expect(file.tracks.map(\.name) == ["tempo", "player", "bass", "drums"])
        let tempos = file.tracks[0].events.compactMap { e -> Int? in
            if case .meta(.tempo(let us)) = e.kind { return Int(us) }
            return nil
        }
        #expect(tempos == [500_000, 1_000_000])
        // Time 0 is the first event; 0.5 s at 120 bpm is 480 ticks; the tempo halves there.
        let bass = file.tracks[2].events.compactMap { e in e.message.map { (e.tick, $0) } }
        #expect(bass.map(\.0) == [0, 480])
        let drum = file.tracks[3].events.compactMap { e in e.message.map { _ in e.tick } }
        #expect(drum == [960, 970])
        #expect(file.tracks[1].events.compactMap(\.message).count == 2)
    }

    @Test func aRecordingThatCannotBeWrittenSaysWhyInTheSystemsWords() throws {
        let recorder = SessionRecorder(partNames: ["bass"], partChannels: [2])
        recorder.player(.noteOn(channel: 0, note: 60, velocity: 90), at: 0)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sideman-rec-fail-\(getpid())").path
        try? FileManager.default.removeItem(atPath: folder)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let fifo = "\(folder)/session.mid"
        try #require(mkfifo(fifo, 0o644) == 0)
        #expect(throws: FileProblem(fifo, "cannot create: is a FIFO, not a regular file", .cannotCreate)) {
            try recorder.write(to: fifo, sampleRate: 48_000)
        }
        let gone = "\(folder)/removed/session.mid"
        #expect(throws: FileProblem(gone, "cannot create: No such file or directory", .cannotCreate)) {
            try recorder.write(to: gone, sampleRate: 48_000)
        }
    }
}
