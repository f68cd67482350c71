import Foundation
import MIDI
import Neural
import Testing

@testable import Engine

/// Tiny models trained inside the tests with the training API `sideman train` uses (a fraction of a
/// second each): a melody event model on scales and arpeggios, a chord model (NADE chain head, so the engine
/// tests, the allocation count included, run its per-frame chain) on held triads, a drum model (multi-hot) on
/// a rock beat. Trained once per process and shared.
enum TinyModels {
    static let melodyPieces: [TrainingPiece] = (0..<12).map { k in
        let root = 55 + (k * 5) % 12
        let scale = [0, 2, 4, 5, 7, 9, 11, 12, 11, 9, 7, 5, 4, 2, 0, 4, 7, 12, 7, 4]
        var events: [Int] = []
        for interval in scale + scale {
            events.append(2 + root + interval)
            events.append(0)
            events.append(1)
            events.append(0)
        }
        return TrainingPiece(events: events)
    }

    static let chordPieces: [TrainingPiece] = (0..<8).map { k in
        let roots = [60, 65, 67, 60, 57, 62, 67, 60].map { $0 + k % 3 - 21 }
        var frames: [[Int]] = []
        for root in roots {
            for _ in 0..<4 { frames.append([root, root + 4, root + 7]) }
        }
        return TrainingPiece(frames: frames + frames)
    }

    /// The same triads as onset and hold frames (176 units: struck, then 88 + held), struck on the beat and
    /// again on its second 8th.
    static let onsetChordPieces: [TrainingPiece] = (0..<8).map { k in
        let roots = [60, 65, 67, 60, 57, 62, 67, 60].map { $0 + k % 3 - 21 }
        var frames: [[Int]] = []
        for root in roots {
            let triad = [root, root + 4, root + 7]
            for step in 0..<4 { frames.append(step % 2 == 0 ? triad : triad.map { 88 + $0 }) }
        }
        return TrainingPiece(frames: frames + frames)
    }

    static let drumPieces: [TrainingPiece] = (0..<6).map { _ in
        var frames: [[Int]] = []
        for step in 0..<64 {
            var hits = [42 - 21]
            if step % 8 == 0 { hits.append(36 - 21) }
            if step % 8 == 4 { hits.append(38 - 21) }
            frames.append(step % 2 == 0 ? hits : [])
        }
        return TrainingPiece(frames: frames)
    }

    static func train(events: Bool, _ pieces: [TrainingPiece], head: HeadKind? = nil, layout: FrameLayout = .pitches,
                      family: Family = .basic, conditioning: Conditioning? = nil, lookbackInputs: Bool = false) -> WeightSet {
        var config = TrainingModelConfig(
            family: family, data: events ? .events : .frames, units: events ? 130 : 88 * layout.blocks, hidden: 24, layers: 1,
            head: head ?? (events ? .softmax : .multiHot), window: 8, conditioning: conditioning, lookbackInputs: lookbackInputs)
        (config.heads, config.mlp) = (2, 48)
        config.chainHidden = 16
        config.frameLayout = layout
        var options = TrainingOptions()
        options.epochs = 3
        options.batch = 8
        options.steps = 32
        options.learningRate = 1e-2
        options.transpose = 0
        let model = config.makeModel(batch: options.batch, maxSteps: options.steps, seed: 1)
        let trainer = Trainer(
            model: model, encoding: SequenceEncoding(config, firstPitchIndex: events ? 2 : 0), train: pieces, valid: pieces,
            options: options)
        try! trainer.run()
        return trainer.best
    }

    static let melody = train(events: true, melodyPieces)
    static let chords = train(events: false, chordPieces, head: .nadeChain)
    static let drums = train(events: false, drumPieces)
    static let onsetChords = train(events: false, onsetChordPieces, head: .nadeChain, layout: .onsetHold)
    /// The melody model as a transformer (a KV cache of 8 steps, so it wraps within a bar) reading the
    /// Lookback features under the beat (the folk transformer's inputs).
    static let lookbackTransformerMelody = train(
        events: true, melodyPieces.map { p in p.conditioned(by: (0..<p.count).map { [$0 % 16] }) }, family: .transformer,
        conditioning: .beat, lookbackInputs: true)

