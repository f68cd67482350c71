import Music
import Testing

@Suite("Drum bar repetition")
struct DrumRepetitionTests {
    /// A 16-step bar from (step, note) hits.
    func bar(_ hits: [(Int, Int)]) -> [[Int]] {
        var frames = [[Int]](repeating: [], count: 16)
        for (s, n) in hits { frames[s].append(n) }
        return frames
    }

    let rock = [(0, 36), (4, 38), (8, 36), (12, 38), (0, 42), (4, 42), (8, 42), (12, 42)]
    var fill: [(Int, Int)] { [(0, 36), (4, 38), (8, 45), (10, 45), (12, 43), (14, 43)] }

    @Test func identicalBarsRepeat() {
        let r = DrumRepetition(frames: bar(rock) + bar(rock) + bar(rock))
        #expect(r.comparedBars == 2)
        #expect(r.sameAsPreviousShare == 1)
        #expect(r.seenBeforeShare == 1)
        #expect(r.meanJaccard == 1)
        #expect(r.bars == 3 && r.hitsPerBar == 8)
    }

    @Test func aReturningGrooveIsSeenBeforeButNotSameAsPrevious() {
        // groove, fill, groove: the third bar equals the first but not the second.
        let r = DrumRepetition(frames: bar(rock) + bar(fill) + bar(rock))
        #expect(r.comparedBars == 2)
        #expect(r.sameAsPrevious == 0)
        #expect(r.seenBefore == 1)
        // rock and fill share (0,36) and (4,38): 2 of 12 distinct hits.
        #expect(abs(r.meanJaccard! - 2.0 / 12.0) < 1e-12)
    }

    @Test func theSameNotesOnOtherStepsAreOtherHits() {
        let shifted = rock.map { (($0.0 + 2) % 16, $0.1) }
        let r = DrumRepetition(frames: bar(rock) + bar(shifted))
        #expect(r.sameAsPrevious == 0)
        #expect(r.meanJaccard == 0)
    }

    @Test func partialBarsAndEmptyBars() {
        // A trailing half bar is left out; two silent bars are identical.
        let r = DrumRepetition(frames: bar([]) + bar([]) + Array(bar(rock).prefix(8)))
        #expect(r.comparedBars == 1)
        #expect(r.sameAsPreviousShare == 1)
        #expect(r.meanJaccard == 1)
        #expect(r.bars == 2 && r.hits == 0)
        #expect(DrumRepetition(frames: bar(rock)).sameAsPreviousShare == nil)
        #expect(DrumRepetition(frames: bar(rock)).hitsPerBar == 8)
        // Bars of 12 steps (3/4): the same frames read as other bars.
        let waltz = DrumRepetition(frames: Array(repeating: [36], count: 1) + Array(repeating: [], count: 11)
            + Array(repeating: [36], count: 1) + Array(repeating: [], count: 11), stepsPerBar: 12)
        #expect(waltz.sameAsPreviousShare == 1)
    }

    @Test func poolingWeighsByBars() {
        let a = DrumRepetition(frames: bar(rock) + bar(rock) + bar(rock))
        let b = DrumRepetition(frames: bar(rock) + bar(fill))
        let both = a + b
        #expect(both.comparedBars == 3)
        #expect(both.sameAsPreviousShare == 2.0 / 3.0)
        #expect(both.bars == 5 && both.hits == 3 * 8 + 8 + 6)
    }
}
