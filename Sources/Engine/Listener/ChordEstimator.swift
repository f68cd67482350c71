import Foundation

/// Names the chord the player is sounding, by template matching on pitch-class weights.
///
/// Weights: a sounding pitch class counts fully, one struck recently counts with a weight that halves
/// every two beats (an arpeggio or a broken chord still names its chord). The bass is the lowest pitch
/// sounding or struck recently, so an arpeggio from its root is not heard as an inversion. Every root and quality is scored:
/// + the weight of chord tones present, − the weight of pitch classes outside the chord, − a penalty
/// per chord tone missing, + a bonus when the bass is the root (which settles C6 against Am7 and
/// the symmetric chords by the bass). Fewer than three pitch classes present is no chord, except an open
/// fifth struck as one (`openFifth`): a shell or power chord names the triad on its root, its third the
/// one the key has.
public struct ChordEstimator: Sendable {
    /// Weight at or above which a pitch class counts as present.
    public static let presence = 0.3
    static let missingPenalty = 0.6
    static let rootInBassBonus = 0.3

    private var recent = InlineArray<12, Double>(repeating: 0)
    /// The lowest pitch of each pitch class struck while its weight has been present.
    private var recentLowest: InlineArray<12, UInt8>
    private let decayPerStep: Double
    /// Every quality the listener names, in the order a tie goes to the first.
    static let templates: [(ChordQuality, UInt16)] = ChordQuality.allCases.map { ($0, $0.mask) }

    public init(stepsPerBeat: Int) {
        recentLowest = InlineArray<12, UInt8>(repeating: 127)
        decayPerStep = pow(0.5, 1 / Double(2 * max(1, stepsPerBeat)))
    }

    /// Forgets every strike (also when a fresh chord replaces the strikes before it).
    public mutating func reset() {
        for i in 0..<12 {
            recent[i] = 0
            recentLowest[i] = 127
        }
    }

    /// Ages the recent strikes by one step and adds the strikes of the step just finished.
    public mutating func advance(struck: PitchSet) {
        for pc in 0..<12 {
            recent[pc] *= decayPerStep
            if recent[pc] * 0.8 < Self.presence { recentLowest[pc] = 127 }
        }
        var left = struck
        while let p = left.lowest {
            left.remove(p)
            let pc = Int(p) % 12
            recent[pc] = 1
            recentLowest[pc] = min(recentLowest[pc], p)
        }
    }

    /// The chord for what sounds now (plus the recent strikes), or nil for no chord. `openFifth`: the
    /// player struck two pitch classes a fifth apart as one chord; `scale`: the key's pitch classes (0:
    /// none known), which pick its third.
    public func estimate(sounding: PitchSet, struck: PitchSet, openFifth: Bool = false, scale: UInt16 = 0) -> Chord? {
        let now = sounding.union(struck)
        let nowClasses = now.pitchClasses
        var weight = InlineArray<12, Double>(repeating: 0)
        var present = 0
        for pc in 0..<12 {
            weight[pc] = nowClasses & (1 << UInt16(pc)) != 0 ? 1 : recent[pc] * 0.8
            if weight[pc] >= Self.presence { present += 1 }
        }
        if present == 2, openFifth {
            var classes: UInt16 = 0
            for pc in 0..<12 where weight[pc] >= Self.presence { classes |= 1 << UInt16(pc) }
            return Self.triad(onFifth: classes, scale: scale)
        }
        guard present >= 3 else { return nil }
        var lowest = now.lowest ?? 127
        for pc in 0..<12 where weight[pc] >= Self.presence { lowest = min(lowest, recentLowest[pc]) }
        let bass = Int(lowest) % 12
        var bestScore = -Double.infinity
        var bestRoot = 0
        var bestQuality = ChordQuality.major
        for (quality, mask) in Self.templates {
            for root in 0..<12 {
                var score = 0.0
                for pc in 0..<12 {
                    let interval = (pc - root + 12) % 12
                    let inChord = mask & (1 << UInt16(interval)) != 0
                    if inChord {
                        score += weight[pc]
                        if weight[pc] < Self.presence { score -= Self.missingPenalty }
                    } else {
                        score -= weight[pc]
                    }
                }
                if root == bass { score += Self.rootInBassBonus }
                if score > bestScore + 1e-9 {
                    bestScore = score
                    bestRoot = root
                    bestQuality = quality
                }
            }
        }
        return Chord(root: bestRoot, quality: bestQuality, bass: bass)
    }

    /// The root of two pitch classes a perfect fifth apart (C and G: C, in either inversion), nil for any
    /// other pair.
    static func rootOfFifth(_ classes: UInt16) -> Int? {
        guard classes.nonzeroBitCount == 2 else { return nil }
        for root in 0..<12 where classes == Chord.transposed(0b1000_0001, to: root) { return root }
        return nil
    }

    /// The triad an open fifth stands for: major, or minor where the key has the minor third and not the
    /// major (A and E in C major: A minor).
    static func triad(onFifth classes: UInt16, scale: UInt16) -> Chord? {
        guard let root = rootOfFifth(classes) else { return nil }
        let major = scale & (1 << UInt16((root + 4) % 12)) != 0, minor = scale & (1 << UInt16((root + 3) % 12)) != 0
        return Chord(root: root, quality: minor && !major ? .minor : .major)
    }
}
