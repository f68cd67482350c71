import ArgumentParser
import Neural

/// The files a phrase or bar model's training reads and writes (`train-vae`, `train-midinet`): the data,
/// the validation data, the model, its checkpoint and the one to resume from.
struct TrainingFiles: ParsableArguments {
    @Option(help: "Training data; repeat for more files of the same kind.") var data: [String] = []
    @Option(help: "Validation data (same kind).") var valid: String
    @Option(help: "Where to write the model (.safetensors).") var out: String
    @Option(help: "Resume from this checkpoint.") var resume: String?
    @Option(help: "Checkpoint path (default: <out>.ckpt).") var checkpoint: String?
    @Option(help: "Store --out's weights as f32 or f16.") var weightsDtype: StoredPrecision = .f32

    func validate() throws {
        guard !data.isEmpty else { throw ValidationError("--data is required") }
    }

    var inputs: [String] { data + [valid] }

    var checkpointPath: String { checkpoint ?? out + ".ckpt" }

    /// Refuses outputs that could not be written (or would overwrite the data) before training starts:
    /// the model, its checkpoint, and the loss curve beside it when the command draws one.
    func checkOutputs(lossCurve: Bool) throws {
        for path in [out, checkpointPath] + (lossCurve ? [LossCurve.path(model: out)] : []) { try CommandFiles.checkOutput(path, notOver: inputs) }
    }

    /// Writes weights (the model's at --weights-dtype, a checkpoint's at f32), never over the data.
    func save(_ set: WeightSet, to path: String, model: Bool = false) throws {
        try CommandFiles.write(SafeTensors.encode(set, dtype: model ? weightsDtype.dtype : .f32), to: path, notOver: inputs)
    }
}
