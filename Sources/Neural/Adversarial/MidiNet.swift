import Foundation

/// A trained MidiNet generator for playing: a bar of melody from the bar's chord, the bar before it and
/// fresh noise. Batch statistics are the running ones (evaluation), so one bar needs no others. Buffers
/// are sized at load; a bar allocates only its result.
public final class MidiNet {
    public let config: MidiNetConfig
    let network: MidiNetGenerator
    private let noise: TrainingBuffer, chord: TrainingBuffer, previous: TrainingBuffer
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
    }

    public convenience init(path: String, bars: Int = 1) throws(WeightsError) {
        try self.init(SafeTensors.read(path: path), bars: bars)
    }

    /// One bar per chord (at most `bars`), each after its previous bar (nil: none), each step drawn from
    /// the generator's softmax at `temperature` (0: the likeliest class).
    public func generate(chords: [MidiNetChord?], previous lines: [[Int]?], temperature: Float, rng: inout SeededRandom) -> [[Int]] {
        let n = chords.count
        precondition(n >= 1 && n <= bars && lines.count == n)
        let (S, K) = (config.stepsPerBar, config.classes)
        for i in 0..<(n * config.noise) { noise[i] = rng.normal() }
        for (b, c) in chords.enumerated() { MidiNetChord.write(c, into: chord.base + b * MidiNetConfig.chordSize) }
        TrainableMidiNet.writeOneHot(lines, config, into: previous.base)
        network.forward(noise: noise.base, chords: chord.base, previous: previous.base, bars: n, training: false)
        return (0..<n).map { b in
            (0..<S).map { t in Self.draw(network.probabilities.base + (b * S + t) * K, K, temperature: temperature, rng: &rng) }
        }
    }

    /// One bar (`generate` for a single chord).
    public func bar(chord: MidiNetChord?, previous: [Int]?, temperature: Float, rng: inout SeededRandom) -> [Int] {
        generate(chords: [chord], previous: [previous], temperature: temperature, rng: &rng)[0]
    }

    /// A class from probabilities: the likeliest at temperature 0, else drawn from p^(1/T).
    static func draw(_ p: UnsafePointer<Float>, _ n: Int, temperature: Float, rng: inout SeededRandom) -> Int {
        var best = 0
        for k in 1..<n where p[k] > p[best] { best = k }
        guard temperature > 0 else { return best }
        let power = 1 / temperature
        var total: Float = 0
        for k in 0..<n { total += Foundation.pow(p[k] / p[best], power) }
        var u = rng.nextUnit() * total
        for k in 0..<n {
            u -= Foundation.pow(p[k] / p[best], power)
            if u <= 0 { return k }
        }
        return best
    }
}
