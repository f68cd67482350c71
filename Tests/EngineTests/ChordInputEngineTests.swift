import Foundation
import MIDI
import Testing

@testable import Engine

/// The chord input through the whole engine, as `sideman accompany` and the daemon run it: a split
/// keyboard's right hand is the band's melody and never its chord.
@Suite struct ChordInputEngineTests {
    static let fps: UInt64 = 6000  // a 16th at 120 bpm, 48 kHz
    static let start: UInt64 = 4800

    func engine(chordInput: String, thru: String = "", edit: (inout Preset) -> Void = { _ in }) throws -> MusicalEngine {
        let yaml = TinyModels.bandYAML.replacingOccurrences(
            of: "listener:\n  phrase_end_beats: 2\n",
            with: "listener:\n  phrase_end_beats: 2\n  chord_input: \(chordInput)\n\(thru)")
        var preset = try PresetReader.read(yaml: yaml, defaultName: "band")
        edit(&preset)
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

    /// Committing late, bass and keys hold back the beats for the player's chord: on a split keyboard the
    /// chord hand's, not the melody's. The right hand strikes each beat first, the left hand's chord comes
    /// 15 to 22 ms later, a period between its notes: every bass note on a beat comes after the chord's
    /// third note. (Had the melody note counted as the chord's first, the harmony would have gone a
    /// chord's spread, 12 ms, after it, with the old chord.)
    @Test func committingLateTheHarmonyWaitsForTheLeftHandsChordNotTheRightHandsNote() throws {
        let progression: [[UInt8]] = [[48, 52, 55], [45, 48, 52], [41, 45, 48], [43, 47, 50]]
        var rig = EngineRig(try engine(chordInput: "{mode: split, split_point: C4}") {
            $0.performance.mode = .accompaniment
            $0.parts.removeAll { $0.role == .counterMelody || $0.role == .continuation }
        })
        var input: [TimedMIDIMessage] = []
        var thirds: [UInt64] = []
        for bar in 0..<8 {
            for beat in 0..<4 {
                let on = Self.start + UInt64(bar * 16 + beat * 4) * Self.fps
                let melody = UInt8(72 + (bar + beat) % 5)
                input.append(TimedMIDIMessage(time: on + 17, message: .noteOn(channel: 0, note: melody, velocity: 90)))
                input.append(TimedMIDIMessage(time: on + 3 * Self.fps, message: .noteOff(channel: 0, note: melody, velocity: 0)))
                for (k, pitch) in progression[bar % 4].enumerated() {
                    let at = on + 17 + UInt64((6 + k) * rig.period)
                    input.append(TimedMIDIMessage(time: at, message: .noteOn(channel: 0, note: pitch, velocity: 90)))
                    input.append(TimedMIDIMessage(time: on + 4 * Self.fps - 200, message: .noteOff(channel: 0, note: pitch, velocity: 0)))
                    if k == 2 { thirds.append(at) }
                }
            }
        }
        rig.run(until: Self.start + 8 * 16 * Self.fps, input: input)
        rig.finish()
        #expect(rig.tracker.isSilent)
        // Bass note-ons near a beat from the third bar (the first two teach the schedule the player's
        // beats), as frames after that beat's third chord note.
        var offsets: [Int64] = []
        for on in rig.noteOns(channel: 2) where on >= Self.start + 32 * Self.fps {
            guard let third = thirds.min(by: { abs(on.frames(since: $0)) < abs(on.frames(since: $1)) }),
                abs(on.frames(since: third)) < Int64(Self.fps) / 2
            else { continue }
            offsets.append(on.frames(since: third))
        }
        #expect(offsets.count >= 4, "\(offsets.count) bass notes on the beats")
        #expect(offsets.allSatisfy { $0 >= 0 && $0 <= Int64(rig.period) }, "after the chord's third note: \(offsets.sorted())")
    }
}
