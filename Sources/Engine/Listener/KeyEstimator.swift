import Foundation
import Music

/// The key of what the player has been playing: Krumhansl–Schmuckler key finding over a pitch-class
/// histogram that decays, so the estimate follows modulations.
///
/// Every step adds one unit for each pitch class sounding in it (so notes weigh by duration), after
/// the histogram has decayed by the half-life. The key is the one of 24 whose profile correlates best
/// with the histogram; a new key replaces the current one only when it correlates better by
/// `switchMargin`, so the estimate does not flicker between neighbours (C major and E minor, or A minor,
/// share most of their notes, and a few bars of melody often cannot tell them apart).
///
/// The default profiles are Temperley–Kostka–Payne: on the folk training split (11,249 tunes, whole
/// tunes, against their labels) they agree 83% of the time where the Krumhansl–Kessler ratings agree 71%,
/// mostly by confusing a key with its dominant less often.
public struct KeyEstimator: Sendable {
    private let correlator: KeyCorrelator

    public let decayPerStep: Double
    public let switchMargin: Double
    /// Histogram weight (in sounding note-steps) needed before any key is named.
    public let minimumEvidence: Double

    private var histogram = InlineArray<12, Double>(repeating: 0)
    private var total = 0.0
    public private(set) var key: Key? = nil
    /// Correlation of the current key's profile with the histogram.
    public private(set) var confidence = 0.0

    /// - Parameter halfLifeSteps: steps after which a note's weight has halved (.infinity: never forget).
    public init(
        halfLifeSteps: Double = 128, profile: KeyProfile = .temperleyKostkaPayne, switchMargin: Double = 0.05,
        minimumEvidence: Double = 16
    ) {
        correlator = KeyCorrelator(profile: profile)
        decayPerStep = halfLifeSteps.isFinite ? pow(0.5, 1 / halfLifeSteps) : 1
        self.switchMargin = switchMargin
        self.minimumEvidence = minimumEvidence
    }

    public mutating func reset() {
        for i in 0..<12 { histogram[i] = 0 }
        total = 0
        key = nil
        confidence = 0
    }

    /// Adds one step of sounding pitch classes and re-estimates.
    public mutating func advance(sounding classes: UInt16) {
        total = 0
        for pc in 0..<12 {
            histogram[pc] *= decayPerStep
            if classes & (1 << UInt16(pc)) != 0 { histogram[pc] += 1 }
            total += histogram[pc]
        }
        guard total >= minimumEvidence else { return }
        estimate()
    }

    private mutating func estimate() {
        guard let found = correlator.best(histogram, current: key) else { return }
        if key == nil || found.correlation > found.currentCorrelation + switchMargin {
            key = found.key
            confidence = found.correlation
        } else {
            confidence = found.currentCorrelation
        }
    }
}
