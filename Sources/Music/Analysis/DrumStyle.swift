/// A drum bar as a set of hits, each (16th step in the bar, GM note) packed as step << 8 | note, sorted
/// and without repeats: what a drummer's pattern is, whatever the velocities and micro-timing.
public struct DrumBar: Hashable, Sendable {
    public var hits: [Int]

    public init<S: Sequence>(hits: S) where S.Element == Int { self.hits = Array(Set(hits)).sorted() }

    /// The bar a (step, note) list describes, as a preset's primer gives it: steps past the bar are left out.
    public init(steps: [[UInt8]], stepsPerBar: Int) {
        self.init(hits: steps.prefix(stepsPerBar).enumerated().flatMap { s, notes in notes.map { s << 8 | Int($0) } })
    }

    /// Each bar of the song, from the hits of every drum part (nearest 16th).
    public static func bars(_ parts: [[TimedNote]], grid: StepGrid) -> [DrumBar] {
        var hits = [[Int]](repeating: [], count: grid.bars)
        for note in parts.joined() {
            let step = grid.step(note.start)
            guard (0..<grid.steps).contains(step) else { continue }
            hits[step / grid.stepsPerBar].append((step % grid.stepsPerBar) << 8 | Int(note.pitch))
        }
        return hits.map { DrumBar(hits: $0) }
    }

    /// |A ∩ B| / |A ∪ B|; two empty bars are the same bar (1).
    public func jaccard(_ other: DrumBar) -> Double {
        var i = 0, j = 0, common = 0
        let a = hits, b = other.hits
        while i < a.count, j < b.count {
            if a[i] == b[j] {
                common += 1
                i += 1
                j += 1
            } else if a[i] < b[j] {
                i += 1
            } else {
                j += 1
            }
        }
        let union = a.count + b.count - common
        return union == 0 ? 1 : Double(common) / Double(union)
    }
}

/// Real drum bars to hold a bar against (a song's, or a whole style family's), each distinct bar kept once
/// with how often it occurs.
public struct DrumBarPool: Sendable {
    public private(set) var counts: [DrumBar: Int] = [:]

    public init<S: Sequence>(_ bars: S) where S.Element == DrumBar {
        for bar in bars { counts[bar, default: 0] += 1 }
    }

    public var isEmpty: Bool { counts.isEmpty }

    /// The best overlap of `bar` with a bar of the pool; `excludingItself`: `bar` is one of the pool's own
    /// bars, and is held against the others (a copy of it elsewhere still counts). Nil when nothing is left.
    public func bestOverlap(_ bar: DrumBar, excludingItself: Bool = false) -> Double? {
        var best: Double? = nil
        for (other, count) in counts {
            if excludingItself, other == bar, count == 1 { continue }
            let overlap = other.jaccard(bar)
            if overlap > (best ?? -1) { best = overlap }
            if overlap == 1 { break }
        }
        return best
    }
}

/// A drum part as a drummer in the style would judge it: how busy, how many kit pieces, whether it only
/// repeats the preset's one-bar primer, and how close its bars come to the song's real bars and to the
/// bars of the style family.
public struct DrumStyle: Sendable, Equatable {
    public var songs = 0
    public var bars = 0
    public var hits = 0
    /// Distinct GM notes per song, summed over songs.
    public var kitPieces = 0
    public var primerBars = 0
    public var songOverlapSum = 0.0
    public var songOverlapBars = 0
    public var styleOverlapSum = 0.0
    public var styleOverlapBars = 0

    public init() {}

    /// `played`: the bars measured (one song); `primer`: the preset's primer bar, nil when it has none;
    /// `song` and `style`: the real bars to hold each bar against; `isReal`: the played bars are the song's
    /// real ones, so each is held against the other bars of `song` and of `style`.
    public init(played: [DrumBar], primer: DrumBar?, song: DrumBarPool, style: DrumBarPool, isReal: Bool) {
        songs = 1
        bars = played.count
        kitPieces = Set(played.flatMap { $0.hits.map { $0 & 0xFF } }).count
        for bar in played {
            hits += bar.hits.count
            if let primer, bar == primer { primerBars += 1 }
            if let overlap = song.bestOverlap(bar, excludingItself: isReal) {
                songOverlapSum += overlap
                songOverlapBars += 1
            }
            if let overlap = style.bestOverlap(bar, excludingItself: isReal) {
                styleOverlapSum += overlap
                styleOverlapBars += 1
            }
        }
    }

    public var hitsPerBar: Double? { bars == 0 ? nil : Double(hits) / Double(bars) }
    public var kitPiecesPerSong: Double? { songs == 0 ? nil : Double(kitPieces) / Double(songs) }
    public var primerBarShare: Double? { bars == 0 ? nil : Double(primerBars) / Double(bars) }
    public var songOverlap: Double? { songOverlapBars == 0 ? nil : songOverlapSum / Double(songOverlapBars) }
    public var styleOverlap: Double? { styleOverlapBars == 0 ? nil : styleOverlapSum / Double(styleOverlapBars) }

