/// Parallel fifths and octaves between voices on a step grid, as counterpoint forbids them.
///
/// Definitions (step t against step t-1, for every pair of voices):
/// - A voice *moves* at t when it sounds at t-1 and at t with different pitches. A held or re-struck
///   pitch is no motion (a 16th grid cannot tell them apart), and a voice entering from or leaving into
///   silence (-1) does not move.
/// - A *parallel* is a step where both voices move in the same direction and the interval between
///   them, as an interval class (semitones mod 12, so compounds count), is a perfect fifth (7) both before
///   and after, or a unison/octave (0) both before and after (unison to octave counts as octaves, as in
///   counterpoint). The interval is taken as the absolute distance, so fifths between crossed voices count.
/// - Not parallels: contrary motion into the same interval class (fifth to twelfth), oblique motion
///   (one voice holds), hidden or direct fifths and octaves (similar motion into a perfect interval from
///   another one), and a diminished fifth to a perfect one (6 to 7) or back.
/// Motion is compared step by step: two voices that move a step apart are not parallel at either step.
public struct ParallelMotion: Sendable, Equatable {
    public var fifths = 0
    public var octaves = 0
    /// Steps looked at (the length of the pieces), the denominator of the rates.
    public var steps = 0

    public init() {}

    public init(fifths: Int, octaves: Int, steps: Int) {
        self.fifths = fifths
        self.octaves = octaves
        self.steps = steps
    }

    /// Counts every pair of voices of `steps`, each step a list of voices' MIDI pitches (-1 silent),
    /// e.g. [S, A, T, B]. Steps with fewer voices than the first treat the missing ones as silent.
    public init(steps frames: [[Int]]) {
        steps = frames.count
        guard frames.count >= 2 else { return }
        let voices = frames.map(\.count).max() ?? 0
        func pitch(_ t: Int, _ v: Int) -> Int { v < frames[t].count ? frames[t][v] : -1 }
        for t in 1..<frames.count {
            for i in 0..<voices {
                for j in (i + 1)..<max(voices, i + 1) {
                    switch Self.parallel(pitch(t - 1, i), pitch(t, i), pitch(t - 1, j), pitch(t, j)) {
                    case 7: fifths += 1
                    case 0: octaves += 1
                    default: break
                    }
                }
            }
        }
    }

    /// The interval class (7 or 0) that two voices move in parallel in, from (i0, j0) to (i1, j1), or nil
    /// when they do not (the rules above). Pitches are MIDI, -1 silent.
    @inline(__always)
    public static func parallel(_ i0: Int, _ i1: Int, _ j0: Int, _ j1: Int) -> Int? {
        guard i0 >= 0, i1 >= 0, i0 != i1, j0 >= 0, j1 >= 0, j0 != j1, (i1 > i0) == (j1 > j0) else { return nil }
        let before = abs(i0 - j0) % 12
        guard before == abs(i1 - j1) % 12, before == 7 || before == 0 else { return nil }
        return before
    }

    public var fifthsPer100Steps: Double { steps == 0 ? 0 : Double(fifths) * 100 / Double(steps) }
    public var octavesPer100Steps: Double { steps == 0 ? 0 : Double(octaves) * 100 / Double(steps) }

    public static func + (a: ParallelMotion, b: ParallelMotion) -> ParallelMotion {
        ParallelMotion(fifths: a.fifths + b.fifths, octaves: a.octaves + b.octaves, steps: a.steps + b.steps)
    }
}
