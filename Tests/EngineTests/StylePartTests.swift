import Foundation
import MIDI
import Music
import Neural
import Testing

@testable import Engine

/// A drummer that learned two styles (a style-conditioned model, as the band preset's): the preset's style
/// is what it plays, and a program change switches it on the next downbeat, as an arranger does.
@Suite struct StylePartTests {
    static let fps: UInt64 = 6000  // a 16th at 120 bpm, 48 kHz
    static let start: UInt64 = 4800
    static let kick: UInt8 = 36, hat: UInt8 = 42

    /// "four": a kick on every 8th; "eights": a closed hi-hat on every 8th. Only the style tells them apart.
    static let weights: WeightSet = {
        let styleUnit = Conditioning.firstStyleUnit
        let pieces: [TrainingPiece] = (0..<16).map { k in
            let four = k % 2 == 0
            let frames = (0..<64).map { s -> [Int] in
                s % 2 == 0 ? [Int(four ? kick : hat) - 21] : []
            }
            let conditions = (0..<64).map { s in [0, 4, 7, 12 + s % 16, styleUnit + (four ? 0 : 1)] }  // under a C chord
            return TrainingPiece(frames: frames).conditioned(by: conditions)
        }
        var config = TrainingModelConfig(family: .basic, data: .frames, units: 88, hidden: 24, layers: 1, head: .multiHot,
                                         conditioning: .harmonyBeatAndStyle)
        config.styles = ["four", "eights"]
        var options = TrainingOptions()
        options.epochs = 40
        options.batch = 8
        options.steps = 32
        options.learningRate = 2e-2
        options.transpose = 0
        options.styleDropout = 0
        let trainer = Trainer(model: config.makeModel(batch: 8, maxSteps: 32, seed: 2), encoding: SequenceEncoding(config, firstPitchIndex: 0),
                              train: pieces, valid: pieces, options: options)
        try! trainer.run()
        var best = trainer.best
        best.metadata.merge(config.metadata) { $1 }
        return best
    }()

    static func yaml(style: String, idleBars: Int = 0, kit: String = "") -> String {
        """
        name: styles
        transport:
          bpm: 120
        performance:
          mode: accompaniment
          idle_bars: \(idleBars)
          style: \(style)
          seed: 3
        parts:
          - name: drums
            role: drums
            model: drums.safetensors
            channel: 10
            range: [35, 81]
            temperature: 0.3
        \(kit.isEmpty ? "" : "    kit: " + kit)
        """
    }

    func engine(style: String, timing: [String: StyleTiming] = [:], idleBars: Int = 0, kit: String = "") throws -> MusicalEngine {
        let preset = try PresetReader.read(yaml: Self.yaml(style: style, idleBars: idleBars, kit: kit), defaultName: "styles")
        let styles = try Conditioning.harmonyBeatAndStyle.styleNames(metadata: Self.weights.metadata)
        let part = try Part(settings: preset.parts[0], model: makeModel(from: Self.weights), conditioning: .harmonyBeatAndStyle,
                            styles: styles, port: 0, seed: 3)
        part.styleTiming = timing
        return MusicalEngine(preset: preset, parts: [part])
    }

    /// A style picked while the band is stopped is the one it starts in when the player comes back: the
    /// whole new song, not only from where the old song's steps had reached.
    @Test func aStylePickedWhileTheBandRestsIsTheOneItStartsIn() throws {
        var rig = EngineRig(try engine(style: "four", idleBars: 1))
        let song = playerNotes(start: Self.start, framesPerStep: Self.fps, steps: [0, 0, 0], pitches: [48, 52, 55], length: 47)
        let rest = Self.start + 80 * Self.fps
        let again = rest + 16 * Self.fps
        let next = playerNotes(start: again, framesPerStep: Self.fps, steps: [0, 0, 0], pitches: [48, 52, 55], length: 31)
        rig.run(until: again + 32 * Self.fps, input: song + [TimedMIDIMessage(time: rest, message: .programChange(channel: 0, program: 0))] + next)
        rig.finish()
        #expect(rig.tracker.isSilent)
        let second = rig.drumHits.filter { $0.frame >= again - Self.fps }
        #expect(second.filter { $0.note == Self.hat }.count >= 12, "hats in the second song: \(second.map(\.note))")
        #expect(second.filter { $0.note == Self.kick }.count <= 1, "the old style's kicks in the second song: \(second.map(\.note))")
    }

