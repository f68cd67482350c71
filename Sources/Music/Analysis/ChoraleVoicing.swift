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
            var voices = FourVoices(soprano: s)
            for p in Set(frame) { voices.include(p) }
            return [voices.soprano, voices.alto, voices.tenor, voices.bass]
        }
    }

    /// Parallel fifths and octaves of a generated ATB under its soprano, every voice pair counted
    /// (soprano against the generated voices included, as Bach's rate counts all six pairs).
    public static func parallelMotion(soprano: [Int], generatedATB atbFrames: [[Int]]) -> ParallelMotion {
        ParallelMotion(steps: satb(soprano: soprano, atbFrames: atbFrames))
    }
}

/// One step of a four-part texture, [S, A, T, B] as MIDI pitches (-1 silent), built from a soprano and an
/// accompaniment's pitches by ChoraleVoicing's rule. Fixed-size, so the engine can judge a drawn chord's
/// voice leading on every step without allocating.
public struct FourVoices: Equatable, Sendable {
    public private(set) var soprano: Int
    private var lowest = -1, secondLowest = -1, highest = -1, count = 0

    public static let silent = FourVoices(soprano: -1)

    public init(soprano: Int) { self.soprano = max(-1, soprano) }

    /// Adds one accompaniment pitch (each pitch once; negative pitches are rests and ignored).
    public mutating func include(_ pitch: Int) {
        guard pitch >= 0 else { return }
        count += 1
        if lowest < 0 || pitch < lowest {
            (secondLowest, lowest) = (lowest, pitch)
        } else if secondLowest < 0 || pitch < secondLowest {
            secondLowest = pitch
        }
        if pitch > highest { highest = pitch }
    }

    public var alto: Int { count >= 2 ? highest : -1 }
    /// Only a third pitch makes a tenor; any beyond are inner doublings.
    public var tenor: Int { count >= 3 ? secondLowest : -1 }
    public var bass: Int { count >= 1 ? lowest : -1 }

    @inline(__always) @usableFromInline func voice(_ v: Int) -> Int {
        switch v { case 0: soprano; case 1: alto; case 2: tenor; default: bass }
    }

    /// Parallel fifths and octaves, all six pairs, moving from `previous` to this step.
    @inlinable public func parallels(after previous: FourVoices) -> Int {
        var n = 0
        for i in 0..<4 {
            for j in (i + 1)..<4 where ParallelMotion.parallel(previous.voice(i), voice(i), previous.voice(j), voice(j)) != nil {
                n += 1
            }
        }
        return n
    }
}

/// Sampling with part-writing in mind: a generated chord that would move in parallel fifths or octaves is
/// drawn again. A model trained on Bach still writes them far more often than Bach (one draw per step gives
/// 20–50 times his rate); the rule is a textbook one that a few extra draws from the same distribution
/// can honour without bending the chord towards anything the model finds unlikely.
public enum VoiceLeading {
    /// Draws up to `attempts` times; returns the first draw without parallels after `previous`, or else
    /// the draw with the fewest (the earliest among equals), with its voices.
    @inlinable
    public static func draw<Step>(
        attempts: Int, after previous: FourVoices, _ draw: () -> Step, voicing: (Step) -> FourVoices
    ) -> (step: Step, voices: FourVoices) {
        var best = draw()
        var bestVoices = voicing(best)
        var fewest = bestVoices.parallels(after: previous)
        var attempt = 1
        while fewest > 0, attempt < attempts {
            let step = draw()
            let voices = voicing(step)
            let n = voices.parallels(after: previous)
            if n < fewest { (best, bestVoices, fewest) = (step, voices, n) }
            attempt += 1
        }
        return (best, bestVoices)
    }
}
