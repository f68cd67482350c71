import MIDI
import Neural
import Testing

@testable import Engine

@Suite struct PartsTests {
    func settings(_ role: PartRole, channel: MIDIChannel = 1, range: ClosedRange<UInt8> = 0...127) -> PartSettings {
        var s = PartSettings(name: role.rawValue, role: role, model: "m.safetensors", channel: channel)
        s.lowestNote = range.lowerBound
        s.highestNote = range.upperBound
        return s
    }

    @Test func aRoleRefusesAModelOfTheOtherVocabulary() throws {
        #expect(throws: WeightsError.self) {
            try Part(settings: settings(.chords), model: makeModel(from: TinyModels.melody), port: 0, seed: 1)
        }
        do {
            _ = try Part(settings: settings(.bass), model: makeModel(from: TinyModels.drums), port: 0, seed: 1)
            Issue.record("a bass part took a note-set model")
        } catch {
            #expect(error.description.contains("bass part needs an events model"))
        }
    }

    /// The density control thins what the drums play, not what the drummer hears of its own groove: with
    /// every hit thinned away, the model is still fed the hits it drew, so the groove comes back whole when
    /// the knob does.
    @Test func thinnedDrumsStillHearTheirWholeGroove() throws {
        let part = try TinyModels.part(settings(.drums, channel: 9, range: 35...81), seed: 4)
        var drawnHits = 0
        for _ in 0..<64 {
            part.advance()
            let played = part.choose(context: PartContext(), temperature: 1, keep: 0)
            #expect(played.count == 0, "keep 0 played \(played.count) hits")
            #expect(part.brain.input == part.brain.drumsDrawn)
            drawnHits += part.brain.input.count
        }
        #expect(drawnHits > 0, "the drummer drew no hits in 64 steps")
    }

    /// A fill pulls the drums to toms and snare and away from the hi-hat and ride; its landing is a crash.
    @Test func aFillIsTomsAndSnareAndItsLandingACrash() {
        let toms: [Int] = [41, 43, 45, 47, 48, 50], cymbals = [42, 44, 46, 51]
        #expect(toms.allSatisfy { DrumSection.fill.pull(on: $0) > 0 } && DrumSection.fill.pull(on: 38) > 0)
        #expect(cymbals.allSatisfy { DrumSection.fill.pull(on: $0) < 0 })
        #expect(DrumSection.landing.pull(on: 49) > DrumSection.landing.pull(on: 36) && DrumSection.landing.pull(on: 36) > 0)
        #expect((0..<128).allSatisfy { DrumSection.mainA.pull(on: $0) == 0 })
    }

    @Test func pitchesFoldByOctavesIntoTheRange() {
        #expect(PartBrain.fold(30, 40, 60) == 42)
        #expect(PartBrain.fold(75, 40, 60) == 51)
        #expect(PartBrain.fold(50, 40, 60) == 50)
        #expect(PartBrain.fold(90, 60, 64) == 60)  // under an octave: folded below, then clamped
    }

    /// Whatever a melody part draws, it sounds at most one note, inside its range, and silence ends it.
    @Test func aMelodyPartHoldsOneNoteInItsRangeAndEndsIt() throws {
        let part = try TinyModels.part(settings(.voice, channel: 3, range: 60...72), seed: 9)
        var out: [ScheduledMessage] = []
        var tracker = NoteTracker()
        for step in 0..<64 {
            part.advance()
            let choice = part.choose(context: PartContext(), temperature: 1, keep: 1)
            part.render(
                choice, step: Int64(step), stepFrame: UInt64(1000 + step * 100), earliest: UInt64(1000 + step * 100),
                framesPerStep: 100, velocity: 90, out: &out)
            #expect(part.sounding.count <= 1)
            if let p = part.sounding.lowest { #expect((60...72).contains(p)) }
        }
        part.silence(at: 10_000, out: &out)
        for m in out.enumerated().sorted(by: { ($0.element.frame, $0.offset) < ($1.element.frame, $1.offset) }) {
            tracker.observe(m.element.message)
            #expect(m.element.message.channel == 3)
        }
        #expect(out.contains { $0.message.isSoundingNoteOn })
        #expect(tracker.isSilent)
    }

    /// The context's chord pulls a bass line onto chord tones.
    @Test func theChordBiasesTheBassTowardChordTones() throws {
        var inChord = [0, 0]
        for (k, chordClasses) in [UInt16(0), UInt16(1 << 2 | 1 << 6 | 1 << 9)].enumerated() {
            let part = try TinyModels.part(settings(.bass, range: 28...52), seed: 3)
            var context = PartContext()
            context.chordClasses = chordClasses
            context.chordBass = chordClasses == 0 ? nil : 2
            var out: [ScheduledMessage] = []
            for step in 0..<200 {
                part.advance()
                let choice = part.choose(context: context, temperature: 1, keep: 1)
                part.render(choice, step: Int64(step), stepFrame: UInt64(step * 10 + 10), earliest: 0, framesPerStep: 10, velocity: 80, out: &out)
            }
            for m in out where m.message.isSoundingNoteOn {
                if case .noteOn(_, let n, _) = m.message, [2, 6, 9].contains(Int(n) % 12) { inChord[k] += 1 }
            }
        }
        #expect(inChord[1] > inChord[0])
    }

    /// A bass leans to the chord's root over the keyboard's lowest note: a first-inversion D major (F♯ in
    /// the bass) draws more D than F♯ from a bass whose model has no preference of its own.
    @Test func theBassLeansToTheRootOverTheInversionsBass() {
        var context = PartContext()
        context.chordClasses = 1 << 2 | 1 << 6 | 1 << 9
        context.chordRoot = 2
        context.chordBass = 6
        let weights = UnsafeMutablePointer<Float>.allocate(capacity: 12)
        defer { weights.deallocate() }
        context.classWeights(for: .bass, into: weights)
        #expect(weights[2] > weights[6] && weights[6] > weights[9] && weights[9] > weights[0])
    }

    @Test func drumsAreHitsThatEndHalfAStepLater() throws {
        let part = try TinyModels.part(settings(.drums, channel: 9), seed: 2)
        var out: [ScheduledMessage] = []
        for step in 0..<32 {
            part.advance()
            let choice = part.choose(context: PartContext(), temperature: 1, keep: 1)
            part.render(choice, step: Int64(step), stepFrame: UInt64(step * 1000 + 1000), earliest: 0, framesPerStep: 1000, velocity: 100, out: &out)
        }
        let ons = out.filter { $0.message.isSoundingNoteOn }
        let offs = out.filter { $0.message.isNoteOff }
        #expect(!ons.isEmpty)
        #expect(ons.count == offs.count)
        #expect(part.sounding.isEmpty)
    }

    @Test func humanizeSwingsOffBeatsAndStaysNearTheGrid() {
        var h = Humanize()
        h.swing = 1
        h.timingMilliseconds = 2
        var humanizer = Humanizer(settings: h, grid: .sixteenth, sampleRate: 48000, seed: 1)
        for step in Int64(0)..<64 {
            let frame = UInt64(10_000 + step * 6000)
            let at = humanizer.onFrame(step: step, frame: frame, framesPerStep: 6000, earliest: 0)
            let swing: Int64 = step % 2 == 1 ? 2000 : 0
            #expect(abs(Int64(at) - Int64(frame) - swing) <= 96)
        }
        var plain = Humanizer(settings: Humanize(), grid: .eighth, sampleRate: 48000, seed: 1)
        #expect(plain.onFrame(step: 2, frame: 5000, framesPerStep: 100, earliest: 0) == 5000)
        #expect(plain.onFrame(step: 2, frame: 5000, framesPerStep: 100, earliest: 6000) == 6000)
        #expect(plain.velocity(200) == 127)
    }

    /// A chords part plays a pitch-chain model (88 units + END) and a NADE-chain one as well as a multi-hot one.
    @Test(arguments: [HeadKind.pitchChain, .nadeChain])
    func aChordsPartPlaysAChainModel(_ head: HeadKind) throws {
        var config = TrainingModelConfig(family: .basic, data: .frames, units: 88, hidden: 16, layers: 1, head: head)
        config.chainHidden = 12
        var options = TrainingOptions()
        options.epochs = 2
        options.batch = 8
        options.steps = 32
        options.learningRate = 1e-2
        options.transpose = 0
        let trainer = Trainer(
            model: config.makeModel(batch: 8, maxSteps: 32, seed: 2), encoding: SequenceEncoding(config, firstPitchIndex: 0),
            train: TinyModels.chordPieces, valid: TinyModels.chordPieces, options: options)
        try trainer.run()
        let model = try makeModel(from: trainer.best)
        #expect(try PartVocabulary.of(model) == .noteSets)
        let part = try Part(settings: settings(.chords, channel: 4, range: 48...76), model: model, port: 0, seed: 4)
        var out: [ScheduledMessage] = []
        for step in 0..<48 {
            part.advance()
            let choice = part.choose(context: PartContext(), temperature: 1, keep: 1)
            for k in 0..<choice.count { #expect(choice.indices[k] < 88) }
            part.render(choice, step: Int64(step), stepFrame: UInt64(step * 100 + 100), earliest: 0, framesPerStep: 100, velocity: 80, out: &out)
            var left = part.sounding
            while let p = left.lowest {
                left.remove(p)
                #expect((48...76).contains(p))
            }
        }
        #expect(out.contains { $0.message.isSoundingNoteOn })
    }
}
