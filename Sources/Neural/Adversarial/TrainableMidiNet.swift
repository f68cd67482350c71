import Foundation

/// A bar's chord as MidiNet takes it: the root's pitch class and whether the chord is minor.
public struct MidiNetChord: Hashable, Sendable, CustomStringConvertible {
    public var root: Int
    public var minor: Bool

    public init(root: Int, minor: Bool) {
        self.root = ((root % 12) + 12) % 12
        self.minor = minor
    }

    /// The triad's pitch classes (bit k = class k).
    public var triad: UInt16 {
        let third = minor ? 3 : 4
        return UInt16(1 << root) | UInt16(1 << ((root + third) % 12)) | UInt16(1 << ((root + 7) % 12))
    }

    public func transposed(_ semitones: Int) -> MidiNetChord { MidiNetChord(root: root + semitones, minor: minor) }

    /// The 13 condition numbers (all zero for no chord).
    static func write(_ chord: MidiNetChord?, into row: UnsafeMutablePointer<Float>) {
        row.update(repeating: 0, count: MidiNetConfig.chordSize)
        guard let chord else { return }
        row[chord.root] = 1
        row[12] = chord.minor ? 1 : 0
    }

    static let names = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
    public var description: String { Self.names[root] + (minor ? "m" : "") }
}

/// One bar of training data: its steps (classes), the bar before it (nil at a piece's start) and its chord.
public struct MidiNetBar: Hashable, Sendable {
    public var steps: [Int]
    public var previous: [Int]?
    public var chord: MidiNetChord?

    public init(steps: [Int], previous: [Int]?, chord: MidiNetChord?) {
        self.steps = steps
        self.previous = previous
        self.chord = chord
    }

    /// The bar moved by `semitones` (the chord too), or nil when a note would leave the range.
    public func transposed(_ semitones: Int, _ config: MidiNetConfig) -> MidiNetBar? {
        guard semitones != 0 else { return self }
        func move(_ line: [Int]) -> [Int]? {
            var out = line
            for (k, c) in line.enumerated() {
                guard let p = config.pitch(of: c) else { continue }
                guard let moved = config.strike(p + semitones) else { return nil }
                out[k] = moved
            }
            return out
        }
        guard let steps = move(steps) else { return nil }
        var previousMoved: [Int]? = nil
        if let previous {
            guard let p = move(previous) else { return nil }
            previousMoved = p
        }
        return MidiNetBar(steps: steps, previous: previousMoved, chord: chord?.transposed(semitones))
    }
}

/// MidiNet's generator and discriminator trained against each other, with MidiNet's two helps: feature
/// matching (the generator is also asked to match the mean real bar and the mean of the discriminator's
/// first-layer features, weighted `matchBars` and `matchFeatures`) and one-sided label smoothing (real bars
/// are labelled `realLabel`, generated ones 0).
public final class TrainableMidiNet: ParameterHolder {
    public let config: MidiNetConfig
    public let batch: Int
    public let generator: MidiNetGenerator
    public let discriminator: MidiNetDiscriminator
    /// The bars of the batch set last (one-hot rows), the bars before them, their chords, and the noise.
    let real: TrainingBuffer, previous: TrainingBuffer, chords: TrainingBuffer, noise: TrainingBuffer
    let dLogits: TrainingBuffer, dFeatures: TrainingBuffer, dBar: TrainingBuffer
    let meanReal: TrainingBuffer, meanFake: TrainingBuffer, meanRealFeatures: TrainingBuffer, meanFakeFeatures: TrainingBuffer
    public private(set) var bars = 0

    public init(_ config: MidiNetConfig, batch: Int, seed: UInt64) {
        self.config = config
        self.batch = batch
        generator = MidiNetGenerator(config, batch: batch, seed: seed)
        discriminator = MidiNetDiscriminator(config, batch: batch, seed: seed &+ 1)
        let (S, K, F) = (config.stepsPerBar, config.classes, config.discriminatorFirst)
        real = TrainingBuffer(count: batch * S * K)
        previous = TrainingBuffer(count: batch * S * K)
        chords = TrainingBuffer(count: batch * MidiNetConfig.chordSize)
        noise = TrainingBuffer(count: batch * config.noise)
        dLogits = TrainingBuffer(count: batch)
        dFeatures = TrainingBuffer(count: batch * S / 2 * F)
        dBar = TrainingBuffer(count: batch * S * K)
        meanReal = TrainingBuffer(count: S * K)
        meanFake = TrainingBuffer(count: S * K)
        meanRealFeatures = TrainingBuffer(count: S / 2 * F)
        meanFakeFeatures = TrainingBuffer(count: S / 2 * F)
    }

    public var parameters: [Parameter] { generator.parameters + discriminator.parameters }
    public var metadata: [String: String] { config.metadata }

    /// Sets the batch's real bars, the bars before them and their chords.
    public func set(_ batchBars: [MidiNetBar]) {
        precondition(!batchBars.isEmpty && batchBars.count <= batch)
        bars = batchBars.count
        Self.writeOneHot(batchBars.map(\.steps), config, into: real.base)
        Self.writeOneHot(batchBars.map(\.previous), config, into: previous.base)
        for (b, bar) in batchBars.enumerated() { MidiNetChord.write(bar.chord, into: chords.base + b * MidiNetConfig.chordSize) }
    }

    /// Draws the generator's noise (standard normal) for the batch.
    public func drawNoise(_ rng: inout TrainingRandom) {
        for i in 0..<(bars * config.noise) { noise[i] = rng.normal() }
    }

