import ArgumentParser
import Foundation
import Live
import Music
import Neural

/// `sideman train-vae`: trains a MusicVAE on 2- or 4-bar phrases of melodies or drum grooves, for
/// `sideman vary`, `sideman interpolate` and the daemon's variation part.
struct TrainVAE: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-vae",
        abstract: "Train a MusicVAE (hierarchical decoder) on melody phrases or drum grooves.",
        discussion: """
            Phrases are windows of --bars bars of 16 steps starting on every --hop-th downbeat: melodies from \
            folk JSONL, JSB SATB (the soprano) or a folder of .mid files (their top lines, from their first \
            downbeat), drums from a band manifest (its 4/4 songs, in MusicVAE's nine-class kit). A window with \
            a bar where nothing is struck is left out. The loss is the reconstruction NLL plus β times the KL \
            past --free-bits nats per phrase, β annealed as β·(1 − rate^update); the best epoch is the one \
            with the lowest validation loss at the final β. Each epoch prints the validation NLL per step, \
            KL per bar, and the steps decoded right, teacher-forced and fed the model's own output. \
            Checkpoints, --resume and the loss curve work as in `sideman train`.

            Examples:
              sideman train-vae --content melody --data folk/train.jsonl \\
                --valid folk/valid.jsonl --out folk-vae.safetensors
              sideman train-vae --content drums --data band/train.jsonl \\
                --valid band/valid.jsonl --out drums-vae.safetensors --bars 2
            """)

    @Option(help: "What a phrase is: melody or drums (default: drums for a band manifest, else melody).")
    var content: MusicVAEConfig.Content?
    @OptionGroup var files: TrainingFiles
    @Option(help: "Bars of 16 steps per phrase.") var bars = 2
    @Option(help: "Bars between the starts of two phrases cut from one piece.") var hop = 1
    @Option(help: "Encoder LSTM units per direction.") var encoder = 256
    @Option(help: "Latent units.") var latent = 128
    @Option(help: "Conductor LSTM units.") var conductor = 256
    @Option(help: "Decoder LSTM units per layer.") var decoder = 256
    @Option(help: "Decoder LSTM layers.") var decoderLayers = 2
    @Option(help: "Nats of KL per phrase that cost nothing.") var freeBits: Float = 24
    @Option(help: "Weight of the KL past the free bits, once annealed.") var beta: Float = 0.2
    @Option(help: "β annealing: β·(1 − rate^update).") var betaRate: Float = 0.9999
    @Option(help: "Epochs at most.") var epochs = 20
    @Option(help: "Phrases per update.") var batch = 64
    @Option(help: "Adam learning rate.") var lr: Float = 1e-3
    @Option(help: "Multiply the learning rate by this after each epoch without a better validation loss.") var lrDecay: Float = 1
    @Option(help: "Global gradient-norm clip.") var clip: Float = 5
    @Option(help: "Melodies: random transposition range in semitones (0: off).") var transpose = 5
    @Option(help: "Epochs without a better validation loss before stopping.") var patience = 3
    @Option(help: "Stop after this many seconds (then validate and save).") var timeLimit: Double?
    @Option(help: "Validate on at most this many phrases (spread over the validation data).") var validPhrases = 4096
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Option(help: "Cores to train on, as shards of each batch's phrases (default: every core this process may use that the batch has work for).")
    var threads: Int?

    func validate() throws {
        guard (1...16).contains(bars), (1...16).contains(hop), (1...4096).contains(encoder), (1...4096).contains(latent),
              (1...4096).contains(conductor), (1...4096).contains(decoder), (1...4).contains(decoderLayers), freeBits >= 0,
              beta >= 0, betaRate > 0, betaRate <= 1, epochs >= 1, (1...4096).contains(batch), lr > 0, lrDecay > 0, lrDecay <= 1,
              clip > 0, (0...24).contains(transpose), patience >= 1, validPhrases >= 1, (1...1024).contains(threads ?? 1)
        else { throw ValidationError("sizes and rates must be positive and sensible (bars and hop 1...16, decoder layers 1...4)") }
    }

    func run() throws {
        try reportingFailures { try train() }
    }

    private func train() throws {
        try files.checkOutputs(lossCurve: true)
        let (data, valid, out) = (files.data, files.valid, files.out)
        let chosen = try content ?? (TrainingCorpus.detect(path: data[0]) == .band ? .drums : .melody)
        var trainPhrases: [[Int]] = []
        for path in data { trainPhrases += try Self.phrases(path, content: chosen, bars: bars, hop: hop) }
        let allValid = try Self.phrases(valid, content: chosen, bars: bars, hop: hop)
        guard !trainPhrases.isEmpty else { throw Failure(data[0], "holds no \(bars)-bar \(chosen.rawValue) phrases", status: .dataError) }
        guard !allValid.isEmpty else { throw Failure(valid, "holds no \(bars)-bar \(chosen.rawValue) phrases", status: .dataError) }
        // An even spread over the validation data keeps each epoch's check short and the same every epoch.
        let validSet = HeldOut.spread(allValid, count: validPhrases)

        var config = MusicVAEConfig(content: chosen, bars: bars)
        (config.encoderHidden, config.latent, config.conductorHidden, config.decoderHidden, config.decoderLayers) =
            (encoder, latent, conductor, decoder, decoderLayers)
        (config.freeBits, config.beta, config.betaRate) = (freeBits, beta, betaRate)
        var options = MusicVAEOptions()
        options.epochs = epochs
        options.batch = batch
        options.learningRate = lr
        options.learningRateDecay = lrDecay
        options.clipNorm = clip
        options.seed = seed
        options.transpose = chosen == .melody ? transpose : 0
        options.firstPitchIndex = EventVocabulary.firstPitchIndex
        options.patience = patience
        options.timeLimit = timeLimit
        let model = TrainableMusicVAE(config, batch: batch, seed: seed)
        // A phrase's rows: every step through the encoder's two directions and the decoder, roughly.
        let threadsUsed = TrainingThreads(option: threads, parameters: model.parameterCount, rows: batch * config.steps)
        options.threads = threadsUsed.count
        let trainer = MusicVAETrainer(model: model, train: trainPhrases, valid: validSet, options: options)
        if let resume = files.resume {
            try CommandFiles.resume(from: resume, mismatch: { try MusicVAEConfig(metadata: $0) == config ? nil : "was trained with another configuration" }) {
                try trainer.resume(from: $0)
            }
        }
        let parameters = model.parameterCount
        printToStandardError("sideman: training a MusicVAE on \(trainPhrases.count) \(bars)-bar \(chosen.rawValue) phrases "
            + "(encoder \(encoder) × 2, latent \(latent), conductor \(conductor), decoder \(decoder) × \(decoderLayers); "
            + "\(parameters) parameters), validating on \(validSet.count); \(threadsUsed.describe(using: trainer.lanes.count))")
        var line = TrainProgressLine()
        var reported = trainer.history.count
        try trainer.run(progress: { line.show($0) }, checkpoint: { state in
            for (r, report) in zip(trainer.history[reported...], trainer.reports.suffix(trainer.history.count - reported)) {
                line.finishEpoch(r)
                printToStandardError(Self.describe(report))
            }
            reported = trainer.history.count
            try files.save(trainer.best, to: out, model: true)
            try files.save(state, to: files.checkpointPath)
            try LossCurve.write(trainer.history, model: out)
        })
        try files.save(trainer.best, to: out, model: true)
        try LossCurve.write(trainer.history, model: out)
        print(String(format: "best valid loss per step %.4f after %d epochs; model written to %@", trainer.bestValidLoss, trainer.epoch, out)
            + (trainer.bestReport.map { "; " + Self.describe($0) } ?? ""))
    }

    static func describe(_ r: MusicVAEReport) -> String {
        String(format: "valid: NLL %.4f per step, KL %.2f per bar, accuracy %.1f%% teacher-forced, %.1f%% sampled",
               r.nllPerStep, r.klPerBar, 100 * r.teacherForcedAccuracy, 100 * r.sampledAccuracy)
    }

    /// The phrases of one data file.
    static func phrases(_ path: String, content: MusicVAEConfig.Content, bars: Int, hop: Int) throws -> [[Int]] {
        guard FileManager.default.fileExists(atPath: path) else { throw Failure(path, "no such file", status: .noInput) }
        do {
            let format = try TrainingCorpus.detect(path: path)
            switch content {
            case .drums:
                guard format == .band else { throw Failure(path, "is \(format.rawValue) data; drum phrases come from a band manifest", status: .dataError) }
                return Phrases.grooves(try BandCorpus.load(manifestPath: path), phraseBars: bars, hopBars: hop)
            case .melody:
                guard format != .band else { throw Failure(path, "is a band manifest; melody phrases come from folk, JSB or .mid files", status: .dataError) }
                let corpus = try TrainingCorpus.load(path: path, format: format == .jsbSATB ? .jsbSoprano : format)
                guard case .events(let lines) = corpus.content else {
                    throw Failure(path, "holds note-set frames; melody phrases need melodies", status: .dataError)
                }
                for line in corpus.skipped { printToStandardError("sideman: skipped \(line)") }
                // A folder's melodies carry no pickup: their first downbeat is the file's start.
                let barsOf = corpus.bars ?? lines.map { _ in TrainingCorpus.Bar(stepsPerBar: Phrases.stepsPerBar, pickupSteps: 0) }
                return Phrases.melodies(lines, bars: barsOf, phraseBars: bars, hopBars: hop)
            }
        } catch let error as CorpusError {
            throw Failure(error.file, error.problem, status: .dataError)
        }
    }
}

extension MusicVAEConfig.Content: ExpressibleByArgument {}
