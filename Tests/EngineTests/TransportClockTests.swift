import MIDI
import Testing

@testable import Engine

@Suite struct TransportClockTests {
    /// Clock ticks at `bpm` with uniform jitter of ±`jitterMs`, tick n nominally at start + n * interval.
    private func ticks(bpm: Double, count: Int, from start: UInt64, jitterMs: Double, seed: UInt64) -> [UInt64] {
        var j = SplitMixJitter(seed: seed)
        let interval = 48000 * 60 / (bpm * 24)
        return (0..<count).map { n in UInt64((Double(start) + Double(n) * interval + j.jitter() * jitterMs * 48).rounded()) }
    }

    @Test func jitteredClockGivesTempoAndLockedSteps() {
        var rig = TransportRig(Transport(settings: transportSettings(.clock, bpm: 120), sampleRate: 48000))
        let frames = ticks(bpm: 100, count: 24 * 40, from: 10_000, jitterMs: 0.5, seed: 7)
        // A quarter note of clock while stopped: the tempo is known before the start.
        for f in frames[0..<24] { rig.send(.clock, at: f) }
        #expect(rig.boundaries.isEmpty)
        #expect(abs(rig.transport.bpm - 100) < 0.5)
        rig.send(.start, at: frames[23] + 600)
        var worstTempoError = 0.0
        var worstPrediction = 0.0
        for (i, f) in frames[24...].enumerated() {
            if i % 6 == 0, i > 0, let predicted = rig.transport.predictedNextBoundaryFrame {
                worstPrediction = max(worstPrediction, abs(Double(predicted) - Double(f)))
            }
            rig.send(.clock, at: f)
            worstTempoError = max(worstTempoError, abs(rig.transport.bpm - 100))
        }
        // Every sixth tick after the start is a step boundary, at that tick's very frame.
        let expected = stride(from: 24, to: frames.count, by: 6).map { frames[$0] }
        #expect(rig.boundaries.map(\.frame) == expected)
        #expect(rig.boundaries.map(\.step) == Array(0..<Int64(expected.count)))
        #expect(worstTempoError < 0.5)
        // Predicted boundaries (what the engine schedules ahead with) within 1.5 ms of the real tick.
        #expect(worstPrediction < 72)
        print("clock in 100 bpm ±0.5 ms: worst tempo error \(worstTempoError) bpm, worst boundary prediction \(worstPrediction / 48) ms")
    }

    @Test func positionBetweenTicksNeverRunsAhead() {
        var t = Transport(settings: transportSettings(.clock, bpm: 100), sampleRate: 48000)
        t.receive(.start, at: 0)
        for n in 0..<30 { t.receive(.clock, at: UInt64(100 + n * 1200)) }
        // Tick 29 came at 34900; tick 30 has not come, however late it is.
        #expect(abs(t.position(at: 34_900) - 29.0 / 6) < 1e-9)
        #expect(abs(t.position(at: 35_500) - 29.5 / 6) < 1e-6)
        #expect(t.position(at: 100_000) < 30.0 / 6)
    }

    @Test func stopContinueAndSongPosition() {
        var rig = TransportRig(Transport(settings: transportSettings(.clock, bpm: 120), sampleRate: 48000))
        var f: UInt64 = 0
        func tick(_ n: Int) {
            for _ in 0..<n {
                f += 1000
                rig.send(.clock, at: f)
            }
        }
        rig.send(.start, at: 10)
        tick(48)  // steps 0...7
        #expect(rig.boundaries.map(\.step) == Array(0...7))
        rig.send(.stop, at: f + 10)
        tick(24)  // clock keeps running while stopped: no steps
        #expect(rig.boundaries.count == 8)
        #expect(!rig.transport.isRunning)
        rig.send(.continue, at: f + 10)
        tick(12)  // resumes at tick 48: step 8 on the first tick, step 9 six later
        #expect(rig.boundaries.suffix(2).map(\.step) == [8, 9])
        #expect(rig.boundaries[8].frame == f - 11_000)
        rig.send(.stop, at: f + 10)
        rig.send(.songPosition(32), at: f + 20)  // bar 2
        #expect(rig.transport.upcomingStep == 32)
        rig.send(.continue, at: f + 30)
        tick(7)
        #expect(rig.boundaries.suffix(2).map(\.step) == [32, 33])
        #expect(rig.boundaries.last!.isDownbeat == false && rig.boundaries.suffix(2).first!.isDownbeat)
        rig.send(.start, at: f + 10)  // start is always position 0
        tick(1)
        #expect(rig.boundaries.last!.step == 0 && rig.boundaries.last!.frame == f)
    }

    @Test func clockThatStopsAndReturnsAtAnotherTempoRefits() {
        var t = Transport(settings: transportSettings(.clock, bpm: 100), sampleRate: 48000)
        for f in ticks(bpm: 90, count: 48, from: 0, jitterMs: 0, seed: 1) { t.receive(.clock, at: f) }
        #expect(abs(t.bpm - 90) < 0.01)
        for f in ticks(bpm: 140, count: 30, from: 200_000, jitterMs: 0, seed: 1) { t.receive(.clock, at: f) }
        #expect(abs(t.bpm - 140) < 0.01)
    }
}
