import ArgumentParser
import Foundation
import Live
import Music
import Neural

/// `sideman train-midinet`: trains MidiNet's chord-conditioned bar generator (a GAN) on melodies cut into
/// bars, each under the triad that fits it, for the daemon's lead part and `sideman lead`.
struct TrainMidiNet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-midinet",
        abstract: "Train MidiNet (a GAN: a bar of melody from its chord and the bar before) on melodies.",
        discussion: """
            Bars are 16 steps from each melody's first downbeat (folk JSONL, or a folder of .mid files, \
            their top lines); each bar's chord is the triad of the melody's key its notes fit best, since \
            the data has no chords. A bar's notes must lie in --lowest-pitch and the --pitches above it. \
            Each batch updates the discriminator once and the generator twice (MidiNet's schedule), with \
            feature matching and one-sided label smoothing. A GAN has no held-out loss: each epoch prints \
            the losses, how the discriminator scores real and generated bars, and the generated bars \
            against the held-out ones (notes in the chord, onsets per bar, distinct bars, and distinct \
            bars among 100 drawn for one chord: the mode-collapse check); the model written is the last \
            epoch's generator.

            Example:
              sideman train-midinet --data folk/train.jsonl --valid folk/valid.jsonl \\
                --out lead.safetensors --epochs 20
            """)

    @OptionGroup var files: TrainingFiles
    @Option(help: "The lowest pitch a bar may hold (MIDI note).") var lowestPitch = 48
    @Option(help: "Pitches from --lowest-pitch up.") var pitches = 48
    @Option(help: "Noise numbers per bar.") var noise = 100
    @Option(help: "Generator: fully connected width.") var generatorHidden = 1024
    @Option(help: "Generator: channels of the up-sampling layers.") var generatorChannels = 128
    @Option(help: "Conditioner channels.") var conditionerChannels = 16
    @Option(help: "Discriminator: fully connected width.") var discriminatorHidden = 1024
    @Option(help: "Feature matching weight on the mean bar.") var matchBars: Float = 0.1
    @Option(help: "Feature matching weight on the discriminator's first-layer features.") var matchFeatures: Float = 1
    @Option(help: "Epochs.") var epochs = 20
    @Option(help: "Bars per update.") var batch = 64
    @Option(help: "Adam learning rate (both networks).") var lr: Float = 2e-4
    @Option(help: "Random transposition range in semitones (0: off).") var transpose = 6
    @Option(help: "Stop after this many seconds (then judge and save).") var timeLimit: Double?
    @Option(help: "Judge on at most this many held-out bars (spread over the data).") var validBars = 2000
    @Option(help: "Random seed.") var seed: UInt64 = 1

    func validate() throws {
        guard (0...127).contains(lowestPitch), (1...128).contains(pitches), lowestPitch + pitches <= 128, (1...4096).contains(noise),
              (1...8192).contains(generatorHidden), (1...4096).contains(generatorChannels), (1...4096).contains(conditionerChannels),
              (1...8192).contains(discriminatorHidden), matchBars >= 0, matchFeatures >= 0, epochs >= 1, (2...4096).contains(batch),
              lr > 0, (0...12).contains(transpose), validBars >= 1
        else { throw ValidationError("sizes and rates must be positive and sensible (pitches within MIDI's 0...127, batch 2...4096)") }
    }

    func run() throws {
        try reportingFailures { try train() }
    }

    private func train() throws {
        try files.checkOutputs(lossCurve: false)
        let (data, valid, out) = (files.data, files.valid, files.out)
        var config = MidiNetConfig(lowestPitch: lowestPitch, pitches: pitches)
        (config.noise, config.generatorHidden, config.generatorChannels, config.conditionerChannels, config.discriminatorHidden) =
            (noise, generatorHidden, generatorChannels, conditionerChannels, discriminatorHidden)
        (config.matchBars, config.matchFeatures) = (matchBars, matchFeatures)
        var trainBars: [MidiNetBar] = []
        for path in data { trainBars += try Self.bars(path, config: config) }
        let allValid = try Self.bars(valid, config: config)
        guard trainBars.count >= batch else { throw Failure(data[0], "holds \(trainBars.count) bars in range; a batch needs \(batch)", status: .dataError) }
        guard !allValid.isEmpty else { throw Failure(valid, "holds no bars in range", status: .dataError) }
        let validSet = HeldOut.spread(allValid, count: validBars)

        var options = MidiNetOptions()
        (options.epochs, options.batch, options.learningRate, options.transpose, options.seed, options.timeLimit) =
            (epochs, batch, lr, transpose, seed, timeLimit)
        let model = TrainableMidiNet(config, batch: batch, seed: seed)
        let trainer = MidiNetTrainer(model: model, train: trainBars, valid: validSet, options: options)
        if let resume = files.resume {
            try CommandFiles.resume(from: resume, mismatch: { try MidiNetConfig(metadata: $0) == config ? nil : "was trained with another configuration" }) {
                try trainer.resume(from: $0)
            }
        }
        let g = model.generator.trainable.reduce(0) { $0 + $1.count }, d = model.discriminator.trainable.reduce(0) { $0 + $1.count }
        printToStandardError("sideman: training MidiNet on \(trainBars.count) bars (generator \(g) parameters, discriminator \(d)), "
            + "judging on \(validSet.count) held-out bars")
        var line = TrainProgressLine()
        try trainer.run(progress: { line.show($0) }, epochDone: { report, state in
            printToStandardError("\n" + Self.describe(report, epoch: trainer.epoch))
            try files.save(model.generator.weights(), to: out, model: true)
            try files.save(state, to: files.checkpointPath)
        })
        try files.save(model.generator.weights(), to: out, model: true)
        print("model written to \(out) after \(trainer.epoch) epochs" + (trainer.reports.last.map { "; " + Self.describe($0, epoch: trainer.epoch) } ?? ""))
    }

    static func describe(_ r: MidiNetReport, epoch: Int) -> String {
        String(format: "epoch %d: D loss %.3f, G adversarial %.3f, feature matching %.4f; D says real %.2f to real bars, %.2f to generated; "
               + "generated: %.1f%% notes in chord (data %.1f%%), %.2f onsets per bar (data %.2f), %.0f distinct per 100 (data %.0f), "
               + "%.0f distinct of 100 for one chord",
               epoch, r.discriminatorLoss, r.generatorAdversarial, r.featureMatching, r.realScore, r.fakeScore,
               100 * r.generated.notesInChord, 100 * r.real.notesInChord, r.generated.onsetsPerBar, r.real.onsetsPerBar,
               r.generated.distinctPer100, r.real.distinctPer100, r.distinctForOneChord)
    }

    /// The bars of one data file or folder, each under its fitted chord, those with a note out of range left out.
    static func bars(_ path: String, config: MidiNetConfig) throws -> [MidiNetBar] {
        guard FileManager.default.fileExists(atPath: path) else { throw Failure(path, "no such file", status: .noInput) }
        do {
            let format = try TrainingCorpus.detect(path: path)
            var pieces: [(line: [Int], bar: TrainingCorpus.Bar, key: Key?)] = []
            switch format {
            case .folk:
                for tune in try FolkCorpus.load(path: path) {
                    guard let steps = tune.melody.stepsPerBar else { continue }
                    pieces.append((EventVocabulary.indices(tune.melody), TrainingCorpus.Bar(stepsPerBar: steps, pickupSteps: tune.melody.pickupSteps),
                                   tune.key))
                }
            case .midiFolder:
                let corpus = try TrainingCorpus.load(path: path, format: format)
                guard case .events(let lines) = corpus.content else { return [] }
                for line in corpus.skipped { printToStandardError("sideman: skipped \(line)") }
                pieces = lines.map { ($0, TrainingCorpus.Bar(stepsPerBar: LeadSheetBars.stepsPerBar, pickupSteps: 0), nil) }
            default:
                throw Failure(path, "is \(format.rawValue) data; MidiNet learns melodies from folk JSONL or a folder of .mid files", status: .dataError)
            }
            var out: [MidiNetBar] = []
            for piece in pieces {
                guard let key = piece.key ?? LeadSheetBars.key(of: piece.line) else { continue }
                for bar in LeadSheetBars.bars(piece.line, bar: piece.bar, key: key) {
                    guard let steps = Self.classes(bar.events, config) else { continue }
                    let previous = bar.previous.flatMap { Self.classes($0, config) }
                    out.append(MidiNetBar(steps: steps, previous: previous, chord: MidiNetChord(root: bar.root, minor: bar.minor)))
                }
            }
            return out
        } catch let error as CorpusError {
            throw Failure(error.file, error.problem, status: .dataError)
        }
    }

    /// Melody events as MidiNet's classes, nil when a note is out of its range.
    static func classes(_ events: [Int], _ config: MidiNetConfig) -> [Int]? {
        var out: [Int] = []
        for e in events {
            guard e >= EventVocabulary.firstPitchIndex else { out.append(e); continue }
            guard let c = config.strike(e - EventVocabulary.firstPitchIndex) else { return nil }
            out.append(c)
        }
        return out
    }
}
