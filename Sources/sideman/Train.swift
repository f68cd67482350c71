import ArgumentParser
import Foundation
import Live
import Music
import Neural

/// `sideman train`: trains one of the five families on a corpus and writes the best model (lowest validation
/// NLL) as safetensors that the daemon and `sideman bench` load directly.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model on a corpus (folk JSONL, JSB SATB or piano-roll JSON, band grooves, a folder of .mid files).",
        discussion: """
            Truncated BPTT with Adam, global-norm gradient clipping, dropout, random transposition and early \
            stopping on validation NLL. A checkpoint (model, optimizer state, epoch) is written after every \
            epoch beside --out; --resume continues from it exactly. --hidden and --layers size the LSTM \
            families; --residual, --stacks and --layers-per-stack size the causal conv (gate = residual, skip \
            and head = 2 × residual). --average D validates and saves an exponential moving average of the \
            weights (decay D per update) instead of the last update's weights: with small, noisy batches it is \
            the better model. --weights-dtype f16 stores --out at half the size. --benchmark measures GEMM and \
            training speed on synthetic data instead.

            On a terminal the progress is a bar redrawn in place; in a log or pipe, a plain line every few \
            seconds. Each epoch prints "epoch N: train NLL x, valid NLL y", and the loss curve (train and \
            valid NLL per epoch, the best ringed) is written beside the model as <out>.loss.svg. Each file is \
            written whole (a temporary file renamed into place); an output that is one of the data files (exit \
            64), a FIFO or a device, or that cannot be created (exit 73) is refused before training starts.

            Examples:
              sideman train --family lookback --data folk/train.jsonl \\
                --valid folk/valid.jsonl --out folk.safetensors --epochs 20
              sideman train --data ~/midi/tunes --valid ~/midi/held-out \\
                --out mine.safetensors
              sideman train --family lookback --data folk/train.jsonl \\
                --valid folk/valid.jsonl --out folk.safetensors \\
                --resume folk.safetensors.ckpt --epochs 30
            """)

    @Option(help: "Model family: basic, lookback, attention, conv or transformer.") var family: Family = .basic
    @Option(help: "Training data; repeat for more files of the same kind (a JSB SATB file beside melody data gives its soprano lines).")
    var data: [String] = []
    @Option(help: "Validation data (same format).") var valid: String?
    @Option(help: "Where to write the model (.safetensors).") var out: String?
    @Option(help: "Data format: folk, jsb-satb, jsb-pianoroll, band, midi-folder (default: detected).") var format: TrainingCorpus.Format?
    @Option(help: "Band part to learn: bass (events), chord or drums (frames), or band: all three as one event stream (docs/TRAINING.md).") var part: TrainingCorpus.BandPart = .bass
    @Flag(help: "Band chord part: frames of 176 units, the pitches struck on the step then the pitches held from earlier (docs/TRAINING.md), instead of the 88 sounding pitches.")
    var onsets = false
    @Option(help: "Condition inputs: soprano (jsb-atb); harmony_beat, harmony, harmony_beat_rhythm or harmony_beat_style (band: the chord, the beat, the player's rhythm, the style: each groove family of the data); beat (melodies with a meter: the step's place in its bar); or none (default: soprano for jsb-atb, harmony_beat for band).")
    var condition: ConditionChoice?
    @Option(help: "harmony_beat_style: the share of pieces (drawn per piece and epoch) trained without their style, so the model also plays with none.")
    var styleDropout = 0.15
    @Option(help: "Output head: softmax (events), multi_hot, pitch_chain or nade_chain (frames).") var head: HeadKind?
    @Option(help: "Hidden units of the nade_chain head's per-frame NADE.") var chainHidden = 128
    @Option(help: "LSTM units per layer; the transformer's width.") var hidden = 256
    @Option(help: "LSTM layers; the transformer's blocks.") var layers = 2
    @Option(help: "Attention window: the attention family's, and the steps each transformer block attends over.") var window = 32
    @Option(help: "Transformer: attention heads (they split --hidden).") var heads = 4
    @Option(help: "Transformer: MLP units per block (default 4 × --hidden).") var mlp: Int?
    @Option(help: "Steps per bar for the Lookback encoding.") var stepsPerBar = 16
    @Flag(help: "Transformer on melody events: read each event as the Lookback RNN does (the events 1 and 2 bars back, repeat flags, the step clock), before any condition.")
    var lookback = false
    @Option(help: "Causal conv: residual channels.") var residual = 64
    @Option(help: "Causal conv: stacks of dilated layers.") var stacks = 2
    @Option(help: "Causal conv: layers per stack (dilations 1, 2, 4, ...).") var layersPerStack = 8
    @Option(help: "Epochs at most.") var epochs = 20
    @Option(help: "Parallel sequences per batch.") var batch = 64
    @Option(help: "Steps per truncated-BPTT chunk.") var seqLen = 64
    @Option(help: "Adam learning rate.") var lr: Float = 1e-3
    @Option(help: "Multiply the learning rate by this after each epoch that does not improve validation NLL (1: constant).")
    var lrDecay: Float = 1
    @Option(help: "Validate and save an exponential moving average of the weights with this decay per update, e.g. 0.999 (default: the weights themselves).")
    var average: Float?
    @Option(help: "Store --out's weights as f32 or f16 (half the size; checkpoints stay f32).") var weightsDtype: StoredPrecision = .f32
    @Option(help: "Global gradient-norm clip.") var clip: Float = 5
    @Option(help: "Dropout rate between layers and before the head.") var dropout: Float = 0
    @Option(help: "Transformer: dropout rate on the input map's output, the stream entering the first block (GPT-2's embedding dropout).")
    var inputDropout: Float = 0
    @Option(help: "Random transposition range in semitones (0: off).") var transpose = 5
    @Option(help: "Epochs without a better validation NLL before stopping.") var patience = 3
    @Option(help: "Stop after this many seconds (then validate and save).") var timeLimit: Double?
    @Option(help: "Chunks per epoch at most.") var chunksPerEpoch: Int?
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Option(help: "Resume from this checkpoint.") var resume: String?
    @Option(help: "Start from this model's weights (same configuration; a transformer's --window may differ), with a fresh optimizer: continue training a model on more data.")
    var initFrom: String?
    @Option(help: "Checkpoint path (default: <out>.ckpt).") var checkpoint: String?
    @Option(help: "Matrix products on openblas or builtin (default: OpenBLAS when it loads).") var gemm: Gemm.Backend?
    @Option(help: "Cores to train on, as data-parallel shards of the batch (default: every core this process may use).")
    var threads: Int?
    @Option(help: "The LSTM families' step-by-step recurrent products: fp32, bf16 (bfloat16 operands, fp32 sums; needs AVX-512 BF16), or auto: bf16 where the CPU has it (docs/TRAINING.md has its cost in NLL).")
    var recurrentPrecision: RecurrentPrecisionChoice = .auto
    @Flag(help: "Measure GEMM GFLOP/s and training sample-steps/s, then exit.") var benchmark = false
    @Flag(help: "With --benchmark: print one JSON object.") var json = false
    @Flag(help: "With --benchmark: only the training rate on --threads (no GEMM figures, no one-thread comparison).")
    var trainingOnly = false

    func validate() throws {
        if let threads, !(1...1024).contains(threads) { throw ValidationError("--threads must lie in 1...1024") }
        if recurrentPrecision == .bf16, RecurrentPrecision.fastest != .bf16 {
            throw ValidationError("--recurrent-precision bf16 needs a CPU with AVX-512 BF16, which this one lacks (use fp32 or auto)")
        }
        guard hidden > 0, hidden <= 8192, layers >= 1, layers <= 16, window >= 1, window <= 4096, batch >= 1, batch <= 4096,
              seqLen >= 1, seqLen <= 100_000, epochs >= 1, stepsPerBar >= 1, stepsPerBar <= 256, patience >= 1,
              dropout >= 0, dropout < 1, lr > 0, lrDecay > 0, lrDecay <= 1, clip > 0, transpose >= 0, transpose <= 24,
              residual >= 1, residual <= 4096, chainHidden >= 1, chainHidden <= 4096, stacks >= 1, stacks <= 8, layersPerStack >= 1, layersPerStack <= 16,
              heads >= 1, heads <= 256, family != .transformer || hidden % heads == 0, (mlp ?? 1) >= 1, (mlp ?? 1) <= 65_536
        else { throw ValidationError("sizes and rates must be positive and sensible (dropout in [0, 1))") }
        if !(0..<1).contains(inputDropout) { throw ValidationError("--input-dropout must lie in [0, 1)") }
        if inputDropout > 0, family != .transformer { throw ValidationError("--input-dropout is the transformer's (--family transformer)") }
        if onsets, part != .chord { throw ValidationError("--onsets splits the band chord part's notes (--part chord)") }
        if let average, !(average > 0 && average < 1) { throw ValidationError("--average must lie in (0, 1)") }
        if !(0...1).contains(styleDropout) { throw ValidationError("--style-dropout must lie in [0, 1]") }
        if !benchmark, data.isEmpty || valid == nil || out == nil {
            throw ValidationError("--data, --valid and --out are required")
        }
    }

    func run() throws {
        try reportingFailures {
            if benchmark {
                var config = TrainingModelConfig(family: family, data: .events, units: 130, hidden: hidden, layers: layers,
                                                 head: .softmax, window: window, stepsPerBar: stepsPerBar, dropout: dropout)
                config.inputSize = TrainBenchmark.inputs
                shape(&config)
                let threads = threadChoice(config.makeModel(batch: 1, maxSteps: 1, seed: 1)).count
                return try TrainBenchmark(config: config, batch: batch, steps: seqLen, threads: threads, json: json,
                                          backend: gemm, trainingOnly: trainingOnly).run()
            }
            try Gemm.$backend.withValue(gemm ?? Gemm.backend) { try train() }
        }
    }

    /// Threads to train on: --threads, or every core this process may use that the chunk has work for.
    private func threadChoice(_ model: any TrainableModel) -> TrainingThreads {
        TrainingThreads(option: threads, parameters: model.parameterCount, rows: batch * seqLen)
    }

    /// The family's own sizes: the conv's channels and stacks, the transformer's heads and MLP.
    private func shape(_ config: inout TrainingModelConfig) {
        if family == .conv {
            (config.hidden, config.layers) = (1, 1)
            (config.residual, config.gate, config.skip, config.headHidden) = (residual, residual, 2 * residual, 2 * residual)
            (config.stacks, config.layersPerStack) = (stacks, layersPerStack)
        }
        if family == .transformer { (config.heads, config.mlp, config.inputDropout) = (heads, mlp ?? 4 * hidden, inputDropout) }
        config.recurrentPrecision = recurrentPrecision.resolved
    }

    /// What the outputs must not overwrite: the training and validation data.
    private var inputs: [String] { data + [valid].compactMap { $0 } }

    private func train() throws {
        let out = out!
        let checkpointPath = checkpoint ?? out + ".ckpt"
        for path in [out, checkpointPath, LossCurve.path(model: out)] { try CommandFiles.checkOutput(path, notOver: inputs) }
        let layout: TrainingCorpus.FrameLayout = onsets ? .onsetHold : .pitches
        let trainData = try TrainingData.load(data, format: format, part: part, frameLayout: layout)
        let validData = try TrainingData.load([valid!], format: format ?? trainData.format, part: part, frameLayout: layout)
        guard validData.kind == trainData.kind else {
            throw Failure(valid!, "holds \(validData.kind.rawValue), the training data \(trainData.kind.rawValue)", status: .dataError)
        }
        let kind = trainData.kind
        let chosenHead = head ?? (kind == .events ? .softmax : .multiHot)
        guard (kind == .events) == (chosenHead == .softmax) else {
            throw Failure("--head", "\(chosenHead.rawValue) does not fit \(kind.rawValue) data", status: .usage)
        }
        guard family != .lookback || kind == .events else {
            throw Failure("--family", "lookback encodes melody events; \(data[0]) holds frames", status: .usage)
        }
        try trainData.checkLookbackInputs(lookback, family: family)
        let conditioning = condition.map(\.conditioning) ?? trainData.defaultConditioning
        guard family != .lookback || conditioning == nil else {
            throw Failure("--family", "lookback takes no condition inputs; use basic, attention or conv, or --condition none", status: .usage)
        }
        let styles = conditioning?.hasStyles == true ? try trainData.styleNames() : []
        guard conditioning?.hasStyles != true || !styles.isEmpty else {
            throw Failure(data[0], "names no styles (a band manifest's groove_file or groove) for harmony_beat_style", status: .dataError)
        }
        let trainPieces = try trainData.pieces(conditioned: conditioning, styles: styles)
        let validPieces = try validData.pieces(conditioned: conditioning, styles: styles)
        var config = TrainingModelConfig(family: family, data: kind, units: trainData.units, hidden: hidden, layers: layers,
                                         head: chosenHead, window: window, stepsPerBar: stepsPerBar, dropout: dropout,
                                         conditioning: conditioning, lookbackInputs: lookback)
        config.chainHidden = chainHidden
        config.styles = styles
        // A style drummer carries each style's signature: what analyze --style nearest matches a song's drums to.
        // and each style's micro-timing (where its notes fall against the 16ths: a swing's off-beats), which the
        // band plays whichever part carries it.
        var extraMetadata: [String: String] = [:]
        if part == .drums || part == .band, !styles.isEmpty, trainData.format == .band {
            do {
                let songs = try data.flatMap { try BandCorpus.load(manifestPath: $0) }
                extraMetadata[DrumStyleSignature.metadataKey] = DrumStyleSignature.text(DrumStyleSignature.styles(of: songs))
                extraMetadata[StyleTiming.metadataKey] = StyleTiming.text(try StyleTiming.styles(of: songs))
            } catch let error as CorpusError {
                throw Failure(error.file, error.problem, status: .dataError)
            }
        }
        config.frameLayout = trainData.modelFrameLayout
        shape(&config)
        var options = TrainingOptions()
        options.epochs = epochs
        options.batch = batch
        options.steps = seqLen
        options.learningRate = lr
        options.learningRateDecay = lrDecay
        options.clipNorm = clip
        options.seed = seed
        options.transpose = transpose
        options.patience = patience
        options.timeLimit = timeLimit
        options.chunksPerEpoch = chunksPerEpoch
        options.averageDecay = average
        options.styleDropout = styleDropout
                let model = config.makeModel(batch: batch, maxSteps: seqLen, seed: seed)
        let threadsUsed = threadChoice(model)
        options.threads = threadsUsed.count
        let encoding = SequenceEncoding(config, firstPitchIndex: trainData.firstPitchIndex)
        if let initial = initFrom {
            try CommandFiles.requireInput(initial)
            do {
                let set = try SafeTensors.read(path: initial)
                var initialConfig = try TrainingModelConfig(metadata: set.metadata)
                // ALiBi gives a transformer no positions to learn: its weights serve any window, so a run
                // may go on from them attending further back (or less far).
                if config.family == .transformer, initialConfig.family == .transformer { initialConfig.window = config.window }
                guard config.isSameModel(as: initialConfig) else {
                    throw WeightsError("has another configuration than this run (\(set.metadata["family"] ?? "?"), hidden \(set.metadata["hidden"] ?? "?"))")
                }
                try model.load(WeightSet(tensors: set.tensors, metadata: set.metadata))
            } catch let error as WeightsError {
                throw Failure(initial, error.description, status: .dataError)
            }
        }
        let trainer = Trainer(model: model, encoding: encoding, train: trainPieces, valid: validPieces, options: options)
        if let resume {
            try CommandFiles.resume(from: resume, mismatch: { m in
                try config.isSameModel(as: TrainingModelConfig(metadata: m))
                    ? nil : "was trained with another configuration (\(m["family"] ?? "?"), hidden \(m["hidden"] ?? "?"))"
            }) { try trainer.resume(from: $0) }
        }
        let size = switch family {
        case .conv: "residual \(residual), \(stacks) × \(layersPerStack) layers"
        case .transformer: "width \(hidden) × \(layers) blocks, \(heads) heads, window \(window)"
        default: "hidden \(hidden) × \(layers)"
        }
        printToStandardError("sideman: training \(family.rawValue) (\(config.head.rawValue), \(size)) on "
            + "\(trainPieces.count) pieces" + (conditioning.map { ", conditioned on the \($0.rawValue)" } ?? "")
            + (styles.isEmpty ? "" : " (\(styles.count) styles, left out of \(Int(styleDropout * 100))% of pieces)")
            + ", validating on \(validPieces.count); \(threadsUsed.describe(using: trainer.step.threads)); GEMM: "
            + (Gemm.backend == .openBLAS ? (Gemm.openBLASDescription ?? "OpenBLAS") : "built-in SIMD")
            + (config.hasRecurrentProducts ? "; recurrent products: \(config.recurrentPrecision.rawValue)" : ""))
        var line = TrainProgressLine()
        var reported = trainer.history.count
        try trainer.run(progress: { line.show($0) }, checkpoint: { state in
            for r in trainer.history[reported...] { line.finishEpoch(r) }
            reported = trainer.history.count
            try save(trainer.best, to: out, dtype: weightsDtype.dtype, extra: extraMetadata)
            try save(state, to: checkpointPath)
            try LossCurve.write(trainer.history, model: out)
        })
        // Also when a resumed run had no epochs left: --out always ends up holding the best weights.
        try save(trainer.best, to: out, dtype: weightsDtype.dtype, extra: extraMetadata)
        try LossCurve.write(trainer.history, model: out)
        let best = trainer.bestValidNLL
        print(String(format: "best valid NLL per step %.4f after %d epochs; model written to %@, loss curve to %@.loss.svg", best, trainer.epoch, out, out))
    }

    private func save(_ set: WeightSet, to path: String, dtype: DType = .f32, extra: [String: String] = [:]) throws {
        var set = set
        set.metadata.merge(extra) { $1 }
        try CommandFiles.write(SafeTensors.encode(set, dtype: dtype), to: path, notOver: inputs)
    }
}

/// `--recurrent-precision`: a precision, or auto (the fastest this CPU has).
enum RecurrentPrecisionChoice: String, ExpressibleByArgument, CaseIterable {
    case auto, fp32, bf16
    var resolved: RecurrentPrecision {
        switch self {
        case .auto: RecurrentPrecision.fastest
        case .fp32: .fp32
        case .bf16: .bf16
        }
    }
}

/// How `sideman train` stores the finished model: f16 halves a large model's file, for a change in NLL that
/// `sideman eval` of the stored file shows.
enum StoredPrecision: String, ExpressibleByArgument, CaseIterable {
    case f32, f16
    var dtype: DType { self == .f16 ? .f16 : .f32 }
}
