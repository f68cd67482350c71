import Foundation
import Music
import Neural

/// A groove drummer: a MusicVAE of drum grooves plays phrases decoded from places between two grooves'
/// places in its latent space (spherical interpolation), moving from one toward the other by a share of the
/// way each phrase: 1/`bars` per bar. Where it heads is the groove controller's value; before that is moved,
/// it glides once from the first groove to the second.
///
/// Each phrase is decoded on the decoder's thread while the one before it plays (a phrase of 2 bars is
/// seconds; a decode is milliseconds); the engine only reads decided steps. A phrase not decoded in time
/// (never seen here) is replaced by the one before it, played again (`repeatedPhrases` counts these).
final class GrooveMorph: @unchecked Sendable {
    // @unchecked: used by the engine thread only; the decoder's buffers change hands through its atomic state.
    let steps: Int
    let from: [Float], to: [Float]
    let bars: Int
    private let decoder: PhraseDecoder
    /// Where the phrase playing now sits (0: `from`, 1: `to`) and where the next one will.
    private(set) var position = 0.0
    private var nextPosition = 0.0
    private var playing: [Int]
    private var decoded: [Int]
    private var phraseIndex: Int64 = .min
    private var decodedReady = false
    private(set) var repeatedPhrases = 0
    var decodesInline = false

    init(vae: MusicVAE, from: [Float], to: [Float], bars: Int, temperature: Double, seed: UInt64) {
        steps = vae.config.steps
        self.from = from
        self.to = to
        self.bars = bars
        decoder = PhraseDecoder(vae: vae, amount: 0, temperature: Float(temperature), seed: seed)
        playing = Array(repeating: 0, count: steps)
        decoded = Array(repeating: 0, count: steps)
        reset()
    }

    deinit { decoder.stop() }

    /// Back to the first groove: its phrase decoded now (at load or a new song, off the beat).
    func reset() {
        _ = decoder.collect(into: &decoded)
        position = 0
        nextPosition = 0
        phraseIndex = .min
        ask(at: 0, inline: true)
        decodedReady = decoder.collect(into: &decoded)
        playing = decoded
    }

    /// The drum combination on `step`; `target` is where the groove controller points (nil: not moved).
    func combination(at step: Int64, target: Double?) -> Int {
        let index = step >= 0 ? step / Int64(steps) : (step - Int64(steps) + 1) / Int64(steps)
        if index != phraseIndex {
            phraseIndex = index
            if decodedReady || decoder.collect(into: &decoded) {
                playing = decoded
                position = nextPosition
            } else if index > 0 {
                repeatedPhrases += 1
            }
            decodedReady = false
            // The next phrase's place: a phrase's worth of bars further toward the target.
            let goal = target ?? 1
            let stride = Double(steps / Phrases.stepsPerBar) / Double(bars)
            let next = goal > position ? min(goal, position + stride) : max(goal, position - stride)
            ask(at: next, inline: decodesInline)
            if decodesInline { decodedReady = decoder.collect(into: &decoded) }
        }
        let k = Int(((step % Int64(steps)) + Int64(steps)) % Int64(steps))
        return playing[k]
    }

    private func ask(at place: Double, inline: Bool) {
        guard decoder.isIdle else { return }
        nextPosition = place
        decoder.decode(inline: inline) { latent in MusicVAE.slerp(from, to, Float(place), into: &latent) }
    }
}
