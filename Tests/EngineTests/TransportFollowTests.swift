import MIDI
import Testing

@testable import Engine

/// A synthetic player: bars of quarter and eighth rhythms with rests and syncopations, each onset off
/// by up to ±`jitterMs`, at a tempo that may change from beat to beat.
struct SyntheticPlayer {
    static let patterns: [[Double]] = [
        [0, 1, 2, 3],
        [0, 0.5, 1, 2, 2.5, 3],
        [0, 1.5, 2, 3],  // dotted quarter: the 3rd onset falls on the off-beat
        [0, 1, 2],  // rest on the 4th beat
        [0, 0.5, 1.5, 2.5, 3],  // syncopated off-beats
        [0, 2, 3, 3.5],
    ]

    var start: UInt64 = 48000
    var jitterMs = 15.0
    var seed: UInt64 = 3
    /// Tempo of beat n.
    var bpm: (Int) -> Double

    /// The frame where beat `b` (fractional) falls, without jitter.
    func frame(ofBeat b: Double) -> UInt64 {
        var seconds = 0.0
        let whole = Int(b.rounded(.down))
        for n in 0..<whole { seconds += 60 / bpm(n) }
        seconds += (b - Double(whole)) * 60 / bpm(whole)
        return start + UInt64((seconds * 48000).rounded())
    }

    /// Note-ons and offs for bars `bars` (bar 0 begins at beat 0); rests where `silent` says.
    func events(bars: Range<Int>, silent: (Int) -> Bool = { _ in false }) -> [(UInt64, MIDIMessage)] {
        var j = SplitMixJitter(seed: seed)
        var onsets: [Double] = []
        for bar in bars where !silent(bar) {
            let pattern = Self.patterns[Int(j.next() % UInt64(Self.patterns.count))]
            onsets += pattern.map { Double(bar * 4) + $0 }
        }
        var out: [(UInt64, MIDIMessage)] = []
        for (i, b) in onsets.enumerated() {
            let on = Int64(frame(ofBeat: b)) + Int64(j.jitter() * jitterMs * 48)
            let next = i + 1 < onsets.count ? min(onsets[i + 1], b + 1) : b + 1
            let off = Int64(frame(ofBeat: b + (next - b) * 0.8))
            let note = UInt8(60 + Int(j.next() % 12))
            out.append((UInt64(on), .noteOn(channel: 0, note: note, velocity: 90)))
            out.append((UInt64(off), .noteOff(channel: 0, note: note, velocity: 0)))
        }
        return out.sorted { $0.0 < $1.0 }
    }
}

@Suite struct TransportFollowTests {
    /// Plays `events` into a follow transport, returning the worst relative tempo error against
    /// `expected` over the onsets at or after `fromFrame`.
    private func follow(
        _ rig: inout TransportRig, _ events: [(UInt64, MIDIMessage)], expected: (UInt64) -> Double, fromFrame: UInt64
    ) -> Double {
        var worst = 0.0
        for (f, m) in events {
            rig.send(m, at: f)
            if m.isSoundingNoteOn, f >= fromFrame {
                worst = max(worst, abs(rig.transport.bpm / expected(f) - 1))
            }
        }
        return worst
    }

    /// Mean and worst distance (ms) from each reported beat boundary in `bars` to the player's beat.
    private func beatAlignment(_ rig: TransportRig, _ player: SyntheticPlayer, bars: Range<Int>) -> (mean: Double, worst: Double) {
        var total = 0.0
        var worst = 0.0
        var n = 0
        for b in rig.boundaries where b.isBeat && bars.contains(Int(b.bar)) {
            let beat = Double(b.step / 4)
            let error = abs(Double(b.frame) - Double(player.frame(ofBeat: beat))) / 48
            total += error
            worst = max(worst, error)
            n += 1
        }
        return (total / Double(max(n, 1)), worst)
    }

    private func followRig(bpm: Double = 100) -> TransportRig {
        TransportRig(Transport(settings: transportSettings(.follow, bpm: bpm), sampleRate: 48000, tapController: 27))
    }

    @Test(arguments: [3, 4, 5, 6] as [UInt64])
    func locksToAJitteredPlayerAt96(seed: UInt64) {
        let player = SyntheticPlayer(seed: seed, bpm: { _ in 96 })
        var rig = followRig()
        let events = player.events(bars: 0..<16)
        let worst = follow(&rig, events, expected: { _ in 96 }, fromFrame: player.frame(ofBeat: 8))
        rig.drain(through: events.last!.0)
        let alignment = beatAlignment(rig, player, bars: 2..<16)
        print("follow 96 bpm ±15 ms, seed \(seed): worst tempo error after 2 bars \(worst * 100)%, beat alignment mean \(alignment.mean) ms, worst \(alignment.worst) ms")
        #expect(worst < 0.02)
        #expect(alignment.mean < 25)
        #expect(rig.boundaries.map(\.step) == Array(0..<Int64(rig.boundaries.count)))
    }

