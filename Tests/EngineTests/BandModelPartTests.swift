import Foundation
import MIDI
import Music
import Neural
import Testing

@testable import Engine

/// One transformer plays the whole band (a model trained on the band's event stream): the drums, bass and
/// keys parts share its decoder, each plays its share, the bass and keys follow the chord the player strikes
/// even when it comes after the drums have decided the step.
@Suite struct BandModelPartTests {
    static let fps: UInt64 = 6000  // a 16th at 120 bpm, 48 kHz
    static let start: UInt64 = 4800

    /// Songs of 8 bars over random chords (C, F, G or A minor, a bar each, in a random key): kick on 1 and 3,
    /// snare on 2 and 4, hat on the 8ths; the bass strikes the root (octave 2) on 1 and 3; the keys strike
    /// the triad (from middle C up) on 1 and 3 and hold it between.
    static let weights: WeightSet = {
        var rng = TrainingRandom(seed: 21)
        let shapes: [(root: Int, third: Int)] = [(0, 4), (5, 4), (7, 4), (9, 3)]
        let pieces: [TrainingPiece] = (0..<32).map { _ in
            let key = Int(rng.next() % 12)
            var drums: [[UInt8]] = [], bass: [MelodyEvent] = [], struck: [[UInt8]] = [], held: [[UInt8]] = [], chords: [[Int]] = []
            for _ in 0..<8 {
                let shape = shapes[Int(rng.next() % 4)]
                let root = (key + shape.root) % 12
                let triad = [root, root + shape.third, root + 7].map { UInt8(60 + $0) }
                for s in 0..<16 {
                    var hits: [UInt8] = s % 2 == 0 ? [42] : []
                    if s % 8 == 0 { hits.append(36) }
                    if s % 8 == 4 { hits.append(38) }
                    drums.append(hits)
                    bass.append(s % 8 == 0 ? .noteOn(UInt8(36 + root)) : .noEvent)
                    struck.append(s % 8 == 0 ? triad : [])
                    held.append(s % 8 == 0 ? [] : triad)
                    chords.append(triad.map { Int($0) % 12 } + [12 + s])
                }
            }
            let stream = EnsembleVocabulary.encode(
                drums: PianoRoll(frames: drums), bass: bass, keys: OnsetHoldRoll(struck: PianoRoll(frames: struck), held: PianoRoll(frames: held)))
            return TrainingPiece(events: stream.classes).conditioned(by: stream.steps.map { chords[$0] })
        }
        var config = TrainingModelConfig(family: .transformer, data: .events, units: EnsembleVocabulary.classes, hidden: 32, layers: 2,
                                         head: .softmax, window: 48, conditioning: .harmonyAndBeat)
        (config.heads, config.mlp, config.frameLayout) = (2, 64, .ensemble)
        var options = TrainingOptions()
        options.epochs = 25
        options.batch = 8
        options.steps = 64
        options.learningRate = 1e-2
        options.transpose = 0
        options.patience = 25
        let trainer = Trainer(model: config.makeModel(batch: 8, maxSteps: 64, seed: 2),
                              encoding: SequenceEncoding(config, firstPitchIndex: EnsembleVocabulary.firstPitchedClass),
                              train: pieces, valid: Array(pieces.prefix(4)), options: options)
        try! trainer.run()
        return trainer.best
    }()

    static let yaml = """
        name: band
        transport:
          bpm: 120
        performance:
          mode: accompaniment
          seed: 3
        parts:
          - {name: drums, role: drums, model: band.safetensors, channel: 10}
          - {name: bass, role: bass, model: band.safetensors, channel: 3, range: [28, 52], temperature: 0.3}
          - {name: keys, role: chords, model: band.safetensors, channel: 4, range: [48, 79], temperature: 0.3}
        """

