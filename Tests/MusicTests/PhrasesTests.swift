import Testing

@testable import Music

@Suite struct PhrasesTests {
    @Test func drumCombinationsRoundTripThroughTheNineClasses() {
        #expect(DrumClasses.combination(of: [36, 38, 42]) == 0b111)
        // A clap is a snare, a shaker a closed hat, a conga a tom, a cowbell marks time as the ride.
        #expect(DrumClasses.combination(of: [39, 82, 63, 56]) == (1 << 1 | 1 << 2 | 1 << 5 | 1 << 8))
        #expect(DrumClasses.combination(of: [71, 78]) == 0)
        for c in 0..<DrumClasses.combinations {
            #expect(DrumClasses.combination(of: DrumClasses.notes(of: c).map(Int.init)) == c)
        }
    }

    /// A 4/4 line with a one-beat pickup: windows start on its downbeats, one bar apart, and a window with a
    /// bar where nothing is struck is left out.
    @Test func melodyWindowsStartOnDownbeatsAndSkipEmptyBars() {
        var line = [Int](repeating: 0, count: 4 + 16 * 4)
        for s in stride(from: 0, to: 4 + 32, by: 4) { line[s] = 2 + 60 }  // bars 1-2 play, bars 3-4 rest
        line[4 + 48] = 2 + 64  // bar 4 plays again
        let bars = [TrainingCorpus.Bar(stepsPerBar: 16, pickupSteps: 4)]
        let windows = Phrases.melodies([line], bars: bars, phraseBars: 2)
        #expect(windows == [Array(line[4..<36])])
        // 3/4 has no 16-step bars; 2/4 does (two of its bars).
        #expect(Phrases.melodies([line], bars: [TrainingCorpus.Bar(stepsPerBar: 12, pickupSteps: 0)], phraseBars: 2).isEmpty)
        #expect(Phrases.melodies([line], bars: [TrainingCorpus.Bar(stepsPerBar: 8, pickupSteps: 4)], phraseBars: 1).count == 3)
    }
}
