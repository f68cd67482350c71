import Foundation
import MIDI
import Music
import Neural
import Testing

@testable import Engine

/// The variation part: a MusicVAE hears the player's phrase, and answers on the next downbeat after the
/// phrase ends with its variation, decoded off the engine's path.
@Suite struct VariationPartTests {
    static let fps: UInt64 = 6000  // a 16th at 120 bpm, 48 kHz
    static let start: UInt64 = 4800
    static let pitches: [UInt8] = [60, 62, 64, 65, 67, 65, 64, 62]

    /// The player's bar of 8ths as the part hears it (NOTE_ON, held, ..., NOTE_OFF after the last), then a
    /// silent bar: two bars of 16 steps.
    static func heardLine(transposedBy shift: Int) -> [Int] {
        var line = [Int](repeating: 0, count: 32)
        for (k, p) in pitches.enumerated() { line[2 * k] = EventVocabulary.firstPitchIndex + Int(p) + shift }
        line[16] = 1
        return line
    }

    /// A tiny MusicVAE that has learned to give back the phrase in every key near its own (a few seconds).
    static let vae = TinyModels.musicVAE(.melody, (-6...6).map(heardLine(transposedBy:)), latent: 8, epochs: 300)

    static let yaml = """
        name: variation
        transport:
          bpm: 120
        listener:
          phrase_end_beats: 2
        performance:
          mode: call-and-response
          continuation_bars: 3
          seed: 5
        parts:
          - name: answer
            role: variation
            model: vae.safetensors
            channel: 2
            range: [48, 84]
            temperature: 0.05
            amount: 0
        """

    func engine(inline: Bool) throws -> (MusicalEngine, Part) {
        let preset = try PresetReader.read(yaml: Self.yaml, defaultName: "variation")
        let part = try Part(settings: preset.parts[0], variation: MusicVAE(Self.vae), port: 0, seed: 5)
        if inline { part.decodeVariationsInline() }
        return (MusicalEngine(preset: preset, parts: [part]), part)
    }

    /// The phrase's 8ths again from step 32.
    static let answerFrames: [UInt64] = (0..<8).map { (k: Int) -> UInt64 in start + UInt64(32 + 2 * k) * fps }

    var phrase: [TimedMIDIMessage] {
        playerNotes(start: Self.start, framesPerStep: Self.fps, steps: Array(stride(from: 0, to: 16, by: 2)), pitches: Self.pitches)
    }

    /// Amount 0: the answer is the phrase as the model gives it back, from the downbeat after the phrase
    /// ended (silence from step 16, the end at step 24, the answer's first downbeat at 32).
    @Test func theAnswerIsThePhraseOnTheNextDownbeat() throws {
        let (engine, part) = try engine(inline: true)
        var rig = EngineRig(engine)
        rig.run(until: Self.start + 72 * Self.fps, input: phrase)
        rig.finish()
        let ons = rig.output.compactMap { m -> (UInt64, UInt8)? in
            if case .noteOn(1, let p, let v) = m.message, v > 0 { return (m.frame, p) }
            return nil
        }
        #expect(ons.map(\.1) == Self.pitches)
        #expect(ons.map(\.0) == Self.answerFrames)
        #expect(part.variationFigures.decodes >= 1 && part.variationFigures.lateDownbeats == 0)
        #expect(rig.tracker.isSilent)
    }

    /// On its own thread, as the daemon runs it: the decode is asked for when the player's note stops and
    /// has finished long before the phrase ends (two beats later); the answer is the one decoded inline.
    @Test func theDecoderThreadFinishesWithinThePhraseEnd() throws {
        let (engine, part) = try engine(inline: false)
        var rig = EngineRig(engine)
        // Up to the step after the silence began: the decode has been asked for.
        rig.run(until: Self.start + 17 * Self.fps + 256, input: phrase)
        #expect(part.variationFigures.decodes == 1)
        // Wall time for the thread, far less than the two beats (0.5 s at 120 bpm) the phrase end waits.
        let deadline = ContinuousClock.now + .seconds(5)
        while part.variationFigures.lastDecode == .zero && ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.005) }
        let took = part.variationFigures.lastDecode
        #expect(took > .zero && took < .milliseconds(500), "decode took \(took)")
        rig.run(until: Self.start + 72 * Self.fps, input: phrase)
        rig.finish()
        let ons = rig.noteOns(channel: 1)
        #expect(ons == Self.answerFrames)
        #expect(part.variationFigures.lateDownbeats == 0)
        #expect(rig.tracker.isSilent)
    }

    /// The player's return cuts the answer, as for a continuation; their next silence asks for a new one.
    @Test func thePlayerTakesTheTurnBack() throws {
        let (engine, part) = try engine(inline: true)
        var rig = EngineRig(engine)
        let comeback = playerNotes(start: Self.start, framesPerStep: Self.fps, steps: [36], pitches: [67], length: 2)
        rig.run(until: Self.start + 80 * Self.fps, input: phrase + comeback)
        rig.finish()
        let ons = rig.noteOns(channel: 1)
        let returned = Self.start + 36 * Self.fps
        // The first answer up to the player's note; the second from the downbeat after their next silence.
        #expect(ons.contains { $0 < returned })
        #expect(!ons.contains { $0 > returned + UInt64(rig.period) && $0 < Self.start + 48 * Self.fps })
        #expect(ons.contains { $0 >= Self.start + 48 * Self.fps })
        #expect(part.variationFigures.decodes >= 2)
        #expect(rig.tracker.isSilent)
    }

    @Test func aVariationPartNeedsAMusicVAEOfMelodiesIn4_4() throws {
        let preset = try PresetReader.read(yaml: Self.yaml, defaultName: "variation")
        #expect(throws: WeightsError.self) { try Part(settings: preset.parts[0], model: makeModel(from: TinyModels.melody), port: 0, seed: 1) }
        var continuation = preset.parts[0]
        continuation.role = .continuation
        #expect(throws: WeightsError.self) { try Part(settings: continuation, variation: MusicVAE(Self.vae), port: 0, seed: 1) }
        #expect(throws: PresetError.self) {
            try PresetReader.read(yaml: Self.yaml.replacingOccurrences(of: "role: variation", with: "role: continuation"), defaultName: "x")
        }
    }
}
