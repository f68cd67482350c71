import Foundation
import Neural
import Synchronization

/// A MusicVAE's own thread: it waits for a job (vary a phrase, or decode a place in the latent space),
/// does it, and leaves the decoded phrase for the engine thread, which never waits for it. One job at a
/// time; the engine asks only while the decoder is idle and collects when it is done.
final class PhraseDecoder: @unchecked Sendable {
    // @unchecked: `phrase`, `latent` and `answer` belong to whoever the state says: the engine thread while
    // idle or done, the decoding thread while asked.
    let vae: MusicVAE
    let amount: Float, temperature: Float
    private var rng: SeededRandom
    private let state = Atomic<Int>(PhraseDecoder.idle)
    private let wake = DispatchSemaphore(value: 0)
    private let stopping = Atomic<Bool>(false)
    private var varies = true
    private var phrase: [Int]
    private var latent: [Float]
    private var answer: [Int]
    /// Nats added to each class's logit while decoding (the player's key), set with the job.
    private var bias: [Float]
    private var biased = false
    static let idle = 0, asked = 1, done = 2
    /// How long the last job took, in nanoseconds (0 before the first).
    private let lastDecodeNanoseconds = Atomic<Int>(0)
    var lastDecode: Duration { .nanoseconds(lastDecodeNanoseconds.load(ordering: .relaxed)) }

    init(vae: MusicVAE, amount: Float, temperature: Float, seed: UInt64) {
        self.vae = vae
        self.amount = amount
        self.temperature = temperature
        rng = SeededRandom(seed: seed)
        phrase = Array(repeating: 0, count: vae.config.steps)
        latent = Array(repeating: 0, count: vae.config.latent)
        answer = Array(repeating: 0, count: vae.config.steps)
        bias = Array(repeating: 0, count: vae.config.classes)
        let thread = Thread { [self] in run() }
        thread.name = "sideman-musicvae"
        thread.start()
    }

    var isIdle: Bool { state.load(ordering: .acquiring) == Self.idle }

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

    private func ask(inline: Bool) {
        state.store(Self.asked, ordering: .releasing)
        if inline { work() } else { wake.signal() }
    }

    /// Copies a finished phrase out (and frees the decoder); false while none is finished.
    func collect(into out: inout [Int]) -> Bool {
        guard state.load(ordering: .acquiring) == Self.done else { return false }
        for k in out.indices { out[k] = answer[k] }
        state.store(Self.idle, ordering: .releasing)
        return true
    }

    func stop() {
        stopping.store(true, ordering: .releasing)
        wake.signal()
    }

    private func run() {
        while true {
            wake.wait()
            if stopping.load(ordering: .acquiring) { return }
            guard state.load(ordering: .acquiring) == Self.asked else { continue }
            work()
        }
    }

    private func work() {
        let started = ContinuousClock.now
        let b = biased ? bias : nil
        let decoded = varies ? vae.vary(phrase, amount: amount, temperature: temperature, bias: b, rng: &rng)
                             : vae.decode(latent, temperature: temperature, bias: b, rng: &rng)
        for k in answer.indices { answer[k] = decoded[k] }
        let took = (ContinuousClock.now - started).components
        lastDecodeNanoseconds.store(max(1, Int(took.seconds) * 1_000_000_000 + Int(took.attoseconds / 1_000_000_000)), ordering: .relaxed)
        state.store(Self.done, ordering: .releasing)
    }
}
