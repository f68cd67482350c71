import Testing

@testable import Music

@Suite struct VelocityAccentsTests {
    /// Downbeats at 110, the rest at 70: the downbeat stands 30 over the mean of all onsets, the others 10
    /// under it; a step nobody struck has no accent; steps past the bar fold round it.
    @Test func accentsAreTheStepsMeanAgainstThePartsMean() {
        var a = VelocityAccents(stepsPerBar: 16)
        for bar in 0..<4 {
            a.add(step: bar * 16, velocity: 110)
            for s in [4, 8, 12] { a.add(step: bar * 16 + s, velocity: 70) }
        }
        #expect(a.onsets == 16)
        var expected = [Int](repeating: 0, count: 16)
        expected[0] = 30
        for s in [4, 8, 12] { expected[s] = -10 }
        #expect(a.offsets == expected)
        #expect(VelocityAccents(stepsPerBar: 12).offsets == [Int](repeating: 0, count: 12))
    }
}
