import Foundation
import MIDI
import Testing
import TestSupport

@testable import Engine

/// `sideman accompany` and `sideman continue`, run as a user would, on tiny models trained here.
@Suite struct OfflineTests {
    /// A one-track melody file: 8th notes at 100 bpm, two bars.
    func melodyFile(_ folder: String) throws -> String {
        var track = MIDITrack(events: [SMFEvent(tick: 0, .tempo(microsecondsPerQuarter: 600_000))])
        let pitches: [UInt8] = [60, 62, 64, 65, 67, 69, 71, 72, 71, 69, 67, 65, 64, 62, 60, 67]
        for (k, p) in pitches.enumerated() {
            track.events.append(SMFEvent(tick: k * 240, .noteOn(channel: 0, note: p, velocity: 90)))
            track.events.append(SMFEvent(tick: k * 240 + 200, .noteOff(channel: 0, note: p, velocity: 0)))
        }
        let path = "\(folder)/melody.mid"
        let file = MIDIFile(format: .singleTrack, division: .ticksPerQuarter(480), tracks: [track])
        try Data(MIDIFileWriter.write(file)).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func accompanyAddsATrackPerPartAndIsDeterministicForASeed() throws {
        let preset = try TinyModels.presetFolder(tag: "accompany")
        let folder = (preset as NSString).deletingLastPathComponent
        let input = try melodyFile(folder)
        var outputs: [[UInt8]] = []
        for (k, seed) in ["3", "3", "4"].enumerated() {
            let out = "\(folder)/out\(k).mid"
            let run = try Program.sideman(["accompany", input, "-o", out, "--preset", preset, "--seed", seed])
            #expect(run.status == 0, "\(run.stderr)")
            outputs.append(Array(try Data(contentsOf: URL(fileURLWithPath: out))))
        }
        #expect(outputs[0] == outputs[1], "the same seed gave different files")
        #expect(outputs[0] != outputs[2], "another seed gave the same file")
        let file = try MIDIFileReader.read(outputs[0]).file
        #expect(file.tracks.map(\.name) == [nil, "answer", "bass", "keys", "drums", "alto"])
        // The input is kept as it was; the parts play on their channels.
        let inputFile = try MIDIFileReader.read(path: input).file
        #expect(file.tracks[0] == inputFile.tracks[0])
        for (index, channel) in [(2, MIDIChannel(2)), (3, 3), (4, 9), (5, 4)] {
            let ons = file.tracks[index].events.compactMap(\.message).filter(\.isSoundingNoteOn)
            #expect(!ons.isEmpty, "track \(index) has no notes")
            #expect(ons.allSatisfy { $0.channel == channel })
        }
        // Every part's note ends.
        for track in file.tracks.dropFirst() {
            var tracker = NoteTracker()
            for e in track.events { if let m = e.message { tracker.observe(m) } }
            #expect(tracker.isSilent, "\(track.name ?? "?") leaves a note sounding")
        }
    }

    @Test func continueAnswersAfterTheFileForTheBarsAskedAndIsDeterministic() throws {
        let preset = try TinyModels.presetFolder(tag: "continue")
        let folder = (preset as NSString).deletingLastPathComponent
        let input = try melodyFile(folder)
        var outputs: [[UInt8]] = []
        for (k, seed) in ["1", "1", "2"].enumerated() {
            let out = "\(folder)/cont\(k).mid"
            let run = try Program.sideman(["continue", input, "-o", out, "--preset", preset, "--bars", "2", "--seed", seed])
            #expect(run.status == 0, "\(run.stderr)")
            outputs.append(Array(try Data(contentsOf: URL(fileURLWithPath: out))))
        }
        #expect(outputs[0] == outputs[1])
        #expect(outputs[0] != outputs[2])
        let file = try MIDIFileReader.read(outputs[0]).file
        #expect(file.tracks.map(\.name) == [nil, "answer"])
        let answer = file.tracks[1].events.filter { $0.message?.isSoundingNoteOn == true }.map(\.tick)
        // The file's last note ends at tick 3800; 2 bars of answer follow (3840 ticks at 480 per quarter).
        #expect(!answer.isEmpty)
        #expect(answer.allSatisfy { $0 >= 3800 && $0 < 3800 + 3840 + 120 })
    }

    @Test func missingAndCorruptInputsAndPresetsExitWithTheirCodes() throws {
        let preset = try TinyModels.presetFolder(tag: "errors")
        let folder = (preset as NSString).deletingLastPathComponent
        let missing = try Program.sideman(["accompany", "\(folder)/nope.mid", "-o", "\(folder)/x.mid", "--preset", preset])
        #expect(missing.status == 66)
        #expect(missing.stderr == "sideman: \(folder)/nope.mid: no such file\n")
        try "not midi".write(toFile: "\(folder)/bad.mid", atomically: true, encoding: .utf8)
        let corrupt = try Program.sideman(["continue", "\(folder)/bad.mid", "-o", "\(folder)/x.mid", "--preset", preset])
        #expect(corrupt.status == 65)
        #expect(corrupt.stderr.hasPrefix("sideman: \(folder)/bad.mid: "))
        let input = try melodyFile(folder)
        try FileManager.default.removeItem(atPath: "\(folder)/drums.safetensors")
        let noModel = try Program.sideman(["accompany", input, "-o", "\(folder)/x.mid", "--preset", preset])
        #expect(noModel.status == 66)
        #expect(noModel.stderr.contains("drums.safetensors: no such model file (parts[3].model)"))
        try "garbage".write(toFile: "\(folder)/drums.safetensors", atomically: true, encoding: .utf8)
        let badModel = try Program.sideman(["accompany", input, "-o", "\(folder)/x.mid", "--preset", preset])
        #expect(badModel.status == 65)
        #expect(!FileManager.default.fileExists(atPath: "\(folder)/x.mid"))
    }
}
