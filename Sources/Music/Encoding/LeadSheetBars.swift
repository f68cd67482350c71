/// Melodies cut into bars of 16 steps, each under the triad a folk accompanist would play there: the bars
/// and chords a chord-conditioned bar generator (MidiNet) learns from. The folk data has no chords, so each
/// bar's chord is read from the melody itself: of the key's common triads, the one whose tones the bar's
/// sounding notes (weighted toward the strong beats) fall on most, with a small pull toward the tonic and
/// toward the chord before (a folk harmony changes slowly).
public enum LeadSheetBars {
    public static let stepsPerBar = 16

    public struct Bar: Sendable, Equatable {
        /// The bar's melody events (EventVocabulary classes).
        public var events: [Int]
        /// The bar before it (nil for a tune's first, unless a pickup leads in).
        public var previous: [Int]?
        public var root: Int
        public var minor: Bool
    }

    /// The bars of a melody line whose bar is a whole number of 16-step bars or a whole fraction of one
    /// (as `Phrases.melodies` reads them), from its first downbeat; bars where nothing is struck are left
    /// out (as bars to learn; they still lead into the next bar as its previous one).
    public static func bars(_ line: [Int], bar: TrainingCorpus.Bar, key: Key) -> [Bar] {
        guard bar.stepsPerBar % stepsPerBar == 0 || stepsPerBar % bar.stepsPerBar == 0 else { return [] }
        let first = (bar.stepsPerBar - bar.firstStepInBar) % bar.stepsPerBar
        var out: [Bar] = []
        var chord: (root: Int, minor: Bool)? = nil
        var start = first
        // The pitch sounding as each bar begins (a note held across the bar line counts in the next bar).
        var sounding: Int? = nil
        for k in 0..<first { sounding = advance(sounding, line[k]) }
        while start + stepsPerBar <= line.count {
            let events = Array(line[start..<(start + stepsPerBar)])
            let previous: [Int]? = start > 0
                ? (0..<stepsPerBar).map { k in start - stepsPerBar + k >= 0 ? line[start - stepsPerBar + k] : 0 } : nil
            let fitted = Self.chord(events, soundingBefore: sounding, key: key, previous: chord)
            chord = fitted
            if events.contains(where: { $0 >= EventVocabulary.firstPitchIndex }) {
                out.append(Bar(events: events, previous: previous, root: fitted.root, minor: fitted.minor))
            }
            for e in events { sounding = advance(sounding, e) }
            start += stepsPerBar
        }
        return out
    }

    private static func advance(_ sounding: Int?, _ event: Int) -> Int? {
        event >= EventVocabulary.firstPitchIndex ? event - EventVocabulary.firstPitchIndex : event == 1 ? nil : sounding
    }

    /// The key's common triads: I ii iii IV V vi in major; i III iv v V VI VII in minor.
    static func triads(of key: Key) -> [(root: Int, minor: Bool)] {
        let t = key.tonic
        let degrees: [(Int, Bool)] = key.mode == .major
            ? [(0, false), (2, true), (4, true), (5, false), (7, false), (9, true)]
            : [(0, true), (3, false), (5, true), (7, true), (7, false), (8, false), (10, false)]
        return degrees.map { ((t + $0.0) % 12, $0.1) }
    }

    /// The triad that fits a bar's events best (see the type's note).
    public static func chord(_ events: [Int], soundingBefore: Int?, key: Key, previous: (root: Int, minor: Bool)?) -> (root: Int, minor: Bool) {
        var weight = [Double](repeating: 0, count: 12)
        var sounding = soundingBefore
        for (k, e) in events.enumerated() {
            sounding = advance(sounding, e)
            guard let p = sounding else { continue }
            weight[p % 12] += k % 8 == 0 ? 2 : k % 4 == 0 ? 1.5 : 1
        }
        var best = (root: key.tonic, minor: key.mode == .minor), bestScore = -Double.infinity
        for (i, triad) in triads(of: key).enumerated() {
            let third = triad.minor ? 3 : 4
            var score = weight[triad.root] + weight[(triad.root + third) % 12] + weight[(triad.root + 7) % 12]
            if i == 0 { score += 0.5 }
            if let previous, previous.root == triad.root, previous.minor == triad.minor { score += 0.75 }
            if score > bestScore { (best, bestScore) = (triad, score) }
        }
        return best
    }

    /// The key of a melody line (EventVocabulary classes) by its notes, for lines that come without one.
    public static func key(of line: [Int]) -> Key? {
        var notes: [PlacedNote] = []
        var open: (onset: Int, pitch: Int)? = nil
        for (step, e) in zip(0..., line + [1]) where e != 0 {
            if let o = open { notes.append(PlacedNote(onset: o.onset, duration: max(1, step - o.onset), pitch: UInt8(o.pitch))) }
            open = e >= EventVocabulary.firstPitchIndex ? (step, e - EventVocabulary.firstPitchIndex) : nil
        }
        return KeyFinding.estimateKey(notes)
    }
}