    public static func + (a: Self, b: Self) -> Self {
        var sum = Self()
        sum.songs = a.songs + b.songs
        sum.bars = a.bars + b.bars
        sum.hits = a.hits + b.hits
        sum.kitPieces = a.kitPieces + b.kitPieces
        sum.primerBars = a.primerBars + b.primerBars
        sum.songOverlapSum = a.songOverlapSum + b.songOverlapSum
        sum.songOverlapBars = a.songOverlapBars + b.songOverlapBars
        sum.styleOverlapSum = a.styleOverlapSum + b.styleOverlapSum
        sum.styleOverlapBars = a.styleOverlapBars + b.styleOverlapBars
        return sum
    }
}

/// What a style's drummer plays: for each hit (step in the bar, GM note, packed as DrumBar's), the share
/// of the style's bars that hold it. A drum part is matched to the nearest style a model learned by these
/// (`sideman analyze --style nearest`, as a musician picks the style that sounds closest).
public struct DrumStyleSignature: Equatable, Sendable {
    public var stepsPerBar: Int
    public var shares: [Int: Double]

    public init(bars: [DrumBar], stepsPerBar: Int) {
        self.stepsPerBar = stepsPerBar
        var counts: [Int: Int] = [:]
        for bar in bars { for hit in bar.hits { counts[hit, default: 0] += 1 } }
        shares = counts.mapValues { Double($0) / Double(max(bars.count, 1)) }
    }

    /// Cosine of the two share vectors; 0 for bars of another length (a waltz is no match for a rock bar).
    public func similarity(_ other: DrumStyleSignature) -> Double {
        guard stepsPerBar == other.stepsPerBar else { return 0 }
        let dot = shares.reduce(0.0) { $0 + $1.value * (other.shares[$1.key] ?? 0) }
        let norms = (shares.values.reduce(0.0) { $0 + $1 * $1 } * other.shares.values.reduce(0.0) { $0 + $1 * $1 }).squareRoot()
        return norms == 0 ? 0 : dot / norms
    }

    /// The style among `styles` nearest to this signature, nil when none has its bar length.
    public func nearest(in styles: [String: DrumStyleSignature]) -> String? {
        let scored = styles.map { ($0.key, similarity($0.value)) }.filter { $0.1 > 0 }
        return scored.max { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 > $1.0) }?.0
    }

    /// Each style's signature from its songs' drums, over the songs in its most common bar length; hits in
    /// fewer than 2% of the bars are left out (they are fills and humanised strays, and the metadata stays small).
    public static func styles(of songs: [BandSong]) -> [String: DrumStyleSignature] {
        var result: [String: DrumStyleSignature] = [:]
        for (style, (steps, kept)) in BandSong.byStyle(songs.filter { !$0.drums.frames.allSatisfy(\.isEmpty) }) {
            var bars: [DrumBar] = []
            for song in kept {
                for start in stride(from: 0, to: song.drums.frames.count - steps + 1, by: steps) {
                    bars.append(DrumBar(steps: Array(song.drums.frames[start..<start + steps]), stepsPerBar: steps))
                }
            }
            var signature = DrumStyleSignature(bars: bars, stepsPerBar: steps)
            signature.shares = signature.shares.filter { $0.value >= 0.02 }
            result[style] = signature
        }
        return result
    }

    /// The metadata text of `styles` (key `style_drums`): `name=steps|hit:share,...` joined by `;`.
    public static func text(_ styles: [String: DrumStyleSignature]) -> String {
        styles.keys.sorted().map { name in
            let s = styles[name]!
            return "\(name)=\(s.stepsPerBar)|" + s.shares.keys.sorted().map { String(format: "%d:%.3f", $0, s.shares[$0]!) }.joined(separator: ",")
        }.joined(separator: ";")
    }

    /// Reads `text`'s signatures back; nil when it is not that form.
    public static func parse(_ text: String) -> [String: DrumStyleSignature]? {
        var result: [String: DrumStyleSignature] = [:]
        for entry in text.split(separator: ";") {
            let nameAndRest = entry.split(separator: "=", maxSplits: 1)
            guard nameAndRest.count == 2 else { return nil }
            let stepsAndHits = nameAndRest[1].split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false)
            guard stepsAndHits.count == 2, let steps = Int(stepsAndHits[0]), steps > 0 else { return nil }
            var signature = DrumStyleSignature(bars: [], stepsPerBar: steps)
            for pair in stepsAndHits[1].split(separator: ",") {
                let parts = pair.split(separator: ":")
                guard parts.count == 2, let hit = Int(parts[0]), let share = Double(parts[1]) else { return nil }
                signature.shares[hit] = share
            }
            result[String(nameAndRest[0])] = signature
        }
        return result
    }

    public static let metadataKey = "style_drums"
}
