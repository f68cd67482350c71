import Foundation
import MIDI
import Music
import Neural
import Testing

@testable import Engine

/// The groove drummer: a MusicVAE of grooves moves it from one groove to another, phrase by phrase.
@Suite struct GrooveMorphTests {
    static let fps: UInt64 = 6000  // a 16th at 120 bpm, 48 kHz
    static let start: UInt64 = 4800

    /// Two bars of a rock beat (kick 1 and 3, snare 2 and 4, closed hats on the 8ths) and of a samba-like
    /// groove (kick on every beat, rim clicks, hats on every 16th), as nine-class combinations.
    static let rock: [Int] = (0..<32).map { s in
        DrumClasses.combination(of: (s % 2 == 0 ? [42] : []) + (s % 8 == 0 ? [36] : []) + (s % 8 == 4 ? [38] : []))
    }
    static let samba: [Int] = (0..<32).map { s in
        DrumClasses.combination(of: [42] + (s % 4 == 0 ? [36] : []) + ([3, 6, 10, 13].contains(s % 16) ? [37] : []))
    }

    static let vae = TinyModels.musicVAE(.drums, [rock, samba], latent: 4, epochs: 600)

    /// A groove file: the combinations as GM notes on channel 10, 120 ticks a 16th.
    static func grooveFile(_ line: [Int], to path: String) throws {
        var events: [SMFEvent] = []
        for (s, c) in line.enumerated() {
            for note in DrumClasses.notes(of: c) {
                events.append(SMFEvent(tick: s * 120, .noteOn(channel: 9, note: note, velocity: 100)))
                events.append(SMFEvent(tick: s * 120 + 60, .noteOff(channel: 9, note: note, velocity: 0)))
            }
        }
        let file = MIDIFile(format: .singleTrack, division: .ticksPerQuarter(480), tracks: [MIDITrack(events: events)])
        try Data(MIDIFileWriter.write(file)).write(to: URL(fileURLWithPath: path))
    }

    static func preset(controls: String = "") throws -> LoadedPreset {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sideman-groove-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try SafeTensors.write(vae, path: "\(folder)/grooves.safetensors")
        try grooveFile(rock, to: "\(folder)/rock.mid")
        try grooveFile(samba, to: "\(folder)/samba.mid")
        let yaml = """
            name: groove
            transport:
              bpm: 120
            performance:
              mode: accompaniment
              idle_bars: 0
              seed: 3
            \(controls)
            parts:
              - name: drums
                role: drums
                model: grooves.safetensors
                channel: 10
                temperature: 0.05
                groove:
                  from: rock.mid
                  to: samba.mid
                  bars: 2
            """
        try yaml.write(toFile: "\(folder)/groove.yaml", atomically: true, encoding: .utf8)
        return try PresetLocator(searchFolders: []).load("\(folder)/groove.yaml")
    }

    /// The kit pieces struck on each step of `steps` from the rig's output, as combinations.
    static func played(_ rig: EngineRig, steps: Range<Int>) -> [Int] {
        steps.map { s in
            let frame = start + UInt64(s) * fps
            let notes = rig.output.compactMap { m -> Int? in
                guard case .noteOn(9, let n, let v) = m.message, v > 0, m.frame >= frame, m.frame < frame + fps else { return nil }
                return Int(n)
            }
            return DrumClasses.combination(of: notes)
        }
    }

    func run(_ loaded: LoadedPreset, bars: Int, input: [TimedMIDIMessage] = []) throws -> (EngineRig, Part) {
        let parts = try PartLoader.parts(for: loaded)
        for part in parts { part.decodeVariationsInline() }
        var rig = EngineRig(MusicalEngine(preset: loaded.preset, parts: parts))
        let kick = playerNotes(start: Self.start, framesPerStep: Self.fps, steps: [0], pitches: [48], length: 1)
        rig.run(until: Self.start + UInt64(bars * 16) * Self.fps, input: kick + input)
        rig.finish()
        return (rig, parts[0])
    }

    /// No controller moved: the first phrase is the first groove, the next (a phrase is the whole 2-bar
    /// way here) the second, and there it stays.
    @Test func itGlidesFromTheFirstGrooveToTheSecond() throws {
        let (rig, part) = try run(Self.preset(), bars: 6)
        #expect(Self.played(rig, steps: 0..<32) == Self.rock)
        #expect(Self.played(rig, steps: 32..<64) == Self.samba)
        #expect(Self.played(rig, steps: 64..<96) == Self.samba)
        #expect(part.groovePosition == 1)
        #expect(rig.tracker.isSilent)
    }

    /// The groove controller at 0 keeps the drummer on the first groove.
    @Test func theControllerHoldsItWhereItPoints() throws {
        let loaded = try Self.preset(controls: "controls:\n  groove: 30")
        let hold = [TimedMIDIMessage(time: Self.start - 1000, message: .controlChange(channel: 0, controller: 30, value: 0))]
        let (rig, part) = try run(loaded, bars: 6, input: hold)
        #expect(Self.played(rig, steps: 0..<96) == Self.rock + Self.rock + Self.rock)
        #expect(part.groovePosition == 0)
    }

    @Test func aMissingOrEmptyGrooveFileIsNamed() throws {
        let loaded = try Self.preset()
        try FileManager.default.removeItem(atPath: (loaded.path as NSString).deletingLastPathComponent + "/samba.mid")
        #expect {
            try PartLoader.parts(for: loaded)
        } throws: { error in
            let e = error as! PartLoadError
            return e.path.hasSuffix("samba.mid") && e.cannotRead && e.problem.contains("parts[0].groove.to")
        }
    }
}
