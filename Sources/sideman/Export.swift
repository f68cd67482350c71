import ArgumentParser
import Foundation
import Live
import Music
import Neural

/// `sideman export`: a corpus as the trainer encodes it (each step's sparse input features and its target),
/// written to one safetensors file, so another trainer (training/ in PyTorch) learns from exactly the rows
/// `sideman train` and `sideman eval` see and never re-implements the MIDI, JSONL or Lookback encodings.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a corpus, encoded as the trainer reads it, to a tensor file (for training elsewhere, e.g. PyTorch).",
        discussion: """
            Each split is stored as compressed sparse rows, one row per predicted step, pieces end to end: \
            <split>.piece_offsets (I64, steps), <split>.input_offsets (I64), <split>.input_indices (I32), \
            <split>.input_values (F32), <split>.target_offsets (I64), <split>.target_indices (I32). --data is \
            the split "train", --valid the split "valid". The metadata says how the rows were encoded (family, \
            units, input_size, condition, styles, frame_layout, steps_per_bar) so a model trained on them can be \
            written with the metadata Sideman reads (docs/TRAINING.md, "Training in PyTorch").

            With --model the data is encoded exactly as `sideman eval --model` reads it for that model. Without \
            it, --family, --format, --part, --onsets, --condition and --steps-per-bar choose the encoding as \
            `sideman train` does. --transpose K writes every training piece at each shift in -K...K that stays \
            in range (the trainer's random transposition, laid out in advance).

            Examples:
              sideman export --family lookback --data folk/train.jsonl \\
                --valid folk/valid.jsonl --out folk.corpus.safetensors --transpose 5
              sideman export --model presets/folk/continuation.safetensors \\
                --valid folk/valid.jsonl --out folk-valid.corpus.safetensors
            """)

    @Option(help: "Training data (split \"train\"); repeat for more files of the same kind.") var data: [String] = []
    @Option(help: "Validation data (split \"valid\").") var valid: String?
    @Option(help: "Where to write the tensor file (.safetensors).") var out: String
    @Option(help: "Encode as this model reads its data (as `sideman eval` does).") var model: String?
    @Option(help: "Model family the rows are for: basic, lookback, attention, conv or transformer (lookback has its own features).")
    var family: Family?
    @Option(help: "Data format: folk, jsb-satb, jsb-pianoroll, band, midi-folder (default: detected).") var format: TrainingCorpus.Format?
    @Option(help: "Band part: bass (events), chord or drums (frames), or band (all three as one event stream).") var part: TrainingCorpus.BandPart = .bass
    @Flag(help: "Band chord part as onset and hold frames (176 units).") var onsets = false
    @Option(help: "Condition inputs, as `sideman train --condition`.") var condition: ConditionChoice?
    @Option(help: "Steps per bar for the Lookback encoding.") var stepsPerBar = 16
    @Flag(help: "Transformer on melody events: rows of Lookback features, as `sideman train --lookback`.") var lookback = false
    @Option(help: "Write each training piece at every shift in -K...K semitones that stays in range (0: as it is).") var transpose = 0

    func validate() throws {
        guard data.count + (valid == nil ? 0 : 1) > 0 else { throw ValidationError("--data or --valid is required") }
        guard stepsPerBar >= 1, stepsPerBar <= 256, transpose >= 0, transpose <= 24 else {
            throw ValidationError("--steps-per-bar must be in 1...256 and --transpose in 0...24")
        }
        if onsets, part != .chord { throw ValidationError("--onsets splits the band chord part's notes (--part chord)") }
        if model != nil, family != nil || condition != nil || onsets {
            throw ValidationError("--model fixes the encoding: leave out --family, --condition and --onsets")
        }
    }

    private var inputs: [String] { data + [valid, model].compactMap { $0 } }

    func run() throws {
        try reportingFailures {
            try CommandFiles.checkOutput(out, notOver: inputs)
            let plan = try model.map(planFromModel) ?? planFromOptions()
            var metadata = plan.metadata
            var columns: [String: Column] = [:]
            var counts: [String] = []
            for (split, pieces) in plan.splits {
                let (count, steps) = Self.store(pieces, encoding: plan.encoding, as: split, into: &columns)
                metadata["\(split)_pieces"] = "\(count)"
                metadata["\(split)_steps"] = "\(steps)"
                counts.append("\(split): \(count) pieces, \(steps) steps")
            }
            try CommandFiles.write(Self.encode(&columns, metadata: metadata), to: out, notOver: inputs)
            print("\(counts.joined(separator: "; ")); \(plan.encoding.config.family.rawValue) rows of \(plan.encoding.config.inputSize) "
                + "inputs, \(plan.encoding.config.units) \(plan.encoding.config.data.rawValue == "events" ? "classes" : "units"); written to \(out)")
        }
    }

    /// The encoding and the pieces of each split.
    private struct Plan {
        var encoding: SequenceEncoding
        var splits: [(String, [TrainingPiece])]
        var metadata: [String: String]
    }

    /// As `sideman eval --model` reads data for that model.
    private func planFromModel(_ path: String) throws -> Plan {
        try CommandFiles.requireInput(path)
        let (config, modelMetadata) = try Self.configuration(of: path)
        let layout = TrainingCorpus.FrameLayout(rawValue: config.frameLayout.rawValue) ?? .pitches
        func load(_ file: String) throws -> TrainingData {
            var chosen = format
            if chosen == nil, config.conditioning == .soprano, (try? TrainingCorpus.detect(path: file)) == .jsbSATB { chosen = .jsbATB }
            let corpus = try TrainingData.load([file], format: chosen, part: layout == .onsetHold ? .chord : config.frameLayout == .ensemble ? .band : part,
                                               frameLayout: layout)
            guard corpus.kind == config.data, corpus.units == config.units else {
                throw Failure(file, "holds \(corpus.kind.rawValue) with \(corpus.units) classes; the model predicts \(config.data.rawValue) with \(config.units)",
                              status: .dataError)
            }
            return corpus
        }
        var splits: [(String, TrainingData)] = []
        for file in data { splits.append(("train", try load(file))) }
        if let valid { splits.append(("valid", try load(valid))) }
        let first = splits[0].1
        let encoding = SequenceEncoding(config, firstPitchIndex: first.firstPitchIndex)
        var pieces: [(String, [TrainingPiece])] = []
        for (name, corpus) in splits {
            let p = try corpus.pieces(conditioned: config.conditioning, styles: config.styles)
            if let i = pieces.firstIndex(where: { $0.0 == name }) { pieces[i].1 += p } else { pieces.append((name, p)) }
        }
        pieces = pieces.map { ($0.0, $0.0 == "train" ? transposed($0.1, encoding) : $0.1) }
        var metadata = Self.encodingMetadata(config, encoding: encoding, format: first.format)
        // The model's own extra keys (a style drummer's signatures and timing) go with the rows.
        for key in [DrumStyleSignature.metadataKey, StyleTiming.metadataKey] { if let v = modelMetadata[key] { metadata[key] = v } }
        return Plan(encoding: encoding, splits: pieces, metadata: metadata)
    }

    /// A model file's configuration and metadata; an unreadable one is bad input (exit 65).
    private static func configuration(of path: String) throws -> (TrainingModelConfig, [String: String]) {
        do {
            let metadata = try SafeTensors.read(path: path).metadata
            return (try TrainingModelConfig(metadata: metadata), metadata)
        } catch {
            throw Failure(path, error.description, status: .dataError)
        }
    }

    /// As `sideman train` reads --data and --valid.
    private func planFromOptions() throws -> Plan {
        let layout: TrainingCorpus.FrameLayout = onsets ? .onsetHold : .pitches
        let family = family ?? .basic
        let trainData = data.isEmpty ? nil : try TrainingData.load(data, format: format, part: part, frameLayout: layout)
        let validData = try valid.map { try TrainingData.load([$0], format: format ?? trainData?.format, part: part, frameLayout: layout) }
        let reference = (trainData ?? validData)!
        if let trainData, let validData, validData.kind != trainData.kind {
            throw Failure(valid!, "holds \(validData.kind.rawValue), the training data \(trainData.kind.rawValue)", status: .dataError)
        }
        let kind = reference.kind
        guard family != .lookback || kind == .events else {
            throw Failure("--family", "lookback encodes melody events; \((data + [valid].compactMap { $0 })[0]) holds frames", status: .usage)
        }
        try reference.checkLookbackInputs(lookback, family: family)
        let conditioning = condition.map(\.conditioning) ?? reference.defaultConditioning
        guard family != .lookback || conditioning == nil else {
            throw Failure("--family", "lookback takes no condition inputs; use basic, attention or conv, or --condition none", status: .usage)
        }
        let styles = conditioning?.hasStyles == true ? try reference.styleNames() : []
        guard conditioning?.hasStyles != true || !styles.isEmpty else {
            throw Failure((data + [valid].compactMap { $0 })[0], "names no styles (a band manifest's groove_file or groove) for harmony_beat_style", status: .dataError)
        }
        var config = TrainingModelConfig(family: family, data: kind, units: reference.units, hidden: 1, layers: 1,
                                         head: kind == .events ? .softmax : .multiHot, stepsPerBar: stepsPerBar, conditioning: conditioning,
                                         lookbackInputs: lookback)
        config.styles = styles
        config.frameLayout = reference.modelFrameLayout
        let encoding = SequenceEncoding(config, firstPitchIndex: reference.firstPitchIndex)
        var splits: [(String, [TrainingPiece])] = []
        if let trainData { splits.append(("train", transposed(try trainData.pieces(conditioned: conditioning, styles: styles), encoding))) }
        if let validData { splits.append(("valid", try validData.pieces(conditioned: conditioning, styles: styles))) }
        var metadata = Self.encodingMetadata(config, encoding: encoding, format: reference.format)
        // A style drummer carries each style's signature and micro-timing, as `sideman train` writes them.
        if part == .drums || part == .band, !styles.isEmpty, reference.format == .band, !data.isEmpty {
            do {
                let songs = try data.flatMap { try BandCorpus.load(manifestPath: $0) }
                metadata[DrumStyleSignature.metadataKey] = DrumStyleSignature.text(DrumStyleSignature.styles(of: songs))
                metadata[StyleTiming.metadataKey] = StyleTiming.text(try StyleTiming.styles(of: songs))
            } catch let error as CorpusError {
                throw Failure(error.file, error.problem, status: .dataError)
            }
        }
        return Plan(encoding: encoding, splits: splits, metadata: metadata)
    }

    /// Every piece at every shift in -K...K that keeps it in range, the piece itself first.
    private func transposed(_ pieces: [TrainingPiece], _ encoding: SequenceEncoding) -> [TrainingPiece] {
        guard transpose > 0 else { return pieces }
        return pieces.flatMap { piece in
            [piece] + (-transpose...transpose).filter { $0 != 0 }.compactMap { encoding.transposed(piece, by: $0) }
        }
    }

    /// What a trainer needs to build a model for these rows and to write the metadata Sideman's loaders read.
    static func encodingMetadata(_ config: TrainingModelConfig, encoding: SequenceEncoding, format: TrainingCorpus.Format) -> [String: String] {
        var m: [String: String] = [
            "sideman_export": "1", "family": config.family.rawValue, "data": config.data.rawValue, "units": "\(config.units)",
            "input_size": "\(config.inputSize)", "base_input_size": "\(config.baseInputSize)", "steps_per_bar": "\(config.stepsPerBar)",
            "first_pitch_index": "\(encoding.firstPitchIndex)", "format": format.rawValue,
        ]
        if let c = config.conditioning { m["condition"] = c.rawValue }
        if config.lookbackInputs {
            m.merge(TransformerConfig.lookbackMetadata(eventClasses: config.units, stepsPerBar: config.stepsPerBar)) { $1 }
        }
        if !config.styles.isEmpty { m["styles"] = config.styles.joined(separator: ",") }
        m.merge(config.frameLayout.metadata) { $1 }
        return m
    }

    /// One split's rows as CSR tensors under `split.`, each piece encoded as it is stored (a transposed corpus
    /// is large, and its encoded pieces need not all be held at once); returns the pieces and steps stored.
    static func store(_ pieces: [TrainingPiece], encoding: SequenceEncoding, as split: String,
                      into columns: inout [String: Column]) -> (pieces: Int, steps: Int) {
        var pieceOffsets: [Int64] = [0], inputOffsets: [Int64] = [0], targetOffsets: [Int64] = [0]
        var inputIndices: [Int32] = [], inputValues: [Float] = [], targetIndices: [Int32] = []
        for piece in pieces {
            let p = encoding.encode(piece)
            guard p.count > 0 else { continue }
            for t in 0..<p.count {
                for k in p.inputs.range(t) {
                    inputIndices.append(p.inputs.indices[k])
                    inputValues.append(p.inputs.values[k])
                }
                inputOffsets.append(Int64(inputIndices.count))
                targetIndices += p.targets.row(t).map { Int32($0) }
                targetOffsets.append(Int64(targetIndices.count))
            }
            pieceOffsets.append(pieceOffsets.last! + Int64(p.count))
        }
        columns["\(split).piece_offsets"] = .i64(pieceOffsets)
        columns["\(split).input_offsets"] = .i64(inputOffsets)
        columns["\(split).input_indices"] = .i32(inputIndices)
        columns["\(split).input_values"] = .f32(inputValues)
        columns["\(split).target_offsets"] = .i64(targetOffsets)
        columns["\(split).target_indices"] = .i32(targetIndices)
        return (pieceOffsets.count - 1, Int(pieceOffsets.last!))
    }

    /// Integer tensors keep their own type in the file (a Tensor holds floats, which would round offsets past 2^24).
    enum Column {
        case i64([Int64]), i32([Int32]), f32([Float])

        var dtype: String {
            switch self {
            case .i64: "I64"
            case .i32: "I32"
            case .f32: "F32"
            }
        }

        var count: Int {
            switch self {
            case .i64(let v): v.count
            case .i32(let v): v.count
            case .f32(let v): v.count
            }
        }

        var byteCount: Int { count * (dtype == "I64" ? 8 : 4) }

        /// The values' bytes, little-endian as safetensors stores them.
        func append(to out: inout [UInt8]) {
            switch self {
            case .i64(let v): Self.append(v.map(\.littleEndian), to: &out)
            case .i32(let v): Self.append(v.map(\.littleEndian), to: &out)
            case .f32(let v): Self.append(v.map(\.bitPattern.littleEndian), to: &out)
            }
        }

        private static func append<T>(_ values: [T], to out: inout [UInt8]) {
            values.withUnsafeBytes { out.append(contentsOf: $0) }
        }
    }

    /// The safetensors bytes: the columns sorted by name, packed, header padded to 8. Each column is released
    /// once its bytes are in the file's buffer, so a large corpus is held about once, not three times.
    static func encode(_ columns: inout [String: Column], metadata: [String: String]) -> [UInt8] {
        let names = columns.keys.sorted()
        var fields: [String] = []
        let pairs = metadata.keys.sorted().map { "\(json($0)):\(json(metadata[$0]!))" }
        fields.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        var offset = 0
        for name in names {
            let column = columns[name]!
            fields.append("\(json(name)):{\"dtype\":\"\(column.dtype)\",\"shape\":[\(column.count)],\"data_offsets\":[\(offset),\(offset + column.byteCount)]}")
            offset += column.byteCount
        }
        var header = Array(("{" + fields.joined(separator: ",") + "}").utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var out: [UInt8] = []
        out.reserveCapacity(8 + header.count + offset)
        append(&out, UInt64(header.count), 8)
        out += header
        for name in names { columns.removeValue(forKey: name)!.append(to: &out) }
        return out
    }

    private static func append(_ out: inout [UInt8], _ v: UInt64, _ n: Int) {
        for k in 0..<n { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(k)))) }
    }

    private static func json(_ s: String) -> String {
        let bytes = try! JSONSerialization.data(withJSONObject: [s], options: [.fragmentsAllowed])
        return String(String(decoding: bytes, as: UTF8.self).dropFirst().dropLast())
    }
}