    static func parts(yaml: String = yaml) throws -> [Part] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sideman-bandmodel-\(getpid())-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try SafeTensors.write(weights, path: "\(folder)/band.safetensors")
        let preset = try PresetReader.read(yaml: yaml, defaultName: "band")
        return try PartLoader.parts(for: LoadedPreset(preset: preset, path: "\(folder)/band.yaml"))
    }

    @Test func theBandsPartsShareOneModelAndPlayTheirOwnVocabularies() throws {
        let parts = try Self.parts()
        #expect(parts.map(\.vocabulary) == [.ensemble, .ensemble, .ensemble])
        let decoder = try #require(parts[0].brain.band)
        #expect(parts.allSatisfy { $0.brain.band === decoder && $0.brain.model === decoder.model })
        // The engine readies each step model once before a step, telling them apart by this.
        #expect(parts.allSatisfy { $0.stepModel === decoder.model })
        #expect(parts.map(\.hands.vocabulary) == [.noteSets, .events, .onsetHold])
        // A band model plays drums, bass and keys, nothing else; it cannot be a melody.
        #expect(PartVocabulary.ensemble.fits(.drums) && PartVocabulary.ensemble.fits(.bass) && PartVocabulary.ensemble.fits(.chords))
        #expect(!PartVocabulary.ensemble.fits(.continuation) && !PartVocabulary.ensemble.fits(.voices))
        let preset = try PresetReader.read(yaml: Self.yaml.replacingOccurrences(of: "channel: 3, range", with: "channel: 3, grid: 8th, range"),
                                           defaultName: "band")
        #expect(throws: WeightsError.self) { try Part(settings: preset.parts[1], model: makeModel(from: Self.weights), conditioning: .harmonyAndBeat, frameLayout: .ensemble, port: 0, seed: 1) }
    }

    /// Notes on one channel, as (step, pitch) from their frames.
    func notes(_ out: [ScheduledMessage], channel: MIDIChannel) -> [(step: Int, pitch: UInt8)] {
        out.compactMap { m in
            guard case .noteOn(let c, let p, let v) = m.message, c == channel, v > 0, m.frame >= Self.start else { return nil }
            return (Int((Double(m.frame - Self.start) / Double(Self.fps)).rounded()), p)
        }
    }

    static let roots: [UInt8] = [0, 5, 7, 9, 0, 7, 5, 0]

    /// The band plays under the player's chords (`roots`, a bar each, struck 8 ms after the downbeat).
    func play(_ parts: [Part], yaml: String = yaml) throws -> EngineRig {
        let preset = try PresetReader.read(yaml: yaml, defaultName: "band")
        var rig = EngineRig(MusicalEngine(preset: preset, parts: parts))
        var input: [TimedMIDIMessage] = []
        for (bar, root) in Self.roots.enumerated() {
            let on = Self.start + UInt64(bar * 16) * Self.fps + 384
            let third: UInt8 = root == 9 ? 3 : 4
            for p in [48 + root, 48 + root + third, 48 + root + 7] {
                input.append(TimedMIDIMessage(time: on, message: .noteOn(channel: 0, note: p, velocity: 100)))
                input.append(TimedMIDIMessage(time: on + 15 * Self.fps, message: .noteOff(channel: 0, note: p, velocity: 0)))
            }
        }
        rig.run(until: Self.start + 8 * 16 * Self.fps, input: input)
        rig.finish()
        return rig
    }

    /// A kit without the hi-hat: the one model's drummer keeps time on the ride where the kit has one, and
    /// leaves it out where it has nothing like it; kick and snare as before.
    @Test(arguments: [("[36, 38, 51]", UInt8(51)), ("[36, 38]", nil)])
    func theBandsDrummerPlaysOnItsKit(kitAndTime: (kit: String, time: UInt8?)) throws {
        let yaml = Self.yaml.replacingOccurrences(of: "channel: 10}", with: "channel: 10, kit: \(kitAndTime.kit)}")
        let rig = try play(try Self.parts(yaml: yaml), yaml: yaml)
        let drums = notes(rig.output, channel: 9)
        #expect(!drums.contains { $0.pitch == 42 }, "hats at \(drums.filter { $0.pitch == 42 }.map(\.step))")
        #expect(drums.filter { $0.pitch == 36 }.count >= 10 && drums.filter { $0.pitch == 38 }.count >= 10, "\(drums.map(\.pitch))")
        let rides = drums.filter { $0.pitch == 51 }
        if kitAndTime.time != nil {
            #expect(rides.count >= 40 && rides.allSatisfy { $0.step % 2 == 0 }, "rides at \(rides.map(\.step))")
        } else {
            #expect(rides.isEmpty)
        }
        #expect(Set(drums.map(\.pitch)).isSubset(of: [36, 38, 51]))
        #expect(rig.tracker.isSilent)
    }

    /// The player strikes a chord on each downbeat, 8 ms after it: the drums have decided the downbeat
    /// before the chord is heard, the bass and keys wait for it. They play its root and its triad, and the
    /// drums keep the beat they learned.
    @Test func theBandPlaysTheChordThePlayerStrikesOnTheDownbeat() throws {
        let parts = try Self.parts()
        let rig = try play(parts)
        let roots = Self.roots
        // The chords came after the drums had drawn their downbeats: those steps were fed again under them.
        #expect(try #require(parts[0].brain.band).refedSteps >= 6)
        #expect(rig.tracker.isSilent, "a note was left sounding")
        let bass = notes(rig.output, channel: 2), keys = notes(rig.output, channel: 3), drums = notes(rig.output, channel: 9)
        // From the second bar (the first is the player's count): the bass on the bar's root at each downbeat.
        var rootsPlayed = 0, downbeats = 0
        for bar in 1..<8 {
            downbeats += 1
            if bass.contains(where: { $0.step == bar * 16 && Int($0.pitch) % 12 == Int(roots[bar]) }) { rootsPlayed += 1 }
        }
        #expect(rootsPlayed >= 5, "bass on the root at \(rootsPlayed) of \(downbeats) downbeats: \(bass.prefix(20))")
        // The keys strike chord tones.
        let tones = keys.filter { note in
            let root = Int(roots[min(7, note.step / 16)]), third = roots[min(7, note.step / 16)] == 9 ? 3 : 4
            return [root, (root + third) % 12, (root + 7) % 12].contains(Int(note.pitch) % 12)
        }
        #expect(keys.count >= 8 && tones.count * 10 >= keys.count * 8, "\(tones.count) of \(keys.count) keys notes in the chord")
        // The kick on beats 1 and 3, the snare on 2 and 4.
        let kicks = drums.filter { $0.pitch == 36 }, snares = drums.filter { $0.pitch == 38 }
        #expect(kicks.count >= 10 && kicks.filter { $0.step % 8 == 0 }.count * 10 >= kicks.count * 9, "kicks \(kicks.map(\.step))")
        #expect(snares.count >= 10 && snares.filter { $0.step % 8 == 4 }.count * 10 >= snares.count * 9, "snares \(snares.map(\.step))")
    }
}
