import Foundation

/// Follows the player's beat from note onsets, and from taps on a tap-tempo controller.
///
/// Two estimators work together:
/// - Tempo induction: every onset votes, with each of the recent onsets before it, for the beat
///   periods their distance could be (one beat, two, three, four, or half a beat). Votes go into a
///   histogram of periods on a 1% log scale that decays with every onset, so it forgets old tempi. Its
///   peak, weighed by a prior centred on the current tempo (so it does not flip to double or half
///   time), pulls the tempo towards what the player has been doing over the last bars.
/// - Phase lock: an onset near a beat or an off-beat 8th of the predicted grid nudges the grid's
///   phase and period towards it (a first-order PLL); onsets far from both (16ths, syncopations) are
///   left out.
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
    private var onsets = InlineArray<16, UInt64>(repeating: 0)
    private var onsetCount = 0
    private var onsetHead = 0
    private var lastOnset: UInt64?
    private var lastTap: UInt64?
    private var tapIntervals = InlineArray<4, Double>(repeating: 0)
    private var tapCount = 0
    private var disagreements = 0

    static let binRatio = 1.01

    /// - Parameter tempoRange: bounds of the followed beat, in beats (of the meter) per minute.
    public init(sampleRate: Double, stepsPerBeat: Int, tempoRange: ClosedRange<Double>) {
        self.stepsPerBeat = stepsPerBeat
        chordFrames = 0.05 * sampleRate
        longestVoteFrames = 2.5 * sampleRate
        returnGapFrames = 3 * sampleRate
        minFramesPerBeat = sampleRate * 60 / tempoRange.upperBound
        maxFramesPerBeat = sampleRate * 60 / tempoRange.lowerBound
    }

    public mutating func reset() {
        for i in 0..<Self.bins { histogram[i] = 0 }
        onsetCount = 0
        lastOnset = nil
        lastTap = nil
        tapCount = 0
        disagreements = 0
    }

    private func binPeriod(_ i: Int) -> Double { minFramesPerBeat * pow(Self.binRatio, Double(i)) }

    private func bin(ofPeriod p: Double) -> Double { log(p / minFramesPerBeat) / log(Self.binRatio) }

    private func clampPeriod(_ p: Double) -> Double { min(max(p, minFramesPerBeat), maxFramesPerBeat) }

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

    /// The histogram's peak under a prior around `period` (half an octave wide), or nil when empty.
    private func inducedPeriod(near period: Double) -> Double? {
        var best = 0.0
        var bestBin = -1
        for i in 0..<Self.bins {
            let octaves = log2(binPeriod(i) / period)
            let score = histogram[i] * exp(-2 * octaves * octaves)
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
        return minFramesPerBeat * pow(Self.binRatio, Double(bestBin) + offset)
    }

    /// Takes an onset at `frame` and corrects `timeline` (tempo and phase) from it.
    public mutating func onset(at frame: UInt64, timeline: inout Timeline) {
        let spb = Double(stepsPerBeat)
        var period = timeline.framesPerStep * spb
        if let last = lastOnset, frame > last, Double(frame - last) < chordFrames { return }
        let returning = lastOnset.map { frame > $0 && Double(frame - $0) > max(4 * period, returnGapFrames) } ?? false
        lastOnset = frame

        if returning {
            onsetCount = 0
            let beats = timeline.position(at: frame) / spb
            let error = beats - beats.rounded()
            timeline = Timeline(anchorFrame: frame, anchorPosition: (beats - error) * spb, framesPerStep: timeline.framesPerStep)
            remember(frame)
            return
        }

        // Induction: this onset against each remembered one.
        for i in 0..<Self.bins { histogram[i] *= 0.9 }
        for k in 0..<onsetCount {
            let earlier = onsets[(onsetHead + 16 - 1 - k) % 16]
            let d = Double(frame - earlier)
            if d > longestVoteFrames { break }
            vote(period: d, weight: 1)
            vote(period: d * 2, weight: 0.5)
            vote(period: d / 2, weight: 0.5)
            vote(period: d / 3, weight: 0.3)
            vote(period: d / 4, weight: 0.25)
        }
        remember(frame)
        if let induced = inducedPeriod(near: period) {
            let ratio = induced / period
            if abs(log(ratio)) < log(1.12) {
                disagreements = 0
                period *= pow(ratio, 0.2)
            } else {
                disagreements += 1
                if disagreements >= 4 {
                    // The player is clearly elsewhere: jump to the induced tempo and put this onset on a beat.
                    disagreements = 0
                    let beats = timeline.position(at: frame) / spb
                    timeline = Timeline(
                        anchorFrame: frame, anchorPosition: beats.rounded() * spb,
                        framesPerStep: clampPeriod(induced) / spb)
                    return
                }
            }
        }

        // Phase lock to the nearest beat or off-beat 8th.
        let beats = timeline.position(at: frame) / spb
        let grid = (beats * 2).rounded() / 2
        let error = beats - grid
        var position = beats * spb
        if abs(error) <= 0.15 {
            let onBeat = grid == grid.rounded()
            let alpha = onBeat ? 0.35 : 0.2
            let beta = onBeat ? 0.1 : 0.05
            position -= alpha * error * spb
            period *= 1 + beta * error
        }
        timeline = Timeline(anchorFrame: frame, anchorPosition: position, framesPerStep: clampPeriod(period) / spb)
    }

    /// Takes a tap on the tap-tempo controller: the tap is a beat. Two or more taps in a row set the
    /// tempo to their mean interval; the histogram is re-seeded there so induction agrees with it.
    public mutating func tap(at frame: UInt64, timeline: inout Timeline) {
        let spb = Double(stepsPerBeat)
        var period = timeline.framesPerStep * spb
        if let last = lastTap, frame > last, Double(frame - last) >= minFramesPerBeat, Double(frame - last) <= maxFramesPerBeat {
            tapIntervals[tapCount % 4] = Double(frame - last)
            tapCount += 1
            let n = min(tapCount, 4)
            var sum = 0.0
            for i in 0..<n { sum += tapIntervals[i] }
            period = clampPeriod(sum / Double(n))
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
