import Foundation

/// Follows the player's beat from note onsets, and from taps on a tap-tempo controller.
///
/// Two estimators work together:
/// - Tempo induction: every onset votes, with each of the recent onsets before it, for the beat
///   periods their distance could be (one beat, two, three, four, or half a beat). Votes go into a
///   histogram of periods on a 1% log scale that decays with every onset, so it forgets old tempi. Its
///   peak near the current tempo pulls the tempo towards what the player has been doing over the last
///   bars.
/// - Phase lock: an onset near a beat or an off-beat 8th of the predicted grid nudges the grid's
///   phase and period towards it (a PLL correcting both); onsets far from both (16ths, syncopations)
///   are left out.
/// Tempo jumps (when the player is clearly elsewhere, or most onsets miss the grid) go to the histogram
/// peak nearest the expected tempo, choosing between it and its 3:2 and 2:3 neighbours — the readings
/// dotted rhythms confuse — by how well each grid fits the recent onsets. Everything stays within an
/// octave around the expected tempo.
/// Without onsets nothing changes: the tempo holds through rests instead of collapsing. After a long
/// silence the first onset re-phases the grid to the nearest beat, since players come back in on one.
public struct BeatTracker: Sendable {
    public static let bins = 181
    /// Onsets closer than this are one event (a chord, a flam).
    let chordFrames: Double
    let longestVoteFrames: Double
    /// A gap this long (or four beats, if longer) is a silence the player comes back from.
    let returnGapFrames: Double
    let minFramesPerBeat: Double
    let maxFramesPerBeat: Double
    let stepsPerBeat: Int
    private var histogram = InlineArray<181, Double>(repeating: 0)
    /// The period (frames per beat) each bin stands for.
    private var binPeriods = InlineArray<181, Double>(repeating: 0)
    private var onsets = InlineArray<16, UInt64>(repeating: 0)
    private var onsetCount = 0
    private var onsetHead = 0
    private var lastOnset: UInt64?
    private var lastTap: UInt64?
    private var tapIntervals = InlineArray<4, Double>(repeating: 0)
    private var tapCount = 0
    private var disagreements = 0
    /// Running share of onsets that fall near the grid's beats and off-beat 8ths. A wrong reading such as
    /// dotted quarters for quarters leaves most onsets between the grid lines, which a tempo peak alone
    /// does not show.
    private var fit = 1.0
    /// Where the player is expected to be: the preset tempo, or the last tapped one. Jumps of tempo go
    /// to the histogram peak nearest this (in octaves), which settles double- and half-time readings
    /// the onsets alone cannot tell apart.
    private var expectedFramesPerBeat: Double

    static let binRatio = 1.01

    /// - Parameter tempoRange: bounds of the followed beat, in beats (of the meter) per minute.
    public init(sampleRate: Double, stepsPerBeat: Int, tempoRange: ClosedRange<Double>, expectedFramesPerBeat: Double) {
        self.stepsPerBeat = stepsPerBeat
        self.expectedFramesPerBeat = expectedFramesPerBeat
        chordFrames = 0.05 * sampleRate
        longestVoteFrames = 2.5 * sampleRate
        returnGapFrames = 3 * sampleRate
        minFramesPerBeat = sampleRate * 60 / tempoRange.upperBound
        maxFramesPerBeat = sampleRate * 60 / tempoRange.lowerBound
        for i in 0..<Self.bins { binPeriods[i] = minFramesPerBeat * pow(Self.binRatio, Double(i)) }
    }

    public mutating func reset() {
        for i in 0..<Self.bins { histogram[i] = 0 }
        onsetCount = 0
        lastOnset = nil
        lastTap = nil
        tapCount = 0
        disagreements = 0
        fit = 1
    }

    /// Moves the band the tempo may follow within, as a new preset tempo or a tempo hint does.
    public mutating func expect(framesPerBeat: Double) {
        expectedFramesPerBeat = clampPeriod(framesPerBeat)
        disagreements = 0
    }

    private func binPeriod(_ i: Int) -> Double { binPeriods[i] }

    private func bin(ofPeriod p: Double) -> Double { log(p / minFramesPerBeat) / log(Self.binRatio) }

    private func clampPeriod(_ p: Double) -> Double { min(max(p, minFramesPerBeat), maxFramesPerBeat) }

    /// The periods the onsets may move the tempo to: one octave centred on the expected tempo (within
    /// the hard range). An octave holds no tempo and its double, so a player is never followed at half
    /// or double time — the one ambiguity onsets cannot settle — and taps move the band.
    private var band: ClosedRange<Double> {
        let low = max(minFramesPerBeat, expectedFramesPerBeat / 2.0.squareRoot())
        let high = min(maxFramesPerBeat, expectedFramesPerBeat * 2.0.squareRoot())
        return low...max(low, high)
    }

