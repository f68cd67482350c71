import Foundation

/// A trained MusicVAE for playing: a phrase's place in the latent space, and phrases decoded from places
/// (a variation: part of the way toward a random place; an interpolation: the way between two phrases).
/// Buffers are sized at load; decoding a phrase allocates only its result.
public final class MusicVAE {
    public let config: MusicVAEConfig
    let network: TrainableMusicVAE
    let sampler: Sampler
    /// A step's logits plus the caller's bias, for sampling.
    private var biased: [Float]

    public init(_ set: WeightSet) throws(WeightsError) {
        config = try MusicVAEConfig(metadata: set.metadata)
        network = TrainableMusicVAE(config, batch: 1, seed: 0)
        try network.load(set)
        sampler = Sampler(count: config.classes)
        biased = Array(repeating: 0, count: config.classes)
    }

    public convenience init(path: String) throws(WeightsError) {
        try self.init(SafeTensors.read(path: path))
    }

    /// μ and σ of the phrase's posterior (`config.steps` classes).
    public func posterior(of phrase: [Int]) -> (mu: [Float], sigma: [Float]) {
        network.posterior(of: [phrase])[0]
    }

    /// The phrase decoded from `z`: each step drawn at `temperature` (0: the most likely class), with
    /// `bias` (nats per class, e.g. against pitches outside the player's key) added to its logits.
    public func decode(_ z: [Float], temperature: Float, bias: [Float]? = nil, rng: inout SeededRandom) -> [Int] {
        network.decode([z]) { _, logits in
            guard let bias else { return sampler.sampleEvent(logits, temperature: temperature, topP: 1, rng: &rng) }
            for k in biased.indices { biased[k] = logits[k] + bias[k] }
            return biased.withUnsafeBufferPointer { sampler.sampleEvent($0.baseAddress!, temperature: temperature, topP: 1, rng: &rng) }
        }[0]
    }

    /// A variation of `phrase`: its posterior mean moved `amount` of the way (along the sphere) toward a
    /// random point of the prior; 0 plays the phrase back as the model hears it, 1 is a phrase of its own.
    public func vary(_ phrase: [Int], amount: Float, temperature: Float, bias: [Float]? = nil, rng: inout SeededRandom) -> [Int] {
        let mu = posterior(of: phrase).mu
        let elsewhere = (0..<config.latent).map { _ in rng.normal() }
        return decode(Self.slerp(mu, elsewhere, amount), temperature: temperature, bias: bias, rng: &rng)
    }

    /// A melody model's bias against every NOTE_ON whose pitch class is outside `pitchClasses` (bit k = class
    /// k), `nats` lower; nil for no pitch classes or a drums model.
    public func outOfScaleBias(_ pitchClasses: UInt16, nats: Float) -> [Float]? {
        var bias = [Float](repeating: 0, count: config.classes)
        return writeOutOfScaleBias(pitchClasses, nats: nats, into: &bias) ? bias : nil
    }

    /// `outOfScaleBias` into a buffer of `config.classes` (allocates nothing); false when there is none.
    public func writeOutOfScaleBias(_ pitchClasses: UInt16, nats: Float, into bias: inout [Float]) -> Bool {
        guard config.content == .melody, pitchClasses != 0, nats > 0 else { return false }
        // Melody classes: NO_EVENT, NOTE_OFF, then NOTE_ON of MIDI pitch 0 ... 127.
        for k in bias.indices { bias[k] = k >= 2 && pitchClasses & (1 << ((k - 2) % 12)) == 0 ? -nats : 0 }
        return true
    }

    /// Spherical interpolation, as MusicVAE moves between latents (a straight line would pass near the
    /// origin, where the prior puts little mass); falls back to a straight line between parallel vectors.
    public static func slerp(_ a: [Float], _ b: [Float], _ t: Float) -> [Float] {
        var out = [Float](repeating: 0, count: a.count)
        slerp(a, b, t, into: &out)
        return out
    }

    /// `slerp` into a buffer as long as `a` (allocates nothing).
    public static func slerp(_ a: [Float], _ b: [Float], _ t: Float, into out: inout [Float]) {
        var aa = 0.0, bb = 0.0, ab = 0.0
        for i in a.indices {
            aa += Double(a[i]) * Double(a[i])
            bb += Double(b[i]) * Double(b[i])
            ab += Double(a[i]) * Double(b[i])
        }
        let cosine = aa > 0 && bb > 0 ? ab / (aa * bb).squareRoot() : 1
        let omega = Foundation.acos(max(-1, min(1, cosine)))
        let s = Foundation.sin(omega)
        let (wa, wb) = s > 1e-6 ? (Foundation.sin((1 - Double(t)) * omega) / s, Foundation.sin(Double(t) * omega) / s) : (1 - Double(t), Double(t))
        for i in a.indices { out[i] = Float(wa * Double(a[i]) + wb * Double(b[i])) }
    }
}