    /// The follower moves within an octave around the preset tempo: a player a quarter faster or
    /// slower than the preset is found from the onsets alone.
    @Test(arguments: [(125.0, 1), (125.0, 2), (80.0, 3), (80.0, 4)] as [(Double, UInt64)])
    func findsATempoAwayFromThePreset(bpm: Double, seed: UInt64) {
        let player = SyntheticPlayer(seed: seed, bpm: { _ in bpm })
        var rig = followRig(bpm: 100)
        let events = player.events(bars: 0..<12)
        let worst = follow(&rig, events, expected: { _ in bpm }, fromFrame: player.frame(ofBeat: 8))
        print("follow \(bpm) bpm from a 100 bpm preset, seed \(seed): worst tempo error after 2 bars \(worst * 100)%")
        #expect(worst < 0.02)
    }

    @Test func aTempoHintMovesTheFollowedOctave() {
        // 150 bpm is outside the octave around a 100 bpm preset; the hint moves the octave to it.
        let player = SyntheticPlayer(seed: 2, bpm: { _ in 150 })
        var rig = followRig(bpm: 100)
        rig.transport.setTempo(bpm: 145)
        let events = player.events(bars: 0..<10)
        let worst = follow(&rig, events, expected: { _ in 150 }, fromFrame: player.frame(ofBeat: 16))
        // Without the hint the follower would stop at the octave's top, 141 bpm, 6% short.
        #expect(worst < 0.03)
        #expect(abs(rig.transport.bpm / 150 - 1) < 0.01)
    }

    @Test func followsATempoRamp() {
        // 96 to 120 bpm over 8 bars, then steady.
        let tempo: (Int) -> Double = { n in 96 + 24 * min(1, Double(n) / 32) }
        let player = SyntheticPlayer(seed: 5, bpm: tempo)
        var rig = followRig(bpm: 96)
        let events = player.events(bars: 0..<14)
        var worstInRamp = 0.0
        var worstAfter = 0.0
        for (f, m) in events {
            rig.send(m, at: f)
            guard m.isSoundingNoteOn else { continue }
            // The player's tempo at this frame: the beat it falls in.
            var beat = 0
            while player.frame(ofBeat: Double(beat + 1)) <= f { beat += 1 }
            let error = abs(rig.transport.bpm / tempo(beat) - 1)
            if beat >= 8, beat < 32 { worstInRamp = max(worstInRamp, error) }
            if beat >= 40 { worstAfter = max(worstAfter, error) }
        }
        print("follow ramp 96→120: worst error during ramp \(worstInRamp * 100)%, after \(worstAfter * 100)%")
        #expect(worstInRamp < 0.05)
        #expect(worstAfter < 0.02)
    }

    @Test func tapsSetTempoAndPhase() {
        var rig = followRig(bpm: 100)
        let interval = 48000.0 * 60 / 132
        let taps = (0..<4).map { UInt64(10_000 + (Double($0) * interval).rounded()) }
        for f in taps { rig.send(.controlChange(channel: 0, controller: 27, value: 127), at: f) }
        #expect(abs(rig.transport.bpm - 132) < 0.5)
        // The last tap is a beat: the grid's beats fall on the taps' continuation.
        let lastTap = taps.last!
        #expect(abs(rig.transport.position(at: lastTap).remainder(dividingBy: 4)) < 1e-9)
        rig.drain(through: lastTap + UInt64(interval * 4))
        let beats = rig.boundaries.filter { $0.isBeat && $0.frame > lastTap }
        for (i, b) in beats.enumerated() {
            #expect(abs(Double(b.frame) - (Double(lastTap) + Double(i + 1) * interval)) <= 1)
        }
        // A release (value 0) is not a tap.
        rig.send(.controlChange(channel: 0, controller: 27, value: 0), at: lastTap + 30000)
        #expect(abs(rig.transport.bpm - 132) < 0.5)
    }

    @Test func holdsTempoThroughSilenceAndRelocks() {
        let player = SyntheticPlayer(seed: 9, bpm: { _ in 96 })
        var rig = followRig()
        let first = player.events(bars: 0..<6)
        _ = follow(&rig, first, expected: { _ in 96 }, fromFrame: 0)
        let before = rig.transport.bpm
        // Four bars of silence after bar 6: the grid goes on at the same tempo.
        let silenceEnd = player.frame(ofBeat: 40) - 2400
        rig.drain(through: silenceEnd)
        #expect(rig.transport.bpm == before)
        let quiet = rig.boundaries.filter { $0.frame > player.frame(ofBeat: 25) }
        let gaps = zip(quiet, quiet.dropFirst()).map { Double($1.frame - $0.frame) }
        #expect(gaps.allSatisfy { abs($0 - 48000.0 * 60 / before / 4) <= 1 })
        #expect(abs(before / 96 - 1) < 0.02)
        // The player comes back in (their own time ran on at 96).
        let again = player.events(bars: 10..<14)
        let worst = follow(&rig, again, expected: { _ in 96 }, fromFrame: 0)
        rig.drain(through: again.last!.0)
        let alignment = beatAlignment(rig, player, bars: 11..<14)
        print("follow after 4 silent bars: tempo before \(before), worst error after return \(worst * 100)%, alignment mean \(alignment.mean) ms")
        #expect(worst < 0.02)
        #expect(alignment.mean < 25)
    }
}
