import Foundation
import MIDI
import Neural
import Testing

@testable import Engine

/// A chords part whose model tells a struck pitch from a held one (frame_layout onset_hold, 176 units): it
/// plays re-strikes as re-strikes, holds what it holds, and ends the rest.
@Suite struct OnsetHoldPartTests {
    func settings(_ role: PartRole = .chords, range: ClosedRange<UInt8> = 48...76) -> PartSettings {
        var s = PartSettings(name: "comp", role: role, model: "m.safetensors", channel: 4)
        s.lowestNote = range.lowerBound
        s.highestNote = range.upperBound
        return s
    }

    static let c4 = 60 - 21, e4 = 64 - 21, g4 = 67 - 21, held = 88

    @Test func theVocabularyComesFromTheModelsMetadata() throws {
        let weights = TinyModels.onsetChords
        #expect(weights.metadata["frame_layout"] == "onset_hold")
        #expect(try PartVocabulary.of(makeModel(from: weights), metadata: weights.metadata) == .onsetHold)
        // Without the key the 176 units are no vocabulary a part knows; a model of 88 cannot be onset and hold.
        var bare = weights.metadata
        bare["frame_layout"] = nil
        #expect(throws: WeightsError.self) { try PartVocabulary.of(makeModel(from: weights), metadata: bare) }
        #expect(throws: WeightsError.self) { try PartVocabulary.of(makeModel(from: TinyModels.chords), layout: .onsetHold) }
        #expect(try PartVocabulary.of(makeModel(from: TinyModels.chords), metadata: TinyModels.chords.metadata) == .noteSets)
        // Chords and voices sustain; drums are hits and lines are events.
        #expect(PartVocabulary.onsetHold.fits(.chords) && PartVocabulary.onsetHold.fits(.voices))
        #expect(!PartVocabulary.onsetHold.fits(.drums) && !PartVocabulary.onsetHold.fits(.bass))
        #expect(throws: WeightsError.self) { try TinyModels.onsetPart(settings(.drums)) }
        #expect(try TinyModels.onsetPart(settings()).vocabulary == .onsetHold)
    }

