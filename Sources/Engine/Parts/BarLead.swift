import Foundation
import Music
import Neural

/// MidiNet's own thread (DecodeWorker): a job generates one bar of melody from a chord and the bar before.
final class BarDecoder: DecodeWorker, @unchecked Sendable {
    let net: MidiNet
    let temperature: Float
    private var rng: SeededRandom
    private var chord: MidiNetChord? = nil
    private var previous: [Int]
    private var hasPrevious = false
    private var bar: [Int]
    /// Nats against pitches outside the player's key, set with the job.
    private var bias: [Float]
    private var biased = false

    init(net: MidiNet, temperature: Float, seed: UInt64) {
        self.net = net
        self.temperature = temperature
        rng = SeededRandom(seed: seed)
        previous = Array(repeating: 0, count: net.config.stepsPerBar)
        bar = Array(repeating: 0, count: net.config.stepsPerBar)
        bias = Array(repeating: 0, count: net.config.classes)
        super.init(threadName: "sideman-midinet")
    }

    /// A bar over `chord` after the bar `fill` writes (it returns false when there is none), keeping to
    /// the pitch classes `key` (bit k = class k; 0: none known) by `nats` against the others.
    func generate(inline: Bool, chord: MidiNetChord, key: UInt16, nats: Float, _ fill: (inout [Int]) -> Bool) {
        self.chord = chord
        biased = net.writeOutOfScaleBias(key, nats: nats, into: &bias)
        hasPrevious = fill(&previous)
        ask(inline: inline)
    }

    /// Copies a finished bar out (and frees the decoder); false while none is finished.
    func collect(into out: inout [Int]) -> Bool {
        collect { for k in out.indices { out[k] = bar[k] } }
    }

    override func work() {
        let made = net.bar(chord: chord, previous: hasPrevious ? previous : nil, temperature: temperature, bias: biased ? bias : nil, rng: &rng)
        for k in bar.indices { bar[k] = made[k] }
    }
}

/// A lead part's bars: MidiNet plays a melody bar by bar over the player's chords.
///
/// Plan ahead, commit late. On the last beat of a bar the next bar is generated on the decoder's thread,
/// over the chord the next bar is expected to open with (the player's loop, else the chord now) and after
/// the bar as it is being played. When a bar is played over another chord than its plan's (a change the
/// loop did not foretell, or a second chord within the bar), the bar is generated again over the chord
/// heard, and the lead rests (its note ends) until it comes, a step later at most in practice (a bar is
/// about a millisecond; a step at 120 bpm is 125 ms). With no chord heard yet the lead waits: it starts with
/// the player's first chord. Nothing here allocates on the engine thread.
final class BarLead: @unchecked Sendable {
    // @unchecked: used by the engine thread only; the decoder's buffers change hands through its atomic state.
    let stepsPerBar: Int
    let config: MidiNetConfig
    private let decoder: BarDecoder
    /// The bar playing, its number and the chord it was generated over (ready: its plan is known).
    private var playing: [Int]
    private var playingBar: Int64 = .min
    private var playingChord: MidiNetChord? = nil
    private var playingReady = false
    /// What the lead played in this bar and the last one, as MidiNet's classes (the next bar's condition).
    private var played: [Int]
    private var lastPlayed: [Int]
    private var hasLastPlayed = false
    /// A generated bar waiting: its number and chord.
    private var next: [Int]
    private var nextBar: Int64 = .min
    private var nextChord: MidiNetChord? = nil
    private var nextReady = false
    /// The job the decoder is on.
    private var askedBar: Int64 = .min
    private var askedChord: MidiNetChord? = nil
    private var sounding = false
    private var lastStep: Int64 = .min
    private var lastEvent = 0
    /// Bars generated, and those generated again because the chord heard was not the plan's.
    private(set) var generated = 0
    private(set) var regenerated = 0
    var decodesInline = false

    init(net: MidiNet, temperature: Double, seed: UInt64) {
        config = net.config
        stepsPerBar = net.config.stepsPerBar
        decoder = BarDecoder(net: net, temperature: Float(temperature), seed: seed)
        playing = Array(repeating: 0, count: stepsPerBar)
        played = Array(repeating: 0, count: stepsPerBar)
        lastPlayed = Array(repeating: 0, count: stepsPerBar)
        next = Array(repeating: 0, count: stepsPerBar)
    }

    deinit { decoder.stop() }

