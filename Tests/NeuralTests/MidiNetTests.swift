import Foundation
import Testing
@testable import Neural

@Suite struct MidiNetTests {
    static func tiny(classes pitches: Int = 5) -> MidiNetConfig {
        var config = MidiNetConfig(stepsPerBar: 8, lowestPitch: 60, pitches: pitches)
        (config.noise, config.generatorHidden, config.generatorChannels, config.conditionerChannels) = (4, 6, 5, 3)
        (config.discriminatorFirst, config.discriminatorSecond, config.discriminatorHidden) = (4, 5, 6)
        (config.matchBars, config.matchFeatures) = (0.7, 1.3)
        return config
    }

    static func bars(_ config: MidiNetConfig, count: Int, seed: UInt64) -> [MidiNetBar] {
        var rng = TrainingRandom(seed: seed)
        func line() -> [Int] { (0..<config.stepsPerBar).map { _ in Int(rng.next() % UInt64(config.classes)) } }
        return (0..<count).map { b in
            MidiNetBar(steps: line(), previous: b == 0 ? nil : line(),
                       chord: b == 1 ? nil : MidiNetChord(root: Int(rng.next() % 12), minor: rng.next() % 2 == 0))
        }
    }

    static func model(_ config: MidiNetConfig, bars: Int) -> TrainableMidiNet {
        let model = TrainableMidiNet(config, batch: bars + 1, seed: 3)
        model.set(Self.bars(config, count: bars, seed: 11))
        var rng = TrainingRandom(seed: 4)
        model.drawNoise(&rng)
        // Batch-norm scales away from 1 and shifts away from 0, so their gradients are checked at a general point.
        var shift = TrainingRandom(seed: 6)
        for p in model.parameters where p.name.contains("bn") {
            for i in 0..<p.count where !p.name.hasSuffix("running_var") && !p.name.hasSuffix("running_mean") {
                p.value[i] += shift.uniform(-0.3, 0.3)
            }
        }
        return model
    }

    /// The discriminator's loss (real at the smoothed label, generated at 0) through both batch norms, the
    /// chord joined at every layer, and a missing chord and previous bar.
    @Test func discriminatorBackwardMatchesFiniteDifferences() {
        let model = Self.model(Self.tiny(), bars: 3)
        let (error, name) = TrainingFixtures.worstGradientError(model.discriminator, samplesPerParameter: 10, eps: 1e-3) { train in
            model.discriminatorPass(train: train).loss
        }
        #expect(error < TrainingGradientTests.tolerance, "worst: \(name)")
    }

    /// The generator's loss through the discriminator to the softmax bar, with both feature-matching terms,
    /// the conditioner's layers added to the up-sampling layers, and every batch norm.
    @Test func generatorBackwardMatchesFiniteDifferences() {
        let model = Self.model(Self.tiny(), bars: 3)
        let (error, name) = TrainingFixtures.worstGradientError(model.generator, samplesPerParameter: 10, eps: 1e-3) { train in
            model.generatorPass(train: train).loss
        }
        #expect(error < TrainingGradientTests.tolerance, "worst: \(name)")
    }

    /// Widths of 17 run the Adam and GEMM tails; the built-in GEMM runs every product; 16 steps is the
    /// real bar (three up-sampling layers).
    @Test func wideBackwardOnBuiltInGemm() {
        Gemm.$backend.withValue(.builtIn) {
            var config = Self.tiny(classes: 15)
            config.stepsPerBar = 16
            (config.generatorChannels, config.discriminatorHidden) = (17, 17)
            let model = Self.model(config, bars: 2)
            let (error, name) = TrainingFixtures.worstGradientError(model.generator, samplesPerParameter: 4, eps: 1e-3) { train in
                model.generatorPass(train: train).loss
            }
            // The loss sums more terms in Float here, so its rounding over the small step is a few per cent
            // of the smallest gradients; a wrong index or tail is off by far more.
            #expect(error < 0.05, "worst: \(name)")
        }
    }

    /// A bar generated for playing (batch statistics from the running ones) is the training generator's in
    /// evaluation, and the noise makes bars differ.
    @Test func playingGeneratorLoadsTheTrainedOne() throws {
        let config = Self.tiny()
        let model = TrainableMidiNet(config, batch: 4, seed: 2)
        let net = try MidiNet(model.weights(), bars: 4)
        var rng = SeededRandom(seed: 1)
        let chord = MidiNetChord(root: 2, minor: true)
        let bars = net.generate(chords: [chord, chord, chord, nil], previous: [nil, [0, 1, 2, 3, 4, 5, 6, 0], nil, nil], temperature: 0, rng: &rng)
        #expect(bars.count == 4 && bars.allSatisfy { $0.count == 8 && $0.allSatisfy { (0..<config.classes).contains($0) } })
        // Shipped weights hold the generator only.
        let shipped = try MidiNet(model.generator.weights())
        #expect(shipped.config == config)
    }

    @Test func metadataRoundTripsAndRefusesNonsense() throws {
        var config = MidiNetConfig()
        config.noise = 64
        #expect(try MidiNetConfig(metadata: config.metadata) == config)
        var bad = config.metadata
        bad["steps_per_bar"] = "12"
        #expect(throws: WeightsError.self) { try MidiNetConfig(metadata: bad) }
        bad = config.metadata
        bad["pitches"] = "100"
        #expect(throws: WeightsError.self) { try MidiNetConfig(metadata: bad) }
        bad = config.metadata
        bad["model"] = "music_vae"
        #expect(throws: WeightsError.self) { try MidiNetConfig(metadata: bad) }
    }

    /// A short run on bars that always strike the chord's root learns to strike chord tones: the
    /// conditioning reaches the output, and the checkpoint resumes.
    @Test func shortRunLearnsTheChord() throws {
        var config = MidiNetConfig(stepsPerBar: 8, lowestPitch: 60, pitches: 12)
        (config.noise, config.generatorHidden, config.generatorChannels, config.conditionerChannels) = (8, 32, 16, 4)
        (config.discriminatorFirst, config.discriminatorSecond, config.discriminatorHidden) = (8, 8, 32)
        var rng = TrainingRandom(seed: 3)
        let bars: [MidiNetBar] = (0..<512).map { _ in
            let root = Int(rng.next() % 12)
            let steps = (0..<8).map { k in k % 2 == 0 ? 2 + root : 0 }
            // Some bars open a piece (no previous bar): a batch where none had one would leave the
            // conditioner's batch norm a column of zero variance, which evaluation cannot reproduce.
            let before = Int(rng.next() % 12)
            let previous = rng.next() % 4 == 0 ? nil : (0..<8).map { k in k % 2 == 0 ? 2 + before : 0 }
            return MidiNetBar(steps: steps, previous: previous, chord: MidiNetChord(root: root, minor: false))
        }
        var options = MidiNetOptions()
        (options.epochs, options.batch, options.transpose, options.learningRate) = (12, 32, 0, 2e-3)
        let trainer = MidiNetTrainer(model: TrainableMidiNet(config, batch: 32, seed: 1), train: bars, valid: Array(bars.prefix(200)),
                                     options: options)
        var last = WeightSet()
        try trainer.run(epochDone: { _, state in last = state })
        let report = trainer.reports.last!
        #expect(report.real.notesInChord == 1)
        #expect(report.generated.notesInChord > 0.8, "\(report)")
        let again = MidiNetTrainer(model: TrainableMidiNet(config, batch: 32, seed: 9), train: bars, valid: bars, options: options)
        try again.resume(from: last)
        #expect(again.epoch == 12)
        #expect(again.model.generator.weights() == trainer.model.generator.weights())
    }
}
