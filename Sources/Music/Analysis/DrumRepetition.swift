/// How much a drum part repeats bar to bar. A bar is the set of its hits as (step in the bar, GM note);
/// only whole bars count (a trailing partial bar is left out).
public struct DrumRepetition: Sendable, Equatable {
    /// Bars after the first: the denominator of every share.
    public var comparedBars = 0
    /// Bars identical to the bar before.
    public var sameAsPrevious = 0
    /// Bars identical to some earlier bar of the same piece (a superset of `sameAsPrevious`).
    public var seenBefore = 0
    /// Sum over compared bars of the Jaccard similarity |A ∩ B| / |A ∪ B| of the bar's hits and the
    /// previous bar's (two empty bars are identical: 1).
    public var jaccardSum = 0.0
    /// Whole bars read, and the hits in them: the density a generated part should come near.
    public var bars = 0
    public var hits = 0

    public init() {}

    /// `frames`: the GM notes struck on each step; `stepsPerBar` 16 for 4/4 at 16th steps.
    public init(frames: [[Int]], stepsPerBar: Int = 16) {
        guard stepsPerBar >= 1 else { return }
        let bars = frames.count / stepsPerBar
        guard bars >= 1 else { return }
        self.bars = bars
        var earlier: Set<DrumBar> = []
        var previous = DrumBar(hits: [])
        for b in 0..<bars {
            let hits = DrumBar(hits: (0..<stepsPerBar).flatMap { s in frames[b * stepsPerBar + s].map { s << 8 | ($0 & 0xFF) } })
            self.hits += hits.hits.count
            if b > 0 {
                comparedBars += 1
                if hits == previous { sameAsPrevious += 1 }
                if earlier.contains(hits) { seenBefore += 1 }
                jaccardSum += hits.jaccard(previous)
            }
            earlier.insert(hits)
            previous = hits
        }
    }

    public var sameAsPreviousShare: Double? { comparedBars == 0 ? nil : Double(sameAsPrevious) / Double(comparedBars) }
    public var seenBeforeShare: Double? { comparedBars == 0 ? nil : Double(seenBefore) / Double(comparedBars) }
    public var meanJaccard: Double? { comparedBars == 0 ? nil : jaccardSum / Double(comparedBars) }
    public var hitsPerBar: Double? { bars == 0 ? nil : Double(hits) / Double(bars) }

    /// Pools pieces: every share over all compared bars of both.
    public static func + (a: DrumRepetition, b: DrumRepetition) -> DrumRepetition {
        var sum = DrumRepetition()
        sum.comparedBars = a.comparedBars + b.comparedBars
        sum.sameAsPrevious = a.sameAsPrevious + b.sameAsPrevious
        sum.seenBefore = a.seenBefore + b.seenBefore
        sum.jaccardSum = a.jaccardSum + b.jaccardSum
        sum.bars = a.bars + b.bars
        sum.hits = a.hits + b.hits
        return sum
    }
}