    var classes: Int { EventVocabulary.classes }
    var lastDecode: Duration { decoder.lastDecode }

    /// Forget the bars (a new song; the preset or clock changed).
    func reset() {
        _ = decoder.collect(into: &next)
        playingBar = .min
        playingChord = nil
        playingReady = false
        hasLastPlayed = false
        nextBar = .min
        nextReady = false
        askedBar = .min
        sounding = false
        lastStep = .min
        lastEvent = 0
    }

    /// The player's key (bit k = pitch class k, 0 while none is heard): the bars keep to it.
    var keyClasses: UInt16 = 0
    /// How much less likely a note outside the player's key is (nats): MidiNet, trained on bars whose chord
    /// was read from the melody, strays into chromatic neighbours more than folk tunes do.
    static let outOfKeyNats: Float = 2

    /// The melody event (EventVocabulary) the lead plays on `step`, over `chord` (the chord heard for this
    /// step) with `upcoming` the chord the next bar is expected to open with. The same step asked again
    /// (a reaction) plays the same event.
    func event(at step: Int64, chord: MidiNetChord?, upcoming: MidiNetChord?) -> Int {
        guard step != lastStep else { return lastEvent }
        lastStep = step
        let bar = Int64(stepsPerBar)
        let index = step >= 0 ? step / bar : (step - bar + 1) / bar
        let k = Int(step - index * bar)
        take()
        if index != playingBar {
            // A new bar: the one just played is the next one's previous bar.
            hasLastPlayed = playingBar == index - 1
            if hasLastPlayed { for i in 0..<stepsPerBar { lastPlayed[i] = played[i] } }
            for i in 0..<stepsPerBar { played[i] = 0 }
            playingBar = index
            playingReady = nextReady && nextBar == index
            if playingReady { adopt() }
            nextReady = false
        }
        var switched = false
        if let chord {
            if !playingReady || playingChord != chord {
                if playingReady { regenerated += 1 }
                playingReady = false
                if !(nextReady && nextBar == index && nextChord == chord), askedBar != index || askedChord != chord {
                    ask(bar: index, chord: chord, upTo: k)
                }
                if nextReady, nextBar == index, nextChord == chord {
                    adopt()
                    nextReady = false
                    playingReady = true
                    switched = true
                }
            }
        }
        var e = 0
        if playingReady {
            e = playing[k]
            // A plan taken up within the bar does not hold on to the last plan's note.
            if switched, e == 0, sounding { e = 1 }
        } else if sounding {
            e = 1
        }
        if e >= MidiNetConfig.firstPitchIndex { sounding = true } else if e == 1 { sounding = false }
        played[k] = e
        // On the last beat, the next bar over the chord it is expected to open with.
        if k >= stepsPerBar - 4, let over = upcoming ?? chord, askedBar != index + 1, !(nextReady && nextBar == index + 1) {
            ask(bar: index + 1, chord: over, upTo: k + 1)
        }
        let event = config.pitch(of: e).map { EventVocabulary.firstPitchIndex + $0 } ?? e
        lastEvent = event
        return event
    }

    /// The plan waiting becomes the bar playing.
    private func adopt() {
        for i in 0..<stepsPerBar { playing[i] = next[i] }
        playingChord = nextChord
    }

    private func take() {
        guard decoder.collect(into: &next) else { return }
        (nextBar, nextChord, nextReady) = (askedBar, askedChord, true)
        askedBar = .min
    }

    /// Asks for bar `index` over `chord` when the decoder is free: after the bar before it as played,
    /// or (for the bar playing now, from step `upTo`) after this bar's steps so far and the last bar's rest.
    private func ask(bar index: Int64, chord: MidiNetChord, upTo k: Int) {
        guard decoder.isIdle else { return }
        (askedBar, askedChord) = (index, chord)
        generated += 1
        let current = index == playingBar
        decoder.generate(inline: decodesInline, chord: chord, key: keyClasses, nats: Self.outOfKeyNats) { previous in
            if current {
                guard hasLastPlayed else { return false }
                for i in 0..<stepsPerBar { previous[i] = lastPlayed[i] }
            } else {
                // The bar playing now, as it will have been played: its steps so far, then its plan.
                for i in 0..<stepsPerBar { previous[i] = i < k || !playingReady ? played[i] : playing[i] }
            }
            return true
        }
        if decodesInline { take() }
    }
}
