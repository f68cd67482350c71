import Foundation

/// Rows side by side: each row of the output is a row of `first` (width `firstWidth`), the chord of its bar
/// (row r belongs to bar r / `rowsPerBar`), then a row of `last` (width `lastWidth`, none when 0). MidiNet
/// concatenates the chord (and the conditioner's layer) to every layer's input this way.
enum ChordJoin {
    static func join(rows: Int, rowsPerBar: Int, _ first: UnsafePointer<Float>, firstWidth: Int, chords: UnsafePointer<Float>,
                     _ last: UnsafePointer<Float>?, lastWidth: Int, into out: UnsafeMutablePointer<Float>) {
        let c = MidiNetConfig.chordSize
        let width = firstWidth + c + lastWidth
        for r in 0..<rows {
            let row = out + r * width
            row.update(from: first + r * firstWidth, count: firstWidth)
            (row + firstWidth).update(from: chords + (r / rowsPerBar) * c, count: c)
            if let last { (row + firstWidth + c).update(from: last + r * lastWidth, count: lastWidth) }
        }
    }

    /// The gradient of a joined input split back: the first columns into `first` (written), the last ones
    /// added into `last`; the chord's columns are dropped (the chord is given, not learned).
    static func split(rows: Int, _ joined: UnsafePointer<Float>, firstWidth: Int, lastWidth: Int,
                      first: UnsafeMutablePointer<Float>, last: UnsafeMutablePointer<Float>?) {
        let c = MidiNetConfig.chordSize
        let width = firstWidth + c + lastWidth
        for r in 0..<rows {
            (first + r * firstWidth).update(from: joined + r * width, count: firstWidth)
            guard let last else { continue }
            TrainMath.add(joined + r * width + firstWidth + c, into: last + r * lastWidth, lastWidth)
        }
    }
}

/// MidiNet's generator, forward and backward side by side, for a batch of bars.
///
/// noise ⊕ chord → `fc1` → BN → ReLU → ⊕ chord → `fc2` → BN → ReLU: 2 steps of `generatorChannels`. Then each
/// up-sampling layer `up{k}` (a transposed convolution of kernel 2 and stride 2 along time, which is a linear
/// map of each step to the two steps it becomes) takes the steps ⊕ chord ⊕ the conditioner's layer of as many
/// steps, → BN → ReLU, doubling the steps to the bar. `out` maps each step ⊕ chord ⊕ the conditioner's first
/// layer to the classes, and a softmax over them gives the step (MidiNet's last layer is a transposed
/// convolution across the whole pitch axis; its sigmoid becomes a softmax for one event per step).
///
/// The conditioner reads the previous bar (one-hot steps; all zero before the first bar): `cond0` maps
/// each step's classes to `conditionerChannels`, and `cond{j}` halves the steps (a convolution of kernel 2,
/// stride 2), each → BN → leaky ReLU (0.2). Rows are bar-major (row b·steps + t), so the halving and
/// doubling reshapes are free.
public final class MidiNetGenerator {
    public let config: MidiNetConfig
    public let batch: Int
    let fc1: SequenceLinear, bn1: SequenceBatchNorm
    let fc2: SequenceLinear, bn2: SequenceBatchNorm
    /// conditioner[j] works at stepsPerBar / 2^j steps.
    let conditioner: [SequenceLinear], conditionerNorm: [SequenceBatchNorm]
    /// up[k] takes 2^(k+1) steps to 2^(k+2).
    let up: [SequenceLinear], upNorm: [SequenceBatchNorm]
    let out: SequenceLinear
    let input0: TrainingBuffer, input1: TrainingBuffer
    let upInputs: [TrainingBuffer], outInput: TrainingBuffer
    /// The softmax of each step [batch·steps × classes].
    public let probabilities: TrainingBuffer
    let dLogits: TrainingBuffer, dHidden: TrainingBuffer, dSteps: TrainingBuffer
    let dConditioner: [TrainingBuffer]
    private var rows = 0

