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

/// A Lookback continuation reads the player's phrase in the preset's meter: its lookbacks reach back by the
/// bar of that meter, and its step clock counts from the bar's downbeat.
@Suite struct LookbackMeterTests {
    static let weights: WeightSet = {
        let config = TrainingModelConfig(family: .lookback, data: .events, units: 130, hidden: 16, layers: 1, head: .softmax)
        var options = TrainingOptions()
        options.epochs = 1
        options.batch = 4
        options.steps = 16
        options.transpose = 0
        let trainer = Trainer(model: config.makeModel(batch: 4, maxSteps: 16, seed: 1), encoding: SequenceEncoding(config, firstPitchIndex: 2),
                              train: TinyModels.melodyPieces, valid: Array(TinyModels.melodyPieces.prefix(2)), options: options)
        try! trainer.run()
        return trainer.best
    }()

    /// A transformer reading the Lookback features under the beat condition (the folk transformer's inputs),
    /// untrained: what is checked is the bar its features look back by, not what it plays.
    static let lookbackTransformer = TransformerConfig(
        inputSize: LookbackEncoder.inputSize(classes: 130) + Conditioning.beatUnits, width: 16, layers: 1, heads: 2, mlp: 32,
        window: 24, outputs: 130, lookback: .init(eventClasses: 130, stepsPerBar: 16))

    @Test(arguments: [("3/4", 12), ("6/8", 12), ("4/4", 16), ("2/4", 8)], [Family.lookback, .transformer])
    func theAnswerThinksInThePresetsMeter(meterAndSteps: (String, Int), family: Family) throws {
        let (meter, steps) = meterAndSteps
        let yaml = """
            name: waltz
            transport: {bpm: 120, meter: \(meter)}
            listener: {phrase_end_beats: 2}
            performance: {mode: call-and-response, continuation_bars: 1}
            parts:
              - {name: answer, role: continuation, model: m.safetensors, channel: 2}
            """
        let preset = try PresetReader.read(yaml: yaml, defaultName: "waltz")
        let part = family == .lookback
            ? try Part(settings: preset.parts[0], model: makeModel(from: Self.weights), port: 0, seed: 1)
            : try Part(settings: preset.parts[0], model: Transformer(config: Self.lookbackTransformer, seed: 1), conditioning: .beat, port: 0, seed: 1)
        var rig = EngineRig(MusicalEngine(preset: preset, parts: [part]))
        let fps: UInt64 = 6000
        // The phrase starts a 16th after the grid's first downbeat.
        let phrase = playerNotes(start: 4800 + fps, framesPerStep: fps, steps: [0, 2, 4, 6], pitches: [60, 62, 64, 65])
        rig.run(until: 4800 + 30 * fps, input: phrase)
        rig.finish()
        let encoder = try #require((part.barReader as? LookbackRNN)?.encoder ?? (part.barReader as? Transformer)?.encoder)
        #expect(encoder.stepsPerBar == steps)
        #expect(rig.tracker.isSilent)
    }
}