    /// A tiny MusicVAE (2 bars of 16 steps) that has learned to give back `phrases` (the KL free, so it is an
    /// autoencoder: a second or two).
    static func musicVAE(_ content: MusicVAEConfig.Content, _ phrases: [[Int]], latent: Int, epochs: Int) -> WeightSet {
        var config = MusicVAEConfig(content: content, bars: 2)
        (config.encoderHidden, config.latent, config.conductorHidden, config.decoderHidden, config.decoderLayers) = (24, latent, 24, 48, 1)
        (config.freeBits, config.beta) = (1000, 0)
        var options = MusicVAEOptions()
        (options.epochs, options.batch, options.learningRate, options.patience) = (epochs, phrases.count, 1e-2, 1000)
        let model = TrainableMusicVAE(config, batch: options.batch, seed: 1)
        let trainer = MusicVAETrainer(model: model, train: phrases, valid: phrases, options: options)
        try! trainer.run()
        return trainer.best
    }

    /// An untrained MidiNet of 16-step bars (two octaves from middle C): the lead part's mechanics need a
    /// generator, not a good one.
    static let midiNet: WeightSet = {
        var config = MidiNetConfig(stepsPerBar: 16, lowestPitch: 60, pitches: 24)
        (config.noise, config.generatorHidden, config.generatorChannels, config.conditionerChannels) = (8, 32, 16, 4)
        (config.discriminatorFirst, config.discriminatorSecond, config.discriminatorHidden) = (4, 4, 8)
        return MidiNetGenerator(config, batch: 1, seed: 3).weights()
    }()

    /// A chords part playing the onset and hold model, its layout read from the weights' metadata as the
    /// loader reads it.
    static func onsetPart(_ settings: PartSettings, port: Int = 0, seed: UInt64 = 1) throws -> Part {
        try Part(settings: settings, model: makeModel(from: onsetChords), frameLayout: FrameLayout(metadata: onsetChords.metadata),
                 port: port, seed: seed)
    }

    static func weights(for role: PartRole) -> WeightSet {
        switch role {
        case .chords: return chords
        case .drums: return drums
        default: return melody
        }
    }

    /// A part of `role` with a fresh model (its own state) from the shared weights.
    static func part(_ settings: PartSettings, port: Int = 0, seed: UInt64 = 1) throws -> Part {
        try Part(settings: settings, model: makeModel(from: weights(for: settings.role)), port: port, seed: seed)
    }

    /// Writes the three models and a preset using them into a fresh folder; returns the preset's path.
    static func presetFolder(tag: String, yaml: String = bandYAML) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sideman-engine-\(tag)-\(getpid())").path
        try? FileManager.default.removeItem(atPath: folder)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try SafeTensors.write(melody, path: "\(folder)/melody.safetensors")
        try SafeTensors.write(chords, path: "\(folder)/chords.safetensors")
        try SafeTensors.write(drums, path: "\(folder)/drums.safetensors")
        try yaml.write(toFile: "\(folder)/band.yaml", atomically: true, encoding: .utf8)
        return "\(folder)/band.yaml"
    }

    static let bandYAML = """
        name: band
        transport:
          bpm: 120
        listener:
          phrase_end_beats: 2
        performance:
          mode: both
          continuation_bars: 2
          seed: 5
        parts:
          - name: answer
            role: continuation
            model: melody.safetensors
            channel: 2
            range: [55, 84]
          - name: bass
            role: bass
            model: melody.safetensors
            channel: 3
            program: 33
            range: [28, 52]
            grid: 8th
          - name: keys
            role: chords
            model: chords.safetensors
            channel: 4
            range: [48, 76]
            grid: quarter
            humanize:
              timing_ms: 4
              velocity: 8
          - name: drums
            role: drums
            model: drums.safetensors
            channel: 10
            humanize:
              swing: 0.3
            primer: [[36, 42], [], [42], [], [38, 42], [], [42], []]
          - name: alto
            role: counter-melody
            model: melody.safetensors
            channel: 5
            range: [55, 72]
            mute_cc: 30

        """
}

