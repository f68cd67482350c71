/// The tensor names of a weights file, written once. The streaming layers load and save them, the plain
/// reference math reads them, and the trainable models name their parameters with them; a file one of them
/// writes must load in the others, so a name spelt twice could drift into a "missing tensor" only a round
/// trip would catch. They follow PyTorch's own (nn.LSTM's `weight_ih_l{k}`, nn.Linear's `.weight`/`.bias`),
/// so a checkpoint maps one to one.
enum TensorName {
    // MARK: nn.LSTM, layer k

    static func lstmWeightIH(_ k: Int) -> String { "weight_ih_l\(k)" }
    static func lstmWeightHH(_ k: Int) -> String { "weight_hh_l\(k)" }
    static func lstmBiasIH(_ k: Int) -> String { "bias_ih_l\(k)" }
    static func lstmBiasHH(_ k: Int) -> String { "bias_hh_l\(k)" }

    // MARK: nn.Linear under a prefix

    static func weight(_ prefix: String) -> String { "\(prefix).weight" }
    static func bias(_ prefix: String) -> String { "\(prefix).bias" }

    // MARK: prefixes of the models' linear maps

    /// The output layer of the recurrent families.
    static let head = "head"
    /// The convolutional family's two-layer output.
    static let headHidden = "head.hidden"
    static let headOutput = "head.output"
    /// The attention family's mix of the input with the last attention read.
    static let inputMix = "input_mix"
    static let attentionKey = "attention.key"
    static let attentionQuery = "attention.query"
    static let attentionOutput = "attention.output"
    /// The attention score vector (a tensor of its own, not a linear map).
    static let attentionScore = "attention.score"
    /// The convolutional family's input projection.
    static let convInput = "input"
    /// The NADE chain head's two weight matrices.
    static let chainInput = "chain.input"
    static let chainOutput = "chain.output"

    // MARK: the dilated convolution stack

    static func convLayer(_ l: Int) -> String { "layers.\(l)" }
    static func dilated(_ layer: String) -> String { "\(layer).dilated" }
    static func residual(_ layer: String) -> String { "\(layer).residual" }
    static func skip(_ layer: String) -> String { "\(layer).skip" }

    // MARK: the transformer's blocks (GPT-2's layout under PyTorch-style names)

    static func block(_ l: Int) -> String { "blocks.\(l)" }
    static func attentionNorm(_ block: String) -> String { "\(block).norm1" }
    /// Queries, keys and values of all heads in one [3·width, width] map.
    static func selfAttentionQKV(_ block: String) -> String { "\(block).attention.qkv" }
    static func selfAttentionOutput(_ block: String) -> String { "\(block).attention.output" }
    static func mlpNorm(_ block: String) -> String { "\(block).norm2" }
    static func mlpUp(_ block: String) -> String { "\(block).mlp.up" }
    static func mlpDown(_ block: String) -> String { "\(block).mlp.down" }
    /// The transformer's final layer norm before the head.
    static let finalNorm = "norm"
}
