import Foundation

/// A trained MidiNet generator for playing: a bar of melody from the bar's chord, the bar before it and
/// fresh noise. Batch statistics are the running ones (evaluation), so one bar needs no others. Buffers
/// are sized at load; a bar allocates only its result.
public final class MidiNet {
    public let config: MidiNetConfig
    let network: MidiNetGenerator
    private let noise: TrainingBuffer, chord: TrainingBuffer, previous: TrainingBuffer
    private let biased: TrainingBuffer
    private let sampler: Sampler
    public let bars: Int

    /// `bars`: how many bars one call may generate at once (evaluation draws many).
    public init(_ set: WeightSet, bars: Int = 1) throws(WeightsError) {
        config = try MidiNetConfig(metadata: set.metadata)
        self.bars = bars
        network = MidiNetGenerator(config, batch: bars, seed: 0)
        let own = set.tensors.filter { $0.key.hasPrefix("generator.") }
        try network.load(WeightSet(tensors: own, metadata: set.metadata))
        noise = TrainingBuffer(count: bars * config.noise)
        chord = TrainingBuffer(count: bars * MidiNetConfig.chordSize)
        previous = TrainingBuffer(count: bars * config.stepsPerBar * config.classes)
        biased = TrainingBuffer(count: config.classes)
        sampler = Sampler(count: config.classes)
    }

    public convenience init(path: String, bars: Int = 1) throws(WeightsError) {
        try self.init(SafeTensors.read(path: path), bars: bars)
    }

    /// One bar per chord (at most `bars`), each after its previous bar (nil: none), each step drawn from
    /// the generator's softmax at `temperature` (0: the likeliest class), with `bias` (nats per class, e.g.
    /// against pitches outside the player's key) added to its logits.
    public func generate(chords: [MidiNetChord?], previous lines: [[Int]?], temperature: Float, bias: [Float]? = nil,
                         rng: inout SeededRandom) -> [[Int]] {
        let n = chords.count
        precondition(n >= 1 && n <= bars && lines.count == n)
        let (S, K) = (config.stepsPerBar, config.classes)
        for i in 0..<(n * config.noise) { noise[i] = rng.normal() }
        for (b, c) in chords.enumerated() { MidiNetChord.write(c, into: chord.base + b * MidiNetConfig.chordSize) }
        TrainableMidiNet.writeOneHot(lines, config, into: previous.base)
        network.forward(noise: noise.base, chords: chord.base, previous: previous.base, bars: n, training: false)
        return (0..<n).map { b in
            (0..<S).map { t in
                let logits = network.logits + (b * S + t) * K
                for k in 0..<K { biased[k] = logits[k] + (bias?[k] ?? 0) }
                return sampler.sampleEvent(biased.base, temperature: temperature, topP: 1, rng: &rng)
            }
        }
    }

    /// One bar (`generate` for a single chord).
    public func bar(chord: MidiNetChord?, previous: [Int]?, temperature: Float, bias: [Float]? = nil, rng: inout SeededRandom) -> [Int] {
        generate(chords: [chord], previous: [previous], temperature: temperature, bias: bias, rng: &rng)[0]
    }

    /// A bias of `nats` against every class that strikes a pitch outside `pitchClasses` (bit k = class k),
    /// into a buffer of `config.classes`; false (and nothing written) for no pitch classes.
    public func writeOutOfScaleBias(_ pitchClasses: UInt16, nats: Float, into bias: inout [Float]) -> Bool {
        guard pitchClasses != 0, nats > 0 else { return false }
        for k in bias.indices { bias[k] = config.pitch(of: k).map { pitchClasses & (1 << ($0 % 12)) == 0 ? -nats : 0 } ?? 0 }
        return true
    }
}
