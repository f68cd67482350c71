import Foundation
import Neural

/// A MusicVAE's own thread (DecodeWorker): a job varies a phrase or decodes a place in the latent space,
/// and leaves the decoded phrase for the engine thread.
final class PhraseDecoder: DecodeWorker, @unchecked Sendable {
    let vae: MusicVAE
    let amount: Float, temperature: Float
    private var rng: SeededRandom
    private var varies = true
    private var phrase: [Int]
    private var latent: [Float]
    private var answer: [Int]
    /// Nats added to each class's logit while decoding (the player's key), set with the job.
    private var bias: [Float]
    private var biased = false

    init(vae: MusicVAE, amount: Float, temperature: Float, seed: UInt64) {
        self.vae = vae
        self.amount = amount
        self.temperature = temperature
        rng = SeededRandom(seed: seed)
        phrase = Array(repeating: 0, count: vae.config.steps)
        latent = Array(repeating: 0, count: vae.config.latent)
        answer = Array(repeating: 0, count: vae.config.steps)
        bias = Array(repeating: 0, count: vae.config.classes)
        super.init(threadName: "sideman-musicvae")
    }

    /// A variation of the phrase `fill` writes (`amount` of the way toward a random place). `inline`: now,
    /// on the calling thread.
    /// `keep`: pitch classes (bit k = class k) the variation keeps to, by `nats` against the others; 0 for none.
    func vary(inline: Bool, keep pitchClasses: UInt16 = 0, nats: Float = 0, _ fill: (inout [Int]) -> Void) {
        fill(&phrase)
        biased = vae.writeOutOfScaleBias(pitchClasses, nats: nats, into: &bias)
        varies = true
        ask(inline: inline)
    }

    /// The phrase at the place `fill` writes.
    func decode(inline: Bool, _ fill: (inout [Float]) -> Void) {
        fill(&latent)
        biased = false
        varies = false
        ask(inline: inline)
    }

    /// Copies a finished phrase out (and frees the decoder); false while none is finished.
    func collect(into out: inout [Int]) -> Bool {
        collect { for k in out.indices { out[k] = answer[k] } }
    }

    override func work() {
        let b = biased ? bias : nil
        let decoded = varies ? vae.vary(phrase, amount: amount, temperature: temperature, bias: b, rng: &rng)
                             : vae.decode(latent, temperature: temperature, bias: b, rng: &rng)
        for k in answer.indices { answer[k] = decoded[k] }
    }
}
