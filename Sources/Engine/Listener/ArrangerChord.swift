/// The chord an arranger keyboard's chord section names from the keys held in it, in its two classic
/// fingerings. Pure readings of one set of keys: the chord memory is the `ChordReader`'s.
enum ArrangerChord {
    /// Fingered: the keys spell the chord.
    /// - three or more pitch classes: the chord they spell exactly in any inversion (a seventh may leave
    ///   out its fifth); the root is the chord's root, not the lowest key. Of the symmetric chords
    ///   (augmented, diminished seventh) the lowest key is the root.
    /// - two: a third or a fifth names the triad on the lower key (C+E, C+G: C; C+Eb: Cm), their inversions
    ///   the triad on the upper key (E+C, G+C: C; C+A: Am); any other pair names nothing.
    /// - one: the major triad on it.
    /// - slash chords: the bass is the root unless the lowest key stands a fifth or more below two or more
    ///   others, which is a bass meant: E2 under C3 G3 is C/E, D2 under C3 E3 G3 (no chord with the D) is
    ///   C/D; two keys (E4 C5) are an inversion.
    /// nil: the keys name no chord (a cluster, a ninth chord), and the chord stays as it was.
    static func fingered(_ keys: PitchSet) -> Chord? {
        guard let lowest = keys.lowest else { return nil }
        var above = keys
        above.remove(lowest)
        let spread = above.count >= 2 && above.lowest.map { Int($0) - Int(lowest) >= 7 } ?? false
        if let chord = spelled(keys.pitchClasses, lowest: lowest) {
            let bass = spread ? Int(lowest % 12) : chord.root
            return Chord(root: chord.root, quality: chord.quality, bass: bass)
        }
        if spread, let next = above.lowest, let chord = spelled(above.pitchClasses, lowest: next) {
            return Chord(root: chord.root, quality: chord.quality, bass: Int(lowest % 12))
        }
        return nil
    }

    /// Single finger (Yamaha's rule): the highest key held is the root; keys below it colour the chord —
    /// none: major; a black key: minor; a white key: seventh; a black and a white key: minor seventh.
    static func singleFinger(_ keys: PitchSet) -> Chord? {
        guard let root = keys.highest else { return nil }
        var below = keys
        below.remove(root)
        var black = false
        var white = false
        while let key = below.lowest {
            below.remove(key)
            if blackKeys & (1 << UInt16(key % 12)) != 0 { black = true } else { white = true }
        }
        let quality: ChordQuality = black ? (white ? .minorSeventh : .minor) : (white ? .dominantSeventh : .major)
        return Chord(root: Int(root % 12), quality: quality)
    }

    /// C#, D#, F#, G#, A# as pitch-class bits.
    static let blackKeys: UInt16 = 0b0101_0100_1010

    /// The chord `classes` spell (root position, bass = root), by the fingered rules above.
    private static func spelled(_ classes: UInt16, lowest: UInt8) -> Chord? {
        let low = Int(lowest % 12)
        switch classes.nonzeroBitCount {
        case 0:
            return nil
        case 1:
            return Chord(root: low, quality: .major)
        case 2:
            let high = (0..<12).first { $0 != low && classes & (1 << UInt16($0)) != 0 } ?? low
            switch (high - low + 12) % 12 {
            case 4, 7: return Chord(root: low, quality: .major)
            case 3: return Chord(root: low, quality: .minor)
            case 5, 8: return Chord(root: high, quality: .major)
            case 9: return Chord(root: high, quality: .minor)
            default: return nil
            }
        default:
            return exact(classes, lowest: low, fifthLeftOut: false) ?? exact(classes, lowest: low, fifthLeftOut: true)
        }
    }

    /// The quality and root whose tones are exactly `classes`; among several roots (a symmetric chord) the
    /// lowest key's. `fifthLeftOut`: the seventh chords without their perfect fifth.
    private static func exact(_ classes: UInt16, lowest: Int, fifthLeftOut: Bool) -> Chord? {
        var found: Chord? = nil
        for (quality, mask) in ChordEstimator.templates {
            var shape = mask
            if fifthLeftOut {
                guard quality == .dominantSeventh || quality == .majorSeventh || quality == .minorSeventh else { continue }
                shape &= ~(1 << 7)
            }
            for root in 0..<12 where Chord.transposed(shape, to: root) == classes {
                if root == lowest { return Chord(root: root, quality: quality) }
                if found == nil { found = Chord(root: root, quality: quality) }
            }
        }
        return found
    }
}
