import Foundation
import Music
import Neural
import Synchronization

/// A variation part's memory of the player's phrase and its answer: a MusicVAE's variation of the player's
/// last bars, decoded on a thread of its own while the player is still silent, and played from the first
/// downbeat of the answer.
///
/// The engine thread hears the player's event of every step. When the player falls silent (their note
/// stops), the phrase's bars go to the decoder thread: from its first bar when it is shorter than the
/// model's phrase, else the last bars through the one its note last sounded in. A later note makes that
/// plan stale and the next silence asks again. A phrase ends only after `phrase_end_beats` of
/// silence, so the decode (tens of milliseconds) has those beats, and the wait to the downbeat, to finish:
/// the engine never waits for it. Should it not be ready by the answer's first downbeat, the part rests to
/// the next one (`lateDownbeats` counts these).
final class PhraseVariation: @unchecked Sendable {
    // @unchecked: used by the engine thread only; the decoder's buffers change hands through its atomic state.
    let steps: Int
    let stepsPerBar = Phrases.stepsPerBar
    private let decoder: PhraseDecoder
    /// The player's events by step, as a ring of `steps` (NO_EVENT where unheard).
    private var heard: [Int]
    private var lastHeardStep: Int64 = .min
    /// The last step the player's note sounded on (struck or held), and whether one sounds now.
    private var lastSoundStep: Int64 = .min
    private var sounding = false
    /// The phrase's first note (the part is reset when the player's phrase starts).
    private var firstSoundStep: Int64 = .min
    private var pendingEvent: Int? = nil
    /// The player struck since the plan was asked for.
    private var stale = true
    /// The answer: the decoded phrase and the downbeat it starts on (nil: not placed yet).
    private var plan: [Int]
    private var planReady = false
    private var anchor: Int64? = nil
    private(set) var lateDownbeats = 0
    private(set) var decodes = 0
    /// Decode on the engine thread, at once: for rendering faster than real time (offline commands, tests),
    /// where the decoder thread's milliseconds would be many simulated steps.
    var decodesInline = false

    init(vae: MusicVAE, amount: Double, temperature: Double, seed: UInt64) {
        steps = vae.config.steps
        heard = Array(repeating: 0, count: steps)
        plan = Array(repeating: 0, count: steps)
        decoder = PhraseDecoder(vae: vae, amount: Float(amount), temperature: Float(temperature), seed: seed)
    }

    deinit { decoder.stop() }

    var classes: Int { decoder.vae.config.classes }
    /// How long the last variation took to decode (encode, move, decode the bars).
    var lastDecode: Duration { decoder.lastDecode }

    /// Forget the phrase (a new one starts; the preset or clock changed).
    func reset() {
        for i in heard.indices { heard[i] = 0 }
        lastHeardStep = .min
        lastSoundStep = .min
        firstSoundStep = .min
        sounding = false
        pendingEvent = nil
        stale = true
        planReady = false
        anchor = nil
    }

    /// The player's event of the step before the one the part advances to next.
    func hear(_ event: Int) { pendingEvent = event }

    /// The player's key (bit k = pitch class k, 0 while none is heard): the answer keeps to it.
    var keyClasses: UInt16 = 0
    /// How much less likely a note outside the player's key is in the answer (nats).
    static let outOfKeyNats: Float = 2

    /// The part steps to `step`: the player's event heard for the step before it (while listening) is kept.
    func advance(step: Int64) {
        collectDecoded()
        guard let event = pendingEvent else { return }
        pendingEvent = nil
        remember(event, at: step - 1)
        anchor = nil
    }

    /// The class the part plays on `step` of its answer: the plan's event once the answer's first downbeat
    /// has come (NO_EVENT before it).
    func answer(at step: Int64) -> Int {
        collectDecoded()
        // The phrase ended without the note stopping first (the phrase-end controller): ask now.
        if stale, lastSoundStep != .min { askForThePhrase() }
        collectDecoded()
        if anchor == nil { anchor = downbeat(atOrAfter: step) }
        guard let start = anchor, step >= start else { return 0 }
        guard planReady else {
            // Not decoded in time: rest to the next downbeat.
            if step == start { lateDownbeats += 1 }
            anchor = downbeat(atOrAfter: step + 1)
            return 0
        }
        let k = Int(step - start)
        if k < steps { return plan[k] }
        // Past the varied bars: the last note ends and the part rests.
        return k == steps && plan.contains(where: { $0 >= EventVocabulary.firstPitchIndex }) ? 1 : 0
    }

    private func remember(_ event: Int, at step: Int64) {
        if lastHeardStep != .min, step > lastHeardStep + 1 {
            // Steps not heard (the part was muted) are rests.
            var s = lastHeardStep + 1
            while s < step && s <= lastHeardStep + Int64(steps) { heard[slot(s)] = 0; s += 1 }
        }
        heard[slot(step)] = event
        lastHeardStep = step
        if event >= EventVocabulary.firstPitchIndex {
            if firstSoundStep == .min { firstSoundStep = step }
            sounding = true
            stale = true
            planReady = false
        } else if event == 1 {
            sounding = false
        }
        if sounding { lastSoundStep = step }
        if event == 1, stale, lastSoundStep != .min {
            // The player's note stopped: vary the bars through the one it last sounded in, while the silence lasts.
            askForThePhrase()
        }
    }

    /// Hands the phrase to the decoder, when it is free: the bars from the phrase's first bar when it is
    /// shorter than the model's phrase (a one-bar call is varied from its downbeat, not after a silent bar),
    /// else the last bars through the one the player's note last sounded in.
    private func askForThePhrase() {
        guard decoder.isIdle else { return }
        let bar = Int64(stepsPerBar)
        let first = (max(firstSoundStep, 0) / bar) * bar
        let start = max(first, barEnd(after: lastSoundStep) - Int64(steps))
        decoder.vary(inline: decodesInline, keep: keyClasses, nats: Self.outOfKeyNats) { buffer in
            for k in 0..<steps {
                let s = start + Int64(k)
                buffer[k] = s <= lastHeardStep && s > lastHeardStep - Int64(steps) && s >= 0 ? heard[slot(s)] : 0
            }
        }
        stale = false
        planReady = false
        decodes += 1
    }

    private func collectDecoded() {
        guard decoder.collect(into: &plan) else { return }
        // A plan for a phrase the player has since played on is stale: ask again at the next silence.
        planReady = !stale
    }

    private func slot(_ step: Int64) -> Int { Int(((step % Int64(steps)) + Int64(steps)) % Int64(steps)) }

    private func barEnd(after step: Int64) -> Int64 {
        let bar = Int64(stepsPerBar)
        let s = max(step, 0)
        return (s / bar + 1) * bar
    }

    private func downbeat(atOrAfter step: Int64) -> Int64 {
        let bar = Int64(stepsPerBar)
        let s = max(step, 0)
        return (s + bar - 1) / bar * bar
    }
}
