import Foundation
import MIDI
import Testing

@testable import Engine

/// The chord input through the whole engine, as `sideman accompany` and the daemon run it: a split
/// keyboard's right hand is the band's melody and never its chord.
@Suite struct ChordInputEngineTests {
    static let fps: UInt64 = 6000  // a 16th at 120 bpm, 48 kHz
    static let start: UInt64 = 4800

    func engine(chordInput: String, thru: String = "") throws -> MusicalEngine {
        let yaml = TinyModels.bandYAML.replacingOccurrences(
            of: "listener:\n  phrase_end_beats: 2\n",
            with: "listener:\n  phrase_end_beats: 2\n  chord_input: \(chordInput)\n\(thru)")
        let preset = try PresetReader.read(yaml: yaml, defaultName: "band")
        #expect(preset.listener.chordInput.mode != .full || chordInput.contains("full"))
        let parts = try preset.parts.enumerated().map { k, s in try TinyModels.part(s, seed: UInt64(k)) }
        return MusicalEngine(preset: preset, parts: parts)
    }

    /// Left hand: C, Am, F, G7 a bar each, struck on the downbeat and again on beat 3. Right hand (with
    /// `melody`): a tune in 8ths full of notes outside the bar's chord.
    func input(melody: Bool) -> [TimedMIDIMessage] {
        let chords: [[UInt8]] = [[48, 52, 55], [45, 48, 52], [41, 45, 48], [43, 47, 50, 53]]
        var events: [TimedMIDIMessage] = []
        for (bar, chord) in chords.enumerated() {
            for beat in [0, 8] {
                events += playerNotes(
                    start: Self.start, framesPerStep: Self.fps, steps: Array(repeating: bar * 16 + beat, count: chord.count),
                    pitches: chord, length: 8)
            }
        }
        if melody {
            let tune: [UInt8] = [74, 77, 81, 79, 72, 74, 71, 69, 84, 83, 81, 79, 76, 77, 74, 72]
            let steps = Array(stride(from: 0, to: 64, by: 4))
            events += playerNotes(start: Self.start, framesPerStep: Self.fps, steps: steps, pitches: tune, length: 3)
        }
        return events
    }

    /// The chord the engine's listener gives the parts (bass and keys read it on every step), cycle by
    /// cycle, and everything the engine sent.
    func play(_ engine: MusicalEngine, _ input: [TimedMIDIMessage]) -> (chords: [Chord?], output: [ScheduledMessage]) {
        var rig = EngineRig(engine)
        var chords: [Chord?] = []
        while rig.now < Self.start + 64 * Self.fps {
            rig.run(until: rig.now + UInt64(rig.period), input: input)
            if case .playing(let session) = rig.engine.stage { chords.append(session.listener.chord) } else { chords.append(nil) }
        }
        rig.finish()
        #expect(rig.tracker.isSilent)
        return (chords, rig.output)
    }

    @Test func inSplitModeTheRightHandsMelodyLeavesTheBassItsChord() throws {
        let split = "{mode: split, split_point: C4}"
        let left = play(try engine(chordInput: split), input(melody: false))
        let both = play(try engine(chordInput: split), input(melody: true))
        #expect(both.chords == left.chords)
        let named = Set(both.chords.compactMap { $0?.description })
        #expect(named == ["C", "Am", "F", "G7"], "\(named)")
        // The band played (the bass among them), and the right hand went through the thru.
        let bassNotes = both.output.filter { $0.message.isSoundingNoteOn && $0.message.channel == 2 }
        #expect(!bassNotes.isEmpty)
        // The same hands on a full keyboard: the tune's notes enter the chord.
        let full = play(try engine(chordInput: "{mode: full}"), input(melody: true))
        #expect(full.chords != left.chords)
    }

    @Test func theThruEchoesBothHandsUnlessTheChordHandIsSilenced() throws {
        func echoed(_ thru: String) throws -> [UInt8] {
            let played = play(try engine(chordInput: "{mode: fingered, split_point: C4}", thru: thru), input(melody: true))
            return played.output.compactMap {
                if case .noteOn(0, let note, let v) = $0.message, v > 0 { return note }
                return nil
            }
        }
        let both = try echoed("")
        #expect(both.contains { $0 < 60 } && both.contains { $0 >= 60 })
        let melodyOnly = try echoed("thru: {chord_hand: false}\n")
        #expect(!melodyOnly.isEmpty && melodyOnly.allSatisfy { $0 >= 60 })
    }
}