/// Runs a MusicalEngine on a simulated clock the way the daemon's runner does: each period the engine gets
/// that period's input and the clock of the period; output is kept with its frames.
struct EngineRig {
    var engine: MusicalEngine
    let period: Int
    let sampleRate = 48000
    var now: UInt64 = 0
    var output: [ScheduledMessage] = []
    var tracker = NoteTracker()

    init(_ engine: MusicalEngine, period: Int = 128) {
        self.engine = engine
        self.period = period
    }

    /// Plays `input` (any order; events before the current frame are skipped) and runs periods until `frame`.
    mutating func run(until frame: UInt64, input: [TimedMIDIMessage] = []) {
        let sorted = input.sorted { $0.time < $1.time }
        // Events before `now` were played by an earlier call.
        var next = sorted.firstIndex { $0.time >= now } ?? sorted.count
        var produced: [ScheduledMessage] = []
        while now < frame {
            let end = now + UInt64(period)
            var cycle: [TimedMIDIMessage] = []
            while next < sorted.count, sorted[next].time < end {
                cycle.append(sorted[next])
                next += 1
            }
            produced.removeAll()
            engine.process(cycle, clock: EngineClock(cycleStart: now, cycleLength: period, sampleRate: sampleRate), output: &produced)
            for m in produced { #expect(m.frame >= end, "scheduled at \(m.frame), before the writable frame \(end)") }
            output.append(contentsOf: produced)
            now = end
        }
    }

    /// Ends everything the engine's parts hold; afterwards every note-on has its note-off.
    mutating func finish() {
        var produced: [ScheduledMessage] = []
        engine.silence(at: now + UInt64(period), output: &produced)
        output.append(contentsOf: produced)
        // In frame order, and in emission order within a frame (as the daemon's stable release would).
        for m in output.enumerated().sorted(by: { ($0.element.frame, $0.offset) < ($1.element.frame, $1.offset) }) {
            tracker.observe(m.element.message)
        }
    }

    /// The notes a channel played, each from its note-on to the note-off that ended it, in onset order.
    func notes(channel: MIDIChannel) -> [(on: UInt64, off: UInt64, pitch: UInt8)] {
        var started: [UInt8: UInt64] = [:]
        var notes: [(on: UInt64, off: UInt64, pitch: UInt8)] = []
        for m in output.sorted(by: { $0.frame < $1.frame }) {
            switch m.message {
            case .noteOn(let c, let p, let v) where c == channel && v > 0: started[p] = m.frame
            case .noteOn(let c, let p, _) where c == channel, .noteOff(let c, let p, _) where c == channel:
                if let on = started.removeValue(forKey: p) { notes.append((on, m.frame, p)) }
            default: break
            }
        }
        return notes.sorted { $0.on < $1.on }
    }

    /// The drums' note-ons (channel 10): frame and kit piece.
    var drumHits: [(frame: UInt64, note: UInt8)] {
        output.compactMap { m in
            if case .noteOn(9, let p, let v) = m.message, v > 0 { return (m.frame, p) }
            return nil
        }
    }

    func noteOns(channel: MIDIChannel) -> [UInt64] {
        output.compactMap { m in
            if case .noteOn(let c, _, let v) = m.message, c == channel, v > 0 { return m.frame }
            return nil
        }.sorted()
    }
}

/// The player's notes: `pitches[i]` struck on step `steps[i]` of a grid starting at `start`, held `length` steps.
func playerNotes(start: UInt64, framesPerStep: UInt64, steps: [Int], pitches: [UInt8], length: Int = 2) -> [TimedMIDIMessage] {
    var events: [TimedMIDIMessage] = []
    for (s, p) in zip(steps, pitches) {
        let on = start + UInt64(s) * framesPerStep
        events.append(TimedMIDIMessage(time: on, message: .noteOn(channel: 0, note: p, velocity: 100)))
        events.append(TimedMIDIMessage(time: on + UInt64(length) * framesPerStep - 1, message: .noteOff(channel: 0, note: p, velocity: 0)))
    }
    return events
}

@Suite struct PartsTinyModelTests {
    @Test func theTinyModelsHaveThePartVocabularies() throws {
        #expect(try PartVocabulary.of(makeModel(from: TinyModels.melody)) == .events)
        #expect(try PartVocabulary.of(makeModel(from: TinyModels.chords)) == .noteSets)
    }
}