    /// Bars as one-hot rows of classes; a missing bar is all zero (MidiNet's "no previous bar").
    static func writeOneHot(_ lines: [[Int]?], _ config: MidiNetConfig, into out: UnsafeMutablePointer<Float>) {
        let (S, K) = (config.stepsPerBar, config.classes)
        out.update(repeating: 0, count: lines.count * S * K)
        for (b, line) in lines.enumerated() {
            guard let line else { continue }
            for (t, c) in line.prefix(S).enumerated() { out[(b * S + t) * K + c] = 1 }
        }
    }

    static func crossEntropy(_ logit: Float, target: Float) -> Double {
        let x = Double(logit)
        return max(x, 0) + Foundation.log1p(Foundation.exp(-Swift.abs(x))) - Double(target) * x
    }

    /// The discriminator's loss on the batch: real bars against `realLabel`, generated bars against 0 (mean
    /// per bar of each); with `train`, its gradients accumulate into the discriminator. Also returns the mean
    /// probability it gives real and generated bars of being real.
    public func discriminatorPass(train: Bool) -> (loss: Double, realScore: Double, fakeScore: Double) {
        let n = bars
        var loss = 0.0, realScore = 0.0, fakeScore = 0.0
        discriminator.forward(real.base, chords: chords.base, bars: n)
        for b in 0..<n {
            let l = discriminator.logits[b]
            loss += Self.crossEntropy(l, target: config.realLabel) / Double(n)
            realScore += Double(TrainMath.sigmoid(l)) / Double(n)
            dLogits[b] = (TrainMath.sigmoid(l) - config.realLabel) / Float(n)
        }
        if train { discriminator.backward(dLogits.base) }
        generator.forward(noise: noise.base, chords: chords.base, previous: previous.base, bars: n, training: true)
        discriminator.forward(generator.probabilities.base, chords: chords.base, bars: n)
        for b in 0..<n {
            let l = discriminator.logits[b]
            loss += Self.crossEntropy(l, target: 0) / Double(n)
            fakeScore += Double(TrainMath.sigmoid(l)) / Double(n)
            dLogits[b] = TrainMath.sigmoid(l) / Float(n)
        }
        if train { discriminator.backward(dLogits.base) }
        return (loss, realScore, fakeScore)
    }

    /// The generator's loss on the batch: the discriminator's cross-entropy against "real" (mean per bar),
    /// plus feature matching; with `train`, its gradients accumulate into the generator (the
    /// discriminator's gradients are left dirty: zero them before its own pass).
    public func generatorPass(train: Bool) -> (loss: Double, adversarial: Double, matching: Double) {
        let n = bars
        let (S, K, F) = (config.stepsPerBar, config.classes, config.discriminatorFirst)
        let (barWidth, featureWidth) = (S * K, S / 2 * F)
        discriminator.forward(real.base, chords: chords.base, bars: n)
        Self.mean(real.base, rows: n, width: barWidth, into: meanReal.base)
        Self.mean(discriminator.firstFeatures, rows: n, width: featureWidth, into: meanRealFeatures.base)
        generator.forward(noise: noise.base, chords: chords.base, previous: previous.base, bars: n, training: true)
        discriminator.forward(generator.probabilities.base, chords: chords.base, bars: n)
        Self.mean(generator.probabilities.base, rows: n, width: barWidth, into: meanFake.base)
        Self.mean(discriminator.firstFeatures, rows: n, width: featureWidth, into: meanFakeFeatures.base)
        var adversarial = 0.0
        for b in 0..<n {
            let l = discriminator.logits[b]
            adversarial += Self.crossEntropy(l, target: 1) / Double(n)
            dLogits[b] = (TrainMath.sigmoid(l) - 1) / Float(n)
        }
        var barDistance = 0.0, featureDistance = 0.0
        for i in 0..<barWidth { let d = Double(meanReal[i] - meanFake[i]); barDistance += d * d }
        for i in 0..<featureWidth { let d = Double(meanRealFeatures[i] - meanFakeFeatures[i]); featureDistance += d * d }
        let matching = Double(config.matchBars) * barDistance + Double(config.matchFeatures) * featureDistance
        if train {
            let (barScale, featureScale) = (-2 * config.matchBars / Float(n), -2 * config.matchFeatures / Float(n))
            for b in 0..<n {
                for i in 0..<featureWidth { dFeatures[b * featureWidth + i] = featureScale * (meanRealFeatures[i] - meanFakeFeatures[i]) }
            }
            discriminator.backward(dLogits.base, dFirstFeatures: dFeatures.base)
            for b in 0..<n {
                for i in 0..<barWidth { dBar[b * barWidth + i] = discriminator.dBar[b * barWidth + i] + barScale * (meanReal[i] - meanFake[i]) }
            }
            generator.backward(dBar.base)
        }
        return (adversarial + matching, adversarial, matching)
    }

    static func mean(_ x: UnsafePointer<Float>, rows: Int, width: Int, into out: UnsafeMutablePointer<Float>) {
        out.update(repeating: 0, count: width)
        for r in 0..<rows { TrainMath.add(x + r * width, into: out, width) }
        let scale = 1 / Float(rows)
        for i in 0..<width { out[i] *= scale }
    }
}

extension MidiNetGenerator: ParameterHolder {
    public var metadata: [String: String] { config.metadata }
}

extension MidiNetDiscriminator: ParameterHolder {
    public var metadata: [String: String] { config.metadata }
}
