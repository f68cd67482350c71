import Foundation

/// MidiNet's discriminator, forward and backward side by side: a bar (one row of class probabilities per
/// step; a real bar's rows are one-hot) ⊕ its chord → `conv1` (kernel 2 along time, stride 2, across all
/// classes: a linear map of each pair of steps) → leaky ReLU: the first layer's features, which feature
/// matching compares; ⊕ chord → `conv2` (kernel 2, stride 2) → BN → leaky ReLU; the bar's remaining steps
/// flattened ⊕ chord → `fc1` → BN → leaky ReLU; ⊕ chord → `fc2`: one logit, real against generated.
public final class MidiNetDiscriminator {
    public let config: MidiNetConfig
    public let batch: Int
    let conv1: SequenceLinear
    let conv2: SequenceLinear, bn2: SequenceBatchNorm
    let fc1: SequenceLinear, bnFC: SequenceBatchNorm
    let fc2: SequenceLinear
    let input1: TrainingBuffer, input2: TrainingBuffer, input3: TrainingBuffer, input4: TrainingBuffer
    let dFirst: TrainingBuffer, dSecond: TrainingBuffer, dHidden: TrainingBuffer
    /// The gradient wrt the bar's class rows [bars·steps × classes] after a backward.
    public let dBar: TrainingBuffer
    private var rows = 0

    public init(_ config: MidiNetConfig, batch: Int, seed: UInt64) {
        self.config = config
        self.batch = batch
        let (S, K, F1, F2, H) = (config.stepsPerBar, config.classes, config.discriminatorFirst, config.discriminatorSecond,
                                 config.discriminatorHidden)
        let chord = MidiNetConfig.chordSize
        conv1 = SequenceLinear("discriminator.conv1", inputs: 2 * K + chord, outputs: F1, maxRows: batch * S / 2)
        conv2 = SequenceLinear("discriminator.conv2", inputs: 2 * F1 + chord, outputs: F2, maxRows: batch * S / 4)
        bn2 = SequenceBatchNorm("discriminator.bn2", features: F2, maxRows: batch * S / 4)
        fc1 = SequenceLinear("discriminator.fc1", inputs: S / 4 * F2 + chord, outputs: H, maxRows: batch)
        bnFC = SequenceBatchNorm("discriminator.bn3", features: H, maxRows: batch)
        fc2 = SequenceLinear("discriminator.fc2", inputs: H + chord, outputs: 1, maxRows: batch)
        input1 = TrainingBuffer(count: batch * S / 2 * (2 * K + chord))
        input2 = TrainingBuffer(count: batch * S / 4 * (2 * F1 + chord))
        input3 = TrainingBuffer(count: batch * (S / 4 * F2 + chord))
        input4 = TrainingBuffer(count: batch * (H + chord))
        dFirst = TrainingBuffer(count: batch * S / 2 * F1)
        dSecond = TrainingBuffer(count: batch * S / 4 * F2)
        dHidden = TrainingBuffer(count: batch * H)
        dBar = TrainingBuffer(count: batch * S * K)
        var rng = TrainingRandom(seed: seed)
        for linear in [conv1, conv2, fc1, fc2] { linear.randomize(&rng) }
    }

    public var trainable: [Parameter] {
        conv1.parameters + conv2.parameters + bn2.trainable + fc1.parameters + bnFC.trainable + fc2.parameters
    }

    public var parameters: [Parameter] {
        conv1.parameters + conv2.parameters + bn2.parameters + fc1.parameters + bnFC.parameters + fc2.parameters
    }

    /// The first layer's features of the last forward [bars·steps/2 × discriminatorFirst].
    public var firstFeatures: UnsafePointer<Float> { UnsafePointer(conv1.output.base) }
    /// The logits of the last forward [bars].
    public var logits: UnsafePointer<Float> { UnsafePointer(fc2.output.base) }

    /// Judges `bars` bars [bars·steps × classes] with their chords [bars × 13]. Batch statistics always:
    /// the discriminator only ever runs in training.
    public func forward(_ bar: UnsafePointer<Float>, chords: UnsafePointer<Float>, bars: Int) {
        precondition(bars >= 1 && bars <= batch)
        rows = bars
        let (S, K, F1, F2, H) = (config.stepsPerBar, config.classes, config.discriminatorFirst, config.discriminatorSecond,
                                 config.discriminatorHidden)
        ChordJoin.join(rows: bars * S / 2, rowsPerBar: S / 2, bar, firstWidth: 2 * K, chords: chords, nil, lastWidth: 0, into: input1.base)
        conv1.forward(input1.base, rows: bars * S / 2)
        Rectifier.forward(conv1.output.base, bars * S / 2 * F1, slope: 0.2)
        ChordJoin.join(rows: bars * S / 4, rowsPerBar: S / 4, conv1.output.base, firstWidth: 2 * F1, chords: chords, nil, lastWidth: 0,
                       into: input2.base)
        conv2.forward(input2.base, rows: bars * S / 4)
        bn2.forward(conv2.output.base, rows: bars * S / 4, training: true)
        Rectifier.forward(bn2.output.base, bars * S / 4 * F2, slope: 0.2)
        ChordJoin.join(rows: bars, rowsPerBar: 1, bn2.output.base, firstWidth: S / 4 * F2, chords: chords, nil, lastWidth: 0, into: input3.base)
        fc1.forward(input3.base, rows: bars)
        bnFC.forward(fc1.output.base, rows: bars, training: true)
        Rectifier.forward(bnFC.output.base, bars * H, slope: 0.2)
        ChordJoin.join(rows: bars, rowsPerBar: 1, bnFC.output.base, firstWidth: H, chords: chords, nil, lastWidth: 0, into: input4.base)
        fc2.forward(input4.base, rows: bars)
    }

    /// Accumulates the gradients from dLogits [bars] and, when given, a gradient on the first layer's
    /// features (feature matching); leaves the gradient wrt the bar in `dBar`.
    public func backward(_ dLogits: UnsafePointer<Float>, dFirstFeatures: UnsafePointer<Float>? = nil) {
        let bars = rows
        let (S, K, F1, F2, H) = (config.stepsPerBar, config.classes, config.discriminatorFirst, config.discriminatorSecond,
                                 config.discriminatorHidden)
        fc2.backward(dLogits)
        ChordJoin.split(rows: bars, fc2.dInput.base, firstWidth: H, lastWidth: 0, first: dHidden.base, last: nil)
        Rectifier.backward(dHidden.base, output: bnFC.output.base, bars * H, slope: 0.2)
        bnFC.backward(dHidden.base)
        fc1.backward(bnFC.dInput.base)
        ChordJoin.split(rows: bars, fc1.dInput.base, firstWidth: S / 4 * F2, lastWidth: 0, first: dSecond.base, last: nil)
        Rectifier.backward(dSecond.base, output: bn2.output.base, bars * S / 4 * F2, slope: 0.2)
        bn2.backward(dSecond.base)
        conv2.backward(bn2.dInput.base)
        ChordJoin.split(rows: bars * S / 4, conv2.dInput.base, firstWidth: 2 * F1, lastWidth: 0, first: dFirst.base, last: nil)
        if let dFirstFeatures { TrainMath.add(dFirstFeatures, into: dFirst.base, bars * S / 2 * F1) }
        Rectifier.backward(dFirst.base, output: conv1.output.base, bars * S / 2 * F1, slope: 0.2)
        conv1.backward(dFirst.base)
        ChordJoin.split(rows: bars * S / 2, conv1.dInput.base, firstWidth: 2 * K, lastWidth: 0, first: dBar.base, last: nil)
    }
}