    public init(_ config: MidiNetConfig, batch: Int, seed: UInt64) {
        self.config = config
        self.batch = batch
        let (S, K, Z, H, G, C, U) = (config.stepsPerBar, config.classes, config.noise, config.generatorHidden,
                                     config.generatorChannels, config.conditionerChannels, config.upsamplings)
        let chord = MidiNetConfig.chordSize
        fc1 = SequenceLinear("generator.fc1", inputs: Z + chord, outputs: H, maxRows: batch)
        bn1 = SequenceBatchNorm("generator.bn1", features: H, maxRows: batch)
        fc2 = SequenceLinear("generator.fc2", inputs: H + chord, outputs: 2 * G, maxRows: batch)
        bn2 = SequenceBatchNorm("generator.bn2", features: 2 * G, maxRows: batch)
        conditioner = (0...U).map { j in
            SequenceLinear("generator.cond\(j)", inputs: j == 0 ? K : 2 * C, outputs: C, maxRows: batch * (S >> j))
        }
        conditionerNorm = (0...U).map { j in SequenceBatchNorm("generator.cond\(j)_bn", features: C, maxRows: batch * (S >> j)) }
        up = (0..<U).map { k in
            SequenceLinear("generator.up\(k + 1)", inputs: G + chord + C, outputs: 2 * G, maxRows: batch * (2 << k))
        }
        upNorm = (0..<U).map { k in SequenceBatchNorm("generator.up\(k + 1)_bn", features: G, maxRows: batch * (4 << k)) }
        out = SequenceLinear("generator.out", inputs: G + chord + C, outputs: K, maxRows: batch * S)
        input0 = TrainingBuffer(count: batch * (Z + chord))
        input1 = TrainingBuffer(count: batch * (H + chord))
        upInputs = (0..<U).map { k in TrainingBuffer(count: batch * (2 << k) * (G + chord + C)) }
        outInput = TrainingBuffer(count: batch * S * (G + chord + C))
        probabilities = TrainingBuffer(count: batch * S * K)
        dLogits = TrainingBuffer(count: batch * S * K)
        dHidden = TrainingBuffer(count: batch * H)
        dSteps = TrainingBuffer(count: batch * S * G)
        dConditioner = (0...U).map { j in TrainingBuffer(count: batch * (S >> j) * C) }
        var rng = TrainingRandom(seed: seed)
        for linear in [fc1, fc2, out] + conditioner + up { linear.randomize(&rng) }
    }

    /// What an optimizer updates.
    public var trainable: [Parameter] {
        fc1.parameters + bn1.trainable + fc2.parameters + bn2.trainable + conditioner.flatMap(\.parameters)
            + conditionerNorm.flatMap(\.trainable) + up.flatMap(\.parameters) + upNorm.flatMap(\.trainable) + out.parameters
    }

    /// Everything saved (the batch norms' running statistics too).
    public var parameters: [Parameter] {
        fc1.parameters + bn1.parameters + fc2.parameters + bn2.parameters + conditioner.flatMap(\.parameters)
            + conditionerNorm.flatMap(\.parameters) + up.flatMap(\.parameters) + upNorm.flatMap(\.parameters) + out.parameters
    }

    /// `bars` bars from `noise` [bars × noise], `chords` [bars × 13] and `previous` [bars·steps × classes];
    /// leaves each step's class probabilities in `probabilities`. `training`: batch statistics.
    public func forward(noise: UnsafePointer<Float>, chords: UnsafePointer<Float>, previous: UnsafePointer<Float>, bars: Int,
                        training: Bool) {
        precondition(bars >= 1 && bars <= batch)
        rows = bars
        let (S, K, Z, H, G, C, U) = (config.stepsPerBar, config.classes, config.noise, config.generatorHidden,
                                     config.generatorChannels, config.conditionerChannels, config.upsamplings)
        // The conditioner over the previous bar.
        var x = previous
        for j in 0...U {
            let steps = bars * (S >> j)
            conditioner[j].forward(x, rows: steps)
            conditionerNorm[j].forward(conditioner[j].output.base, rows: steps, training: training)
            Rectifier.forward(conditionerNorm[j].output.base, steps * C, slope: 0.2)
            x = UnsafePointer(conditionerNorm[j].output.base)
        }
        ChordJoin.join(rows: bars, rowsPerBar: 1, noise, firstWidth: Z, chords: chords, nil, lastWidth: 0, into: input0.base)
        fc1.forward(input0.base, rows: bars)
        bn1.forward(fc1.output.base, rows: bars, training: training)
        Rectifier.forward(bn1.output.base, bars * H, slope: 0)
        ChordJoin.join(rows: bars, rowsPerBar: 1, bn1.output.base, firstWidth: H, chords: chords, nil, lastWidth: 0, into: input1.base)
        fc2.forward(input1.base, rows: bars)
        bn2.forward(fc2.output.base, rows: bars, training: training)
        Rectifier.forward(bn2.output.base, bars * 2 * G, slope: 0)
        var steps: UnsafePointer<Float> = UnsafePointer(bn2.output.base)
        for k in 0..<U {
            let n = 2 << k
            ChordJoin.join(rows: bars * n, rowsPerBar: n, steps, firstWidth: G, chords: chords,
                           conditionerNorm[U - k].output.base, lastWidth: C, into: upInputs[k].base)
            up[k].forward(upInputs[k].base, rows: bars * n)
            upNorm[k].forward(up[k].output.base, rows: bars * 2 * n, training: training)
            Rectifier.forward(upNorm[k].output.base, bars * 2 * n * G, slope: 0)
            steps = UnsafePointer(upNorm[k].output.base)
        }
        ChordJoin.join(rows: bars * S, rowsPerBar: S, steps, firstWidth: G, chords: chords, conditionerNorm[0].output.base,
                       lastWidth: C, into: outInput.base)
        out.forward(outInput.base, rows: bars * S)
        for r in 0..<(bars * S) { Self.softmax(out.output.base + r * K, into: probabilities.base + r * K, K) }
    }