    /// A style one part never learned has no such part: in "eights" the second drummer, who learned only
    /// "four" and "waltz", rests, and comes in when the style is "four".
    @Test func aPartRestsInAStyleItNeverLearned() throws {
        func play(_ style: String) throws -> EngineRig {
            var preset = try PresetReader.read(yaml: Self.yaml(style: style), defaultName: "styles")
            var second = preset.parts[0]
            second.name = "percussion"
            second.channel = 10
            preset.parts.append(second)
            let model = { try makeModel(from: Self.weights) }
            let first = try Part(settings: preset.parts[0], model: model(), conditioning: .harmonyBeatAndStyle, styles: ["four", "eights"], port: 0, seed: 3)
            let other = try Part(settings: second, model: model(), conditioning: .harmonyBeatAndStyle, styles: ["four", "waltz"], port: 0, seed: 4)
            var rig = EngineRig(MusicalEngine(preset: preset, parts: [first, other]))
            #expect(rig.engine.styleBank.names == ["eights", "four", "waltz"])
            rig.run(until: Self.start + 32 * Self.fps, input: playerNotes(start: Self.start, framesPerStep: Self.fps, steps: [0, 0, 0], pitches: [48, 52, 55], length: 31))
            rig.finish()
            #expect(rig.tracker.isSilent)
            return rig
        }
        #expect(try play("eights").noteOns(channel: 10).isEmpty, "the percussion played a style it never learned")
        #expect(try play("eights").noteOns(channel: 9).count >= 12)
        #expect(try play("four").noteOns(channel: 10).count >= 12)
    }

    /// A style with a swing's feel (its off-beat 8ths, steps 2, 6, 10 and 14, a third of a step early, as
    /// the data's swing plays them against the 16ths) plays those hits early, and the others on the grid.
    @Test func aStylesFeelPlaysItsOffBeatsEarly() throws {
        let swing = StyleTiming(offsets: (0..<16).map { $0 % 4 == 2 ? -0.37 : 0 })
        var rig = EngineRig(try engine(style: "eights", timing: ["eights": swing]))
        rig.run(until: Self.start + 48 * Self.fps, input: playerNotes(start: Self.start, framesPerStep: Self.fps, steps: [0, 0, 0], pitches: [48, 52, 55], length: 47))
        rig.finish()
        #expect(rig.tracker.isSilent)
        var early = 0, onGrid = 0, other = 0
        for frame in rig.noteOns(channel: 9) where frame >= Self.start {
            let position = Double(frame - Self.start) / Double(Self.fps)
            let step = Int(position.rounded())
            if step % 4 == 2, abs(position - (Double(step) - 0.37)) < 0.02 { early += 1 }
            else if step % 4 == 0, abs(position - Double(step)) < 0.02 { onGrid += 1 }
            else { other += 1 }
        }
        #expect(early >= 10 && onGrid >= 10 && other == 0, "early \(early), on the grid \(onGrid), elsewhere \(other)")
        #expect(try engine(style: "four", timing: ["eights": swing]).feel(at: 2) == 0, "another style swung")
    }

    /// Hits of `pitch` per bar of the grid that starts at `start`.
    static func hits(_ rig: EngineRig, pitch: UInt8, bars: Int) -> [Int] {
        var counts = [Int](repeating: 0, count: bars)
        for m in rig.output {
            guard case .noteOn(9, let p, let v) = m.message, p == pitch, v > 0, m.frame >= start else { continue }
            let bar = Int((m.frame - start + fps / 2) / (16 * fps))
            if bar < bars { counts[bar] += 1 }
        }
        return counts
    }

    @Test func theBankNamesEveryStyleAndTheDrummerPlaysThePresetsStyle() throws {
        let engine = try engine(style: "Four")
        #expect(engine.styleBank.names == ["eights", "four"])
        #expect(engine.styleName(at: 0) == "four")
        var rig = EngineRig(engine)
        // The player holds a chord through four bars.
        rig.run(until: Self.start + 64 * Self.fps, input: playerNotes(start: Self.start, framesPerStep: Self.fps, steps: [0, 0, 0], pitches: [48, 52, 55], length: 63))
        rig.finish()
        let kicks = Self.hits(rig, pitch: Self.kick, bars: 4), hats = Self.hits(rig, pitch: Self.hat, bars: 4)
        #expect(kicks.reduce(0, +) >= 24, "kicks per bar \(kicks)")
        #expect(hats.reduce(0, +) <= 2, "hats per bar \(hats)")
    }

