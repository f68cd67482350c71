/// Phrases for a MusicVAE: windows of whole bars of 16 steps cut from melodies and grooves, each step one
/// class (a melody event of EventVocabulary, or a drum combination of DrumClasses).
public enum Phrases {
    public static let stepsPerBar = 16

    /// Windows of `bars` bars starting on every `hopBars`-th downbeat of each melody whose bar is a whole
    /// number of 16-step bars or a whole fraction of one (4/4, 2/2, 2/4, 4/2): a 16-step bar starts on a
    /// downbeat there. A window with a bar without a note struck is left out (MusicVAE keeps no long rests).
    public static func melodies(_ lines: [[Int]], bars: [TrainingCorpus.Bar?], phraseBars: Int, hopBars: Int = 1) -> [[Int]] {
        var out: [[Int]] = []
        for (line, bar) in zip(lines, bars) {
            guard let bar, bar.stepsPerBar % stepsPerBar == 0 || stepsPerBar % bar.stepsPerBar == 0 else { continue }
            let first = (bar.stepsPerBar - bar.firstStepInBar) % bar.stepsPerBar
            out += windows(line, from: first, phraseBars: phraseBars, hopBars: hopBars) { $0 >= EventVocabulary.firstPitchIndex }
        }
        return out
    }

    /// The drums of every 4/4 song as windows of drum combinations, starting on every `hopBars`-th bar; a
    /// window with an empty bar is left out.
    public static func grooves(_ songs: [BandSong], phraseBars: Int, hopBars: Int = 1) -> [[Int]] {
        songs.filter { $0.stepsPerBar == stepsPerBar }.flatMap { song in
            windows(song.drums.frames.map { DrumClasses.combination(of: $0.map(Int.init)) }, from: 0, phraseBars: phraseBars,
                    hopBars: hopBars) { $0 != 0 }
        }
    }

    /// A track's melody as events on 16th steps from tick 0: the highest note of each onset, cut short where
    /// the next starts.
    public static func melodyLine(_ spans: [NoteSpan], ticksPerQuarter: Int) -> [Int] {
        let quantizer = StepQuantizer(ticksPerQuarter: ticksPerQuarter)
        return EventVocabulary.indices(quantizer.melody(spans, keepLowest: false, stepsPerBar: stepsPerBar))
    }

    /// A track's drums as combinations of the nine classes struck on each 16th step from tick 0.
    public static func drumLine(_ spans: [NoteSpan], ticksPerQuarter: Int) -> [Int] {
        let quantizer = StepQuantizer(ticksPerQuarter: ticksPerQuarter)
        let steps = (spans.map { quantizer.step($0.start) }.max() ?? -1) + 1
        return quantizer.onsetFrames(spans, steps: steps).frames.map { DrumClasses.combination(of: $0.map(Int.init)) }
    }

    /// Windows of a line from step `first` on; `struck` says whether a step's class strikes something.
    static func windows(_ line: [Int], from first: Int, phraseBars: Int, hopBars: Int, struck: (Int) -> Bool) -> [[Int]] {
        let length = phraseBars * stepsPerBar
        var out: [[Int]] = []
        var start = first
        while start + length <= line.count {
            let window = Array(line[start..<(start + length)])
            let everyBarPlays = (0..<phraseBars).allSatisfy { b in
                window[(b * stepsPerBar)..<((b + 1) * stepsPerBar)].contains(where: struck)
            }
            if everyBarPlays { out.append(window) }
            start += hopBars * stepsPerBar
        }
        return out
    }
}
