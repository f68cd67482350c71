import Testing

@testable import Engine

@Suite struct HarmonicLoopTests {
    let c = Chord(root: 0, quality: .major), g = Chord(root: 7, quality: .major)
    let am = Chord(root: 9, quality: .minor), f = Chord(root: 5, quality: .major)

    /// I–V–vi–IV heard once round and half again: from the seventh bar the loop expects each bar's chord;
    /// after five bars (one bar of the second round) it does not know yet.
    @Test func aProgressionHeardHalfAgainIsExpected() {
        var loop = HarmonicLoop()
        let progression = [c, g, am, f]
        for bar in 0..<5 { loop.record(progression[bar % 4], bar: Int64(bar)) }
        #expect(loop.expected(bar: 5) == nil)
        loop.record(g, bar: 5)
        #expect(loop.expected(bar: 6) == am)
        for bar in 6..<30 {
            loop.record(progression[bar % 4], bar: Int64(bar))
            #expect(loop.expected(bar: Int64(bar + 1)) == progression[(bar + 1) % 4])
        }
    }

    /// Two bars each, a 12-bar blues: the period that explains most of what was heard is the one used (two
    /// bars of G alike do not make a one-bar loop); a blues is expected once half its second chorus is
    /// heard, not before.
    @Test func theShortestRepeatWins() {
        var loop = HarmonicLoop()
        let twoEach = [c, c, g, g]
        for bar in 0..<8 { loop.record(twoEach[bar % 4], bar: Int64(bar)) }
        #expect(loop.expected(bar: 8) == c)
        var blues = HarmonicLoop()
        let form = [c, c, c, c, f, f, c, c, g, f, c, g]
        for bar in 0..<24 { blues.record(form[bar % 12], bar: Int64(bar)) }
        #expect(blues.expected(bar: 24) == c)
        #expect(blues.expected(bar: 23) == g && blues.expected(bar: 21) == f)
        var early = HarmonicLoop()
        for bar in 0..<17 { early.record(form[bar % 12], bar: Int64(bar)) }
        // Bars 12–16 (C C C C F) repeat bars 0–4, five of the six a 12-bar period asks for.
        #expect(early.expected(bar: 17) == nil)
        blues.record(c, bar: 24)
        #expect(blues.expected(bar: 25) == c)
    }

    /// A bar that breaks the loop, or one with no chord heard, leaves the next bar unexpected.
    @Test func aBrokenLoopExpectsNothing() {
        var loop = HarmonicLoop()
        for (bar, chord) in [c, g, c, g, c, am].enumerated() { loop.record(chord, bar: Int64(bar)) }
        #expect(loop.expected(bar: 6) == nil)
        var silent = HarmonicLoop()
        for bar in 0..<6 { silent.record(bar == 5 ? nil : [c, g][bar % 2], bar: Int64(bar)) }
        #expect(silent.expected(bar: 6) == nil)
        silent.record(c, bar: 6)
        #expect(silent.expected(bar: 7) == nil)
        silent.reset()
        #expect(silent.expected(bar: 8) == nil)
    }
}