    /// The preset loader reads the layout from the model file.
    @Test func theLoaderPlaysAnOnsetAndHoldModelFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sideman-onsets-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try SafeTensors.write(TinyModels.onsetChords, path: "\(folder)/comping.safetensors")
        let preset = try PresetReader.read(
            yaml: "name: t\nparts:\n  - {name: keys, role: chords, model: comping.safetensors, channel: 4}\n", defaultName: "t")
        let parts = try PartLoader.parts(for: LoadedPreset(preset: preset, path: "\(folder)/t.yaml"))
        #expect(parts.map(\.vocabulary) == [.onsetHold])
    }

    /// Everything one step writes, in frame order (emission order within a frame).
    func messages(_ out: [ScheduledMessage]) -> [(frame: UInt64, on: Bool, pitch: UInt8)] {
        out.enumerated().sorted { ($0.element.frame, $0.offset) < ($1.element.frame, $1.offset) }.compactMap { m in
            switch m.element.message {
            case .noteOn(_, let p, let v) where v > 0: return (m.element.frame, true, p)
            case .noteOn(_, let p, _), .noteOff(_, let p, _): return (m.element.frame, false, p)
            default: return nil
            }
        }
    }

    @Test func struckUnitsStartHeldUnitsSustainAndTheRestEnd() {
        var hands = PartHands(settings: settings(), vocabulary: .onsetHold, port: 0, sampleRate: 48000, seed: 1)
        func play(_ step: Int, _ units: [Int]) -> [(frame: UInt64, on: Bool, pitch: UInt8)] {
            var out: [ScheduledMessage] = []
            hands.beginStep()
            // Decided half a step ahead, as the engine decides steps before they sound.
            let frame = UInt64(1000 + 100 * step)
            hands.render(FeatureList(units), step: Int64(step), stepFrame: frame, earliest: frame - 50, framesPerStep: 100, velocity: 80, out: &out)
            return messages(out)
        }
        let c = Self.c4, e = Self.e4, g = Self.g4, h = Self.held
        // C and E struck.
        var step = play(0, [c, e])
        #expect(step.map(\.on) == [true, true] && step.map(\.pitch) == [60, 64] && step.allSatisfy { $0.frame == 1000 })
        // Held, and a held G that is not sounding: nothing is written, and G does not start.
        #expect(hands.pitches(of: FeatureList([c + h, e + h, g + h])) == PitchSet([60, 64]))
        step = play(1, [c + h, e + h, g + h])
        #expect(step.isEmpty)
        #expect(hands.sounding == PitchSet([60, 64]))
        // Decided late (the step's frame is the first writable one), a re-struck C's new note-on still
        // comes after its note-off.
        var late: [ScheduledMessage] = []
        var lateHands = hands
        lateHands.beginStep()
        lateHands.render(FeatureList([c, e + h]), step: 2, stepFrame: 1200, earliest: 1200, framesPerStep: 100, velocity: 80, out: &late)
        #expect(messages(late).map(\.on) == [false, true] && messages(late).map(\.frame) == [1200, 1201])
        // C struck again while it sounds: its note-off one frame before the step, then its new note-on.
        step = play(2, [c, e + h])
        #expect(step.count == 2)
        #expect(step[0].on == false && step[0].pitch == 60 && step[0].frame == 1199)
        #expect(step[1].on == true && step[1].pitch == 60 && step[1].frame == 1200)
        // E held alone: C, in neither half, ends.
        step = play(3, [e + h])
        #expect(step.count == 1 && step[0].on == false && step[0].pitch == 60)
        #expect(hands.sounding == PitchSet([64]))
        // An empty frame ends everything.
        step = play(4, [])
        #expect(step.count == 1 && step[0].on == false && step[0].pitch == 64)
        #expect(hands.sounding.isEmpty)
    }

    /// A reaction's redraw takes back what the step started and the redraw does not keep; a pitch both
    /// draws strike sounds on, not struck twice.
    @Test func aRedrawKeepsWhatItStrikesAgainSounding() {
        var hands = PartHands(settings: settings(), vocabulary: .onsetHold, port: 0, sampleRate: 48000, seed: 1)
        var out: [ScheduledMessage] = []
        hands.beginStep()
        hands.render(FeatureList([Self.c4, Self.e4]), step: 0, stepFrame: 1000, earliest: 1000, framesPerStep: 100, velocity: 80, out: &out)
        out.removeAll()
        let redraw = FeatureList([Self.c4, Self.g4])
        hands.takeBackStep(at: 1030, keeping: hands.pitches(of: redraw), out: &out)
        hands.render(redraw, step: 0, stepFrame: 1030, earliest: 1030, framesPerStep: 100, velocity: 80, out: &out)
        let written = messages(out)
        #expect(written.count == 2, "\(written)")
        #expect(written.contains { !$0.on && $0.pitch == 64 } && written.contains { $0.on && $0.pitch == 67 })
        #expect(!written.contains { $0.pitch == 60 })
        #expect(hands.sounding == PitchSet([60, 67]))
        // The next step strikes C again as usual.
        out.removeAll()
        hands.beginStep()
        hands.render(FeatureList([Self.c4]), step: 1, stepFrame: 1100, earliest: 1100, framesPerStep: 100, velocity: 80, out: &out)
        #expect(messages(out).filter { $0.pitch == 60 }.map(\.on) == [false, true])
    }

    /// The tiny model through a part: held units are only ever of sounding pitches, everything stays in the
    /// range, the part re-strikes, and the density control thins strikes (at keep 0 nothing starts).
    @Test func aPartPlaysTheOnsetAndHoldModel() throws {
        let part = try TinyModels.onsetPart(settings(), seed: 4)
        var out: [ScheduledMessage] = []
        var restrikes = 0
        for step in 0..<64 {
            part.advance()
            let before = part.sounding
            let choice = part.choose(context: PartContext(), temperature: 0.5, keep: 1)
            for k in 0..<choice.count {
                let unit = Int(choice.indices[k])
                #expect(unit < 176)
                if unit >= 88 { #expect(before.contains(UInt8(unit - 88 + 21)), "held unit \(unit) of a pitch not sounding") }
                if unit < 88, before.contains(UInt8(unit + 21)) { restrikes += 1 }
            }
            part.render(choice, step: Int64(step), stepFrame: UInt64(step * 100 + 100), earliest: 0, framesPerStep: 100, velocity: 80, out: &out)
            for p in part.sounding.sorted { #expect((48...76).contains(p)) }
        }
        #expect(restrikes > 0, "the part never struck a sounding pitch again")
        var tracker = NoteTracker()
        part.silence(at: 10_000, out: &out)
        for m in messages(out) { tracker.observe(m.on ? .noteOn(channel: 3, note: m.pitch, velocity: 80) : .noteOff(channel: 3, note: m.pitch, velocity: 0)) }
        #expect(tracker.isSilent)

        let thinned = try TinyModels.onsetPart(settings(), seed: 4)
        var none: [ScheduledMessage] = []
        for step in 0..<32 {
            thinned.advance()
            let choice = thinned.choose(context: PartContext(), temperature: 0.5, keep: 0)
            thinned.render(choice, step: Int64(step), stepFrame: UInt64(step * 100 + 100), earliest: 0, framesPerStep: 100, velocity: 80, out: &none)
        }
        #expect(!none.contains { $0.message.isSoundingNoteOn })
    }
}
