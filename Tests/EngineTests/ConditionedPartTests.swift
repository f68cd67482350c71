import Foundation
import MIDI
import Neural
import Testing

@testable import Engine

/// A part whose model takes the player's melody note as an input (a soprano-conditioned model, as the
/// chorale preset's voices): it sings under the note the player plays, and waits for that note.
@Suite struct ConditionedPartTests {
    static let fps: UInt64 = 6000  // a 16th at 120 bpm, 48 kHz
    static let start: UInt64 = 4800

    /// Voices a fixed shape under a soprano that wanders at random (so only the condition can tell the model
    /// where to sing): an octave and a fourth-plus-octave below, each soprano held for 4 steps.
    static let weights: WeightSet = {
        var rng = TrainingRandom(seed: 11)
        let pieces: [TrainingPiece] = (0..<24).map { _ in
            var frames: [[Int]] = []
            var soprano: [[Int]] = []
            for _ in 0..<16 {
                let s = 40 + Int(rng.next() % 12)  // piano units: MIDI 61...72
                for _ in 0..<4 {
                    frames.append([s - 17, s - 12])
                    soprano.append([s])
                }
            }
            return TrainingPiece(frames: frames).conditioned(by: soprano)
        }
        let config = TrainingModelConfig(family: .basic, data: .frames, units: 88, hidden: 32, layers: 1, head: .pitchChain,
                                         conditioning: .soprano)
        var options = TrainingOptions()
        options.epochs = 30
        options.batch = 8
        options.steps = 32
        options.learningRate = 2e-2
        options.transpose = 0
        let trainer = Trainer(model: config.makeModel(batch: 8, maxSteps: 32, seed: 2), encoding: SequenceEncoding(config, firstPitchIndex: 0),
                              train: pieces, valid: pieces, options: options)
        try! trainer.run()
        return trainer.best
    }()

    static let yaml = """
        name: choir
        transport:
          bpm: 120
        listener:
          on_step_window_ms: 30
        performance:
          mode: accompaniment
          seed: 3
        parts:
          - name: choir
            role: voices
            model: choir.safetensors
            channel: 2
            range: [36, 72]
            temperature: 0.3
        """

    func engine() throws -> MusicalEngine {
        let preset = try PresetReader.read(yaml: Self.yaml, defaultName: "choir")
        let part = try Part(settings: preset.parts[0], model: makeModel(from: Self.weights), conditioning: .soprano, port: 0, seed: 3)
        return MusicalEngine(preset: preset, parts: [part])
    }

    @Test func theVoicesSingUnderTheNoteThePlayerPlaysAndComeWithIt() throws {
        var rng = TrainingRandom(seed: 5)
        let melody: [UInt8] = (0..<12).map { _ in UInt8(61 + Int(rng.next() % 12)) }
        let steps = Array(stride(from: 0, to: 48, by: 4))
        var rig = EngineRig(try engine())
        rig.run(until: Self.start + 52 * Self.fps, input: playerNotes(start: Self.start, framesPerStep: Self.fps, steps: steps, pitches: melody, length: 4))
        rig.finish()
        #expect(rig.tracker.isSilent, "a note was left sounding")
        let ons = rig.output.compactMap { m -> (UInt64, UInt8)? in
            if case .noteOn(1, let p, let v) = m.message, v > 0 { return (m.frame, p) }
            return nil
        }
        var followed = 0
        for (k, step) in steps.enumerated() {
            let strike = Self.start + UInt64(step) * Self.fps
            let sung = ons.filter { $0.0 >= strike && $0.0 < strike + Self.fps }.map(\.1)
            // The step waited for the player's note: nothing for it was started before the note.
            #expect(!ons.contains { $0.0 >= strike - Self.fps / 2 && $0.0 < strike }, "voices started before the note on step \(step)")
            if sung.contains(melody[k] - 12) && sung.contains(melody[k] - 17) { followed += 1 }
            // Whatever they start comes within two periods of the player's note.
            for (frame, _) in ons where frame >= strike && frame < strike + Self.fps {
                #expect(frame - strike <= UInt64(2 * rig.period))
            }
        }
        // A model that did not hear the soprano could not place both voices under a random melody.
        #expect(followed >= 9, "the voices followed the melody on \(followed) of 12 notes")
    }

    @Test func aPartRefusesAModelWhoseInputsDoNotFitItsCondition() throws {
        let preset = try PresetReader.read(yaml: Self.yaml, defaultName: "choir")
        // Conditioned weights read without their condition: 176 inputs where an unconditioned model has 88.
        #expect(throws: WeightsError.self) { try Part(settings: preset.parts[0], model: makeModel(from: Self.weights), port: 0, seed: 1) }
        #expect(throws: WeightsError.self) {
            try Part(settings: preset.parts[0], model: makeModel(from: Self.weights), conditioning: .harmony, port: 0, seed: 1)
        }
    }
}