    private func clampToBand(_ p: Double) -> Double { min(max(p, band.lowerBound), band.upperBound) }

    /// Spreads a vote over neighbouring bins (triangle, ±2%) so that jittered intervals meet.
    private mutating func vote(period: Double, weight: Double) {
        guard period >= minFramesPerBeat * 0.98, period <= maxFramesPerBeat * 1.02 else { return }
        let centre = bin(ofPeriod: period)
        let low = Int(centre.rounded(.down)) - 2
        for i in max(0, low)...min(Self.bins - 1, low + 5) {
            let w = 1 - abs(Double(i) - centre) / 3
            if w > 0 { histogram[i] += weight * w }
        }
    }

    /// The histogram's peak (period and height) under a log-normal prior around `period`, `width`
    /// octaves wide, among periods in `window`; nil when there are no votes there.
    private func peak(
        near period: Double, octaves width: Double, window: ClosedRange<Double>, excluding: ClosedRange<Double>? = nil
    ) -> (period: Double, height: Double)? {
        var best = 0.0
        var bestBin = -1
        for i in 0..<Self.bins where histogram[i] > 0 && window.contains(binPeriod(i)) && !(excluding?.contains(binPeriod(i)) ?? false) {
            let octaves = log2(binPeriod(i) / period) / width
            let score = histogram[i] * exp(-0.5 * octaves * octaves)
            if score > best {
                best = score
                bestBin = i
            }
        }
        guard bestBin >= 0 else { return nil }
        // Parabolic interpolation between bins for a finer peak.
        var offset = 0.0
        if bestBin > 0, bestBin < Self.bins - 1 {
            let a = histogram[bestBin - 1]
            let b = histogram[bestBin]
            let c = histogram[bestBin + 1]
            let d = a - 2 * b + c
            if d < 0 { offset = max(-0.5, min(0.5, 0.5 * (a - c) / d)) }
        }
        return (minFramesPerBeat * pow(Self.binRatio, Double(bestBin) + offset), histogram[bestBin])
    }

    /// How well the remembered onsets sit on a grid of `period` through one of the latest onsets (the
    /// one that fits best: the latest may be a syncopation): 1 per onset on a beat, ½ on an off-beat 8th.
    /// Counting off-beats at half keeps a grid 3:2 too fast, whose off-beats catch every other beat,
    /// from tying with the right one.
    private func gridFit(period: Double) -> Double {
        guard onsetCount >= 2 else { return 0 }
        var best = 0.0
        for a in 0..<min(4, onsetCount) {
            let anchor = onsets[(onsetHead + 16 - 1 - a) % 16]
            var hits = 0.0
            for k in 0..<onsetCount {
                let o = onsets[(onsetHead + 16 - 1 - k) % 16]
                let beats = (Double(anchor) - Double(o)) / period
                if abs(beats - beats.rounded()) < 0.1 {
                    hits += 1
                } else if abs(beats * 2 - (beats * 2).rounded()) < 0.2 {
                    hits += 0.5
                }
            }
            best = max(best, hits)
        }
        return best / Double(onsetCount)
    }

    /// Of a histogram peak and its 3:2 and 2:3 neighbours (the readings dotted rhythms confuse), the
    /// period whose grid fits the recent onsets best, weighed by nearness to the expected tempo.
    private func bestReading(around candidate: Double) -> Double {
        var best = clampToBand(candidate)
        var bestScore = -1.0
        for reading in 0..<3 {
            let q = reading == 0 ? candidate : reading == 1 ? candidate * 1.5 : candidate / 1.5
            guard band.contains(q) else { continue }
            let octaves = log2(q / expectedFramesPerBeat) / 0.5
            let score = gridFit(period: q) * exp(-0.5 * octaves * octaves)
            if score > bestScore + 1e-9 {
                bestScore = score
                best = q
            }
        }
        return best
    }