    /// The logits of the last forward [bars·steps × classes].
    public var logits: UnsafePointer<Float> { UnsafePointer(out.output.base) }

    static func softmax(_ l: UnsafePointer<Float>, into p: UnsafeMutablePointer<Float>, _ n: Int) {
        var m = -Float.infinity
        for j in 0..<n { m = max(m, l[j]) }
        var sum: Float = 0
        for j in 0..<n { p[j] = Foundation.exp(l[j] - m); sum += p[j] }
        for j in 0..<n { p[j] /= sum }
    }

    /// Accumulates every parameter's gradient from dProbabilities [bars·steps × classes] (the last forward's).
    public func backward(_ dProbabilities: UnsafePointer<Float>) {
        let bars = rows
        let (S, K, Z, H, G, C, U) = (config.stepsPerBar, config.classes, config.noise, config.generatorHidden,
                                     config.generatorChannels, config.conditionerChannels, config.upsamplings)
        _ = Z
        for r in 0..<(bars * S) {
            let (p, d, g) = (probabilities.base + r * K, dProbabilities + r * K, dLogits.base + r * K)
            var dot: Float = 0
            for j in 0..<K { dot += p[j] * d[j] }
            for j in 0..<K { g[j] = p[j] * (d[j] - dot) }
        }
        for j in 0...U { dConditioner[j].zero() }
        out.backward(dLogits.base)
        ChordJoin.split(rows: bars * S, out.dInput.base, firstWidth: G, lastWidth: C, first: dSteps.base, last: dConditioner[0].base)
        for k in stride(from: U - 1, through: 0, by: -1) {
            let n = 2 << k
            Rectifier.backward(dSteps.base, output: upNorm[k].output.base, bars * 2 * n * G, slope: 0)
            upNorm[k].backward(dSteps.base)
            up[k].backward(upNorm[k].dInput.base)
            ChordJoin.split(rows: bars * n, up[k].dInput.base, firstWidth: G, lastWidth: C, first: dSteps.base,
                            last: dConditioner[U - k].base)
        }
        Rectifier.backward(dSteps.base, output: bn2.output.base, bars * 2 * G, slope: 0)
        bn2.backward(dSteps.base)
        fc2.backward(bn2.dInput.base)
        ChordJoin.split(rows: bars, fc2.dInput.base, firstWidth: H, lastWidth: 0, first: dHidden.base, last: nil)
        Rectifier.backward(dHidden.base, output: bn1.output.base, bars * H, slope: 0)
        bn1.backward(dHidden.base)
        fc1.backward(bn1.dInput.base)
        // The conditioner, from its last (shortest) layer back: each layer's gradient is what the
        // generator's layer of its length took from it plus what the conditioner's next layer passes back.
        for j in stride(from: U, through: 0, by: -1) {
            let steps = bars * (S >> j)
            let d = dConditioner[j].base
            Rectifier.backward(d, output: conditionerNorm[j].output.base, steps * C, slope: 0.2)
            conditionerNorm[j].backward(d)
            conditioner[j].backward(conditionerNorm[j].dInput.base)
            if j > 0 { TrainMath.add(conditioner[j].dInput.base, into: dConditioner[j - 1].base, steps * 2 * C) }
        }
    }
}
