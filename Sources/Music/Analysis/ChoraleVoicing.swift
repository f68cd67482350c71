/// Turns a generated accompaniment, a set of pitches per step, into voices under a given soprano, so the
/// part-writing measures (ParallelMotion) can read it as [S, A, T, B] steps.
public enum ChoraleVoicing {
    /// [S, A, T, B] per step (MIDI, -1 silent). The soprano is the given line (-1 where it rests); the
    /// generated pitches of each step are sorted: the highest is the alto, the lowest the bass and, with
    /// three or more, the second lowest the tenor (pitches beyond three are inner doublings and dropped).
    /// With two pitches the tenor is silent; a single pitch is the bass. Steps beyond the shorter input
    /// are dropped.
    public static func satb(soprano: [Int], atbFrames: [[Int]]) -> [[Int]] {
        zip(soprano, atbFrames).map { s, frame in
            let sorted = Array(Set(frame.filter { $0 >= 0 })).sorted()
            let bass = sorted.first ?? -1
            let alto = sorted.count >= 2 ? sorted[sorted.count - 1] : -1
            let tenor = sorted.count >= 3 ? sorted[1] : -1
            return [s < 0 ? -1 : s, alto, tenor, bass]
        }
    }

    /// Parallel fifths and octaves of a generated ATB under its soprano, every voice pair counted
    /// (soprano against the generated voices included, as Bach's rate counts all six pairs).
    public static func parallelMotion(soprano: [Int], generatedATB atbFrames: [[Int]]) -> ParallelMotion {
        ParallelMotion(steps: satb(soprano: soprano, atbFrames: atbFrames))
    }
}