    /// Takes an onset at `frame` and corrects `timeline` (tempo and phase) from it.
    public mutating func onset(at frame: UInt64, timeline: inout Timeline) {
        let spb = Double(stepsPerBeat)
        var period = timeline.framesPerStep * spb
        // Frames are compared as signed distances: an onset stamped before the last one (a clock that
        // stepped back) is neither a chord with it nor a return from silence, and cannot underflow.
        if let last = lastOnset, frame > last, Double(frame.frames(since: last)) < chordFrames { return }
        let returning = lastOnset.map { frame > $0 && Double(frame.frames(since: $0)) > max(4 * period, returnGapFrames) } ?? false
        lastOnset = frame

        if returning {
            onsetCount = 0
            let beats = timeline.position(at: frame) / spb
            let error = beats - beats.rounded()
            timeline = Timeline(anchorFrame: frame, anchorPosition: (beats - error) * spb, framesPerStep: timeline.framesPerStep)
            remember(frame)
            return
        }

        // Induction: this onset against each remembered one. Near neighbours weigh most, and an interval
        // is read first as one beat, then as two, half, three or four.
        for i in 0..<Self.bins { histogram[i] *= 0.9 }
        for k in 0..<onsetCount {
            let earlier = onsets[(onsetHead + 16 - 1 - k) % 16]
            let d = Double(frame.frames(since: earlier))
            if d > longestVoteFrames { break }
            guard d > 0 else { continue }
            let w = 1 / (1 + 0.5 * Double(k))
            vote(period: d, weight: w)
            vote(period: d / 2, weight: 0.5 * w)
            vote(period: d * 2, weight: 0.35 * w)
            vote(period: d / 3, weight: 0.2 * w)
            vote(period: d / 4, weight: 0.25 * w)
        }
        remember(frame)
        // The tempo follows the histogram's peak near it, as long as that peak holds its own against the
        // best reading near the expected tempo; otherwise, after a few onsets, it jumps there.
        if let global = peak(near: expectedFramesPerBeat, octaves: 0.5, window: band) {
            let local = peak(near: period, octaves: 1, window: (period / 1.12)...(period * 1.12))
            if let local, local.height >= 0.6 * global.height {
                disagreements = 0
                period *= pow(local.period / period, 0.2)
            } else {
                disagreements += 1
                // Wait for a few onsets' worth of intervals: the first three or four say little.
                if disagreements >= 3, onsetCount >= 6 {
                    // The player is clearly elsewhere: jump to that tempo and put this onset on a beat.
                    disagreements = 0
                    let beats = timeline.position(at: frame) / spb
                    timeline = Timeline(
                        anchorFrame: frame, anchorPosition: beats.rounded() * spb,
                        framesPerStep: bestReading(around: global.period) / spb)
                    return
                }
            }
        }

        // Phase lock to the nearest beat or off-beat 8th.
        let beats = timeline.position(at: frame) / spb
        let grid = (beats * 2).rounded() / 2
        let error = beats - grid
        var position = beats * spb
        let onGrid = abs(error) <= 0.15
        fit = 0.8 * fit + (onGrid ? 0.2 : 0)
        if onGrid {
            let onBeat = grid == grid.rounded()
            let alpha = onBeat ? 0.35 : 0.2
            let beta = onBeat ? 0.1 : 0.05
            position -= alpha * error * spb
            period *= 1 + beta * error
        } else if fit < 0.45,
            let other = peak(
                near: expectedFramesPerBeat, octaves: 0.5, window: band,
                excluding: (period / 1.12)...(period * 1.12))
        {
            // Most onsets miss the grid: try the best other reading, with this onset on a beat.
            fit = 1
            timeline = Timeline(
                anchorFrame: frame, anchorPosition: beats.rounded() * spb, framesPerStep: bestReading(around: other.period) / spb)
            return
        }
        timeline = Timeline(anchorFrame: frame, anchorPosition: position, framesPerStep: clampToBand(period) / spb)
    }

    /// Takes a tap on the tap-tempo controller: the tap is a beat. Two or more taps in a row set the
    /// tempo to their mean interval; the histogram is re-seeded there so induction agrees with it.
    public mutating func tap(at frame: UInt64, timeline: inout Timeline) {
        let spb = Double(stepsPerBeat)
        var period = timeline.framesPerStep * spb
        let interval = lastTap.map { Double(frame.frames(since: $0)) } ?? 0
        if interval >= minFramesPerBeat, interval <= maxFramesPerBeat {
            tapIntervals[tapCount % 4] = interval
            tapCount += 1
            let n = min(tapCount, 4)
            var sum = 0.0
            for i in 0..<n { sum += tapIntervals[i] }
            period = clampPeriod(sum / Double(n))
            expectedFramesPerBeat = period
            for i in 0..<Self.bins { histogram[i] = 0 }
            vote(period: period, weight: 4)
            disagreements = 0
        } else {
            tapCount = 0
        }
        lastTap = frame
        let beats = timeline.position(at: frame) / spb
        timeline = Timeline(anchorFrame: frame, anchorPosition: beats.rounded() * spb, framesPerStep: period / spb)
    }

    private mutating func remember(_ frame: UInt64) {
        onsets[onsetHead] = frame
        onsetHead = (onsetHead + 1) % 16
        onsetCount = min(onsetCount + 1, 16)
    }
}
