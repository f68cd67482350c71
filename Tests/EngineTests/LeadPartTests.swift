import Foundation
import MIDI
import Music
import Neural
import Testing

@testable import Engine

/// The lead part: MidiNet plays a melody bar by bar over the player's chords, each bar generated a bar
/// ahead off the engine's path, and again when the chord heard is not the one it was planned over.
@Suite struct LeadPartTests {
    static let fps: UInt64 = 6000  // a 16th at 120 bpm, 48 kHz
    static let start: UInt64 = 4800

    static let yaml = """
        name: lead
        transport:
          bpm: 120
        performance:
          mode: accompaniment
          idle_bars: 2
          seed: 5
        parts:
          - name: lead
            role: lead
            model: lead.safetensors
            channel: 5
            range: [60, 84]
            temperature: 0.5
        """

    static func engine(inline: Bool, yaml: String = yaml) throws -> (MusicalEngine, Part) {
        let preset = try PresetReader.read(yaml: yaml, defaultName: "lead")
        let part = try Part(settings: preset.parts[0], lead: MidiNet(TinyModels.midiNet), port: 0, seed: 5)
        if inline { part.decodeVariationsInline() }
        return (MusicalEngine(preset: preset, parts: [part]), part)
    }

    static let triads: [String: [UInt8]] = ["C": [48, 52, 55], "F": [53, 57, 60], "G": [55, 59, 62], "Am": [57, 60, 64]]

    /// The player's chords, one struck on each bar's downbeat and held through the bar, from `firstBar` on.
    static func chords(_ names: [String], firstBar: Int = 0) -> [TimedMIDIMessage] {
        names.enumerated().flatMap { b, name in
            let pitches = triads[name]!
            return playerNotes(start: start, framesPerStep: fps, steps: Array(repeating: 16 * (firstBar + b), count: 3), pitches: pitches, length: 16)
        }
    }

    /// Silence for a bar, then chords: no lead note before the first chord, a melody over them, every note
    /// ended after the band stops.
    @Test func theLeadStartsWithThePlayersFirstChord() throws {
        let (engine, part) = try Self.engine(inline: true)
        var rig = EngineRig(engine)
        rig.run(until: Self.start + 16 * 9 * Self.fps, input: Self.chords(["C", "Am", "F", "G"], firstBar: 1))
        rig.finish()
        let ons = rig.noteOns(channel: 4)
        let firstChord = Self.start + 16 * Self.fps
        #expect(!ons.isEmpty)
        #expect(ons.allSatisfy { $0 >= firstChord })
        // Every bar was asked for; each change the player's loop could not yet foretell was asked for again.
        #expect(part.leadFigures.bars >= 4)
        #expect(rig.tracker.isSilent)
    }

    /// A loop the player goes round: once it has come round, each bar is planned over the chord it opens
    /// with, and no bar is generated again.
    @Test func aForetoldLoopIsNotGeneratedAgain() throws {
        let (engine, part) = try Self.engine(inline: true)
        var rig = EngineRig(engine)
        let loop = Array(repeating: ["C", "F"], count: 6).flatMap { $0 }
        rig.run(until: Self.start + 16 * 6 * Self.fps + 8 * Self.fps, input: Self.chords(loop))
        let early = part.leadFigures.regenerated
        #expect(early >= 1)
        rig.run(until: Self.start + 16 * 12 * Self.fps, input: Self.chords(loop))
        #expect(part.leadFigures.regenerated == early, "\(part.leadFigures)")
        rig.finish()
        #expect(rig.tracker.isSilent)
    }

    /// On its own thread, as the daemon runs it (here with 5 ms of real time for each step, a 25th of a
    /// 16th at 120 bpm): a bar takes far less than the beat it has, and the lead plays.
    @Test func theDecoderThreadKeepsUp() throws {
        let (engine, part) = try Self.engine(inline: false)
        var rig = EngineRig(engine)
        let input = Self.chords(["C", "C", "Am", "Am"])
        for step in 1...64 {
            rig.run(until: Self.start + UInt64(step) * Self.fps, input: input)
            Thread.sleep(forTimeInterval: 0.005)
        }
        let took = part.leadFigures.lastBar
        #expect(took > .zero && took < .milliseconds(500), "a bar took \(took)")
        #expect(part.leadFigures.bars >= 4)
        #expect(rig.noteOns(channel: 4).contains { $0 >= Self.start + 32 * Self.fps })
        rig.finish()
        #expect(rig.tracker.isSilent)
    }

    /// Muted at the start (an optional voice): silent until its mute controller brings it in.
    @Test func aMutedLeadComesInOnItsController() throws {
        let yaml = Self.yaml + "\n    mute_cc: 33\n    muted: true\n"
        let (engine, _) = try Self.engine(inline: true, yaml: yaml)
        var rig = EngineRig(engine)
        let bringIn = TimedMIDIMessage(time: Self.start + 32 * Self.fps, message: .controlChange(channel: 0, controller: 33, value: 0))
        rig.run(until: Self.start + 16 * 5 * Self.fps, input: Self.chords(["C", "Am", "F", "G", "C"]) + [bringIn])
        rig.finish()
        let ons = rig.noteOns(channel: 4)
        #expect(!ons.isEmpty && ons.allSatisfy { $0 >= bringIn.time })
        #expect(rig.tracker.isSilent)
        #expect(throws: PresetError.self) { try PresetReader.read(yaml: Self.yaml + "\n    muted: true\n", defaultName: "x") }
    }

    @Test func aLeadPartNeedsAMidiNet() throws {
        let preset = try PresetReader.read(yaml: Self.yaml, defaultName: "lead")
        #expect(throws: WeightsError.self) { try Part(settings: preset.parts[0], model: makeModel(from: TinyModels.melody), port: 0, seed: 1) }
        var bass = preset.parts[0]
        bass.role = .bass
        #expect(throws: WeightsError.self) { try Part(settings: bass, lead: MidiNet(TinyModels.midiNet), port: 0, seed: 1) }
        var eighths = preset.parts[0]
        eighths.grid = .eighth
        #expect(throws: WeightsError.self) { try Part(settings: eighths, lead: MidiNet(TinyModels.midiNet), port: 0, seed: 1) }
    }
}