    /// A kit without the hi-hat leaves the hi-hat style's bars without it, and the kick style as it was.
    @Test func theDrummerKeepsToItsKit() throws {
        for (style, piece) in [("eights", Self.hat), ("four", Self.kick)] {
            var rig = EngineRig(try engine(style: style, kit: "[36, 38, 49]"))
            rig.run(until: Self.start + 64 * Self.fps, input: playerNotes(start: Self.start, framesPerStep: Self.fps, steps: [0, 0, 0], pitches: [48, 52, 55], length: 63))
            rig.finish()
            let played = rig.output.compactMap { m -> UInt8? in
                if case .noteOn(9, let p, let v) = m.message, v > 0 { p } else { nil }
            }
            #expect(played.allSatisfy { [36, 38, 49].contains($0) }, "\(style): played \(Set(played).sorted())")
            let hits = Self.hits(rig, pitch: piece, bars: 4).reduce(0, +)
            #expect(piece == Self.hat ? hits == 0 : hits >= 24, "\(style): \(hits) hits of \(piece)")
        }
    }

    /// The player holds a C major chord for `bars` bars and sends `program` at grid step `step`.
    func play(style: String, bars: Int, program: UInt8, atStep step: UInt64) throws -> EngineRig {
        var rig = EngineRig(try engine(style: style))
        var input = playerNotes(start: Self.start, framesPerStep: Self.fps, steps: [0, 0, 0], pitches: [48, 52, 55], length: 16 * bars - 1)
        input.append(TimedMIDIMessage(time: Self.start + step * Self.fps, message: .programChange(channel: 0, program: program)))
        rig.run(until: Self.start + UInt64(16 * bars) * Self.fps, input: input)
        rig.finish()
        #expect(rig.tracker.isSilent)
        return rig
    }

    @Test func aProgramChangeSwitchesTheStyleOnTheNextDownbeat() throws {
        // Program 0 (the bank is sorted: eights is 0, four is 1), halfway through bar 2.
        let rig = try play(style: "four", bars: 5, program: 0, atStep: 40)
        // The style button's program change is not the player's sound: it does not go through to the synth.
        #expect(!rig.output.contains { if case .programChange(0, _) = $0.message { true } else { false } })
        let kicks = Self.hits(rig, pitch: Self.kick, bars: 5), hats = Self.hits(rig, pitch: Self.hat, bars: 5)
        // Bars 0-2 are "four" (the change comes in bar 2 and waits for its end); bars 3 and 4 "eights".
        #expect(kicks[0...2].reduce(0, +) >= 18 && hats[0...2].reduce(0, +) <= 2, "kicks \(kicks), hats \(hats)")
        #expect(hats[3...4].reduce(0, +) >= 12 && kicks[3...4].reduce(0, +) <= 2, "kicks \(kicks), hats \(hats)")
    }

    @Test func aProgramPastTheBankAndAnUnknownPresetStyleChangeNothingOrAreRefused() throws {
        let rig = try play(style: "eights", bars: 3, program: 9, atStep: 8)
        #expect(Self.hits(rig, pitch: Self.hat, bars: 3)[1...2].reduce(0, +) >= 12)

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sideman-styles-\(getpid())").path
        try? FileManager.default.removeItem(atPath: folder)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try SafeTensors.write(Self.weights, path: "\(folder)/drums.safetensors")
        try Self.yaml(style: "cha-cha").write(toFile: "\(folder)/styles.yaml", atomically: true, encoding: .utf8)
        let loaded = LoadedPreset(preset: try PresetReader.read(yaml: Self.yaml(style: "cha-cha"), defaultName: "styles"), path: "\(folder)/styles.yaml")
        do {
            _ = try PartLoader.parts(for: loaded)
            Issue.record("a style the models never learned was accepted")
        } catch {
            #expect(error.path == "\(folder)/styles.yaml")
            #expect(error.problem.contains("performance.style = cha-cha") && error.problem.contains("eights, four"), "\(error.problem)")
        }
    }
}

@Suite struct StyleBankTests {
    @Test func theBankIsTheSortedUnionAndEachPartKnowsItsOwnUnits() {
        let bank = StyleBank(parts: [["swing", "rock"], [], ["rock", "bossanova"]])
        #expect(bank.names == ["bossanova", "rock", "swing"])
        #expect(bank.units(in: ["swing", "rock"]) == [-1, 1, 0])
        #expect(bank.units(in: []) == [-1, -1, -1])
        #expect(bank.number(of: "Rock") == 1 && bank.number(of: "polka") == nil)
        #expect(bank.style(number: 2) == 2 && bank.style(number: 3) == nil)
    }
}
