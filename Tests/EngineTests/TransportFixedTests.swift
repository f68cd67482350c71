import MIDI
import Testing

@testable import Engine

@Suite struct TransportFixedTests {
    @Test func stepBoundariesAtExactFramesAt120() {
        var t = Transport(settings: transportSettings(.fixed, bpm: 120), sampleRate: 48000)
        #expect(t.framesPerStep == 6000)
        t.start(at: 1000)
        var got: [StepBoundary] = []
        for f in stride(from: UInt64(0), through: 1000 + 6000 * 64, by: 128) + [1000 + 6000 * 64] {
            while let b = t.nextBoundary(through: f) { got.append(b) }
        }
        #expect(got.count == 65)
        for (k, b) in got.enumerated() {
            #expect(b.frame == 1000 + 6000 * UInt64(k))
            #expect(b.step == Int64(k))
            #expect(b.stepInBar == k % 16)
            #expect(b.bar == Int64(k / 16))
            #expect(b.isDownbeat == (k % 16 == 0))
            #expect(b.isBeat == (k % 4 == 0))
            #expect(b.beatInBar == (k % 16) / 4)
        }
        #expect(t.position(at: 1000 + 3000) == 0.5)
        #expect(t.predictedNextBoundaryFrame == 1000 + 6000 * 65)
    }

    @Test func stopEndsTheStepsAndStartBeginsAgainAtZero() {
        var t = Transport(settings: transportSettings(.fixed, bpm: 120), sampleRate: 48000)
        t.start(at: 0)
        while t.nextBoundary(through: 30_000) != nil {}
        t.stop(at: 31_000)
        #expect(t.nextBoundary(through: 100_000) == nil)
        #expect(t.predictedNextBoundaryFrame == nil)
        t.start(at: 200_000)
        #expect(t.nextBoundary(through: 200_000)?.step == 0)
        #expect(t.nextBoundary(through: 206_000)?.frame == 206_000)
    }

    @Test func tempoChangeMidBarKeepsPositionContinuous() {
        var t = Transport(settings: transportSettings(.fixed, bpm: 120), sampleRate: 48000)
        t.start(at: 0)
        var got: [StepBoundary] = []
        while let b = t.nextBoundary(through: 37_000) { got.append(b) }
        #expect(got.last?.step == 6)
        // Half-way through step 6 the tempo drops to 100: step 7 still begins where it was announced.
        t.setTempo(bpm: 100)
        #expect(t.frame(ofStep: 7) == 42_000)
        #expect(t.position(at: 39_000) == 6.5)
        #expect(t.frame(ofStep: 8) == 42_000 + 7200)
        // While the change is pending, position is continuous across step 7 and rises at the new rate after it.
        #expect(slopeError(t, from: 37_000, to: 60_000, switchAt: 42_000) < 1e-12)
        for f in stride(from: UInt64(37_000), through: 200_000, by: 100) {
            while let b = t.nextBoundary(through: f) { got.append(b) }
        }
        #expect(got[7].frame == 42_000)
        for k in 8..<got.count {
            #expect(got[k].frame == 42_000 + 7200 * UInt64(k - 7))
        }
        #expect(slopeError(t, from: 42_000, to: 200_000, switchAt: 0) < 1e-12)
        #expect(abs(t.bpm - 100) < 1e-9)
    }

    /// Largest deviation of the per-frame position increase from 1/6000 before `switchAt` and 1/7200 after.
    private func slopeError(_ t: Transport, from: UInt64, to: UInt64, switchAt: UInt64) -> Double {
        var worst = 0.0
        var previous = t.position(at: from)
        for f in (from + 1)...to {
            let p = t.position(at: f)
            let rate = f <= switchAt ? 1.0 / 6000 : 1.0 / 7200
            worst = max(worst, abs((p - previous) - rate))
            previous = p
        }
        return worst
    }

    @Test func threeFourDownbeats() {
        var t = Transport(settings: transportSettings(.fixed, bpm: 90, meter: Meter(beats: 3, beatUnit: 4)), sampleRate: 48000)
        t.start(at: 0)
        var got: [StepBoundary] = []
        while let b = t.nextBoundary(through: 48000 * 10) { got.append(b) }
        #expect(got.filter(\.isDownbeat).map(\.step) == stride(from: Int64(0), to: Int64(got.count), by: 12).map { $0 })
        #expect(got.filter(\.isBeat).map(\.step) == stride(from: Int64(0), to: Int64(got.count), by: 4).map { $0 })
        #expect(got[13].bar == 1 && got[13].stepInBar == 1 && got[20].beatInBar == 2)
    }

    @Test func sixEightBeatsAreDottedQuarters() {
        let meter = Meter(beats: 6, beatUnit: 8)
        #expect(meter.stepsPerBar == 12 && meter.stepsPerBeat == 6 && meter.beatsPerBar == 2)
        var t = Transport(settings: transportSettings(.fixed, bpm: 120, meter: meter), sampleRate: 48000)
        t.start(at: 0)
        var got: [StepBoundary] = []
        while let b = t.nextBoundary(through: 48000 * 10) { got.append(b) }
        #expect(got.filter(\.isDownbeat).map(\.step) == stride(from: Int64(0), to: Int64(got.count), by: 12).map { $0 })
        #expect(got.filter(\.isBeat).map(\.step) == stride(from: Int64(0), to: Int64(got.count), by: 6).map { $0 })
        #expect(got[6].beatInBar == 1 && got[11].beatInBar == 1 && got[12].beatInBar == 0)
    }

    @Test func countInClicksOnEveryBeatBeforeTheMusic() {
        var t = Transport(settings: transportSettings(.fixed, bpm: 120, countIn: 2), sampleRate: 48000)
        t.start(at: 500)
        #expect(t.upcomingStep == -32)
        var m = Metronome(sampleRate: 48000)
        m.begin(transport: t)
        var clicks: [TimedMIDIMessage] = []
        for end in stride(from: UInt64(0), through: 48000 * 8, by: 256) {
            while let c = m.next(before: end, transport: t) { clicks.append(c) }
            while t.nextBoundary(through: end) != nil {}
        }
        let ons = clicks.filter { $0.message.isSoundingNoteOn }
        #expect(ons.count == 8)
        for (i, c) in ons.enumerated() {
            #expect(c.time == 500 + 24000 * UInt64(i))
            let note: UInt8 = i % 4 == 0 ? 76 : 77
            #expect(c.message == .noteOn(channel: 9, note: note, velocity: 100))
        }
        let offs = clicks.filter { $0.message.isNoteOff }
        #expect(offs.map(\.time) == ons.map { $0.time + 1440 })
        #expect(zip(clicks, clicks.dropFirst()).allSatisfy { $0.time <= $1.time })
        // Position 0, where the music starts, is right after the two bars.
        #expect(t.frame(ofStep: 0) == 500 + 2 * 96000)
    }

    @Test func metronomeInSixEightClicksDottedQuartersAndKeepsGoing() {
        var t = Transport(settings: transportSettings(.fixed, bpm: 120, meter: Meter(beats: 6, beatUnit: 8), countIn: 1), sampleRate: 48000)
        t.start(at: 0)
        var m = Metronome(sampleRate: 48000, clicksAfterCountIn: true)
        m.begin(transport: t)
        var ons: [TimedMIDIMessage] = []
        while let c = m.next(before: 6000 * 36, transport: t) {
            if c.message.isSoundingNoteOn { ons.append(c) }
        }
        #expect(ons.map(\.time) == [0, 36000, 72000, 108_000, 144_000, 180_000])
        let notes: [UInt8] = ons.map { if case .noteOn(_, let n, _) = $0.message { n } else { 0 } }
        #expect(notes == [76, 77, 76, 77, 76, 77])
    }

    @Test(arguments: [120.0, 97.0, 128.0])
    func clockOutHasNoDriftOverTenMinutes(bpm: Double) {
        var t = Transport(settings: transportSettings(.fixed, bpm: bpm), sampleRate: 48000)
        let start: UInt64 = 12345
        t.start(at: start)
        var out = ClockOut()
        out.begin(at: start, transport: t)
        let end = start + 48000 * 600
        var messages: [TimedMIDIMessage] = []
        messages.reserveCapacity(40000)
        var f = start
        while f < end {
            f += 256
            while let m = out.next(before: f, transport: t) { messages.append(m) }
            while t.nextBoundary(through: f) != nil {}
        }
        out.end(at: f)
        while let m = out.next(before: f + 1, transport: t) { messages.append(m) }
        #expect(messages.first == TimedMIDIMessage(time: start, message: .start))
        #expect(messages.last == TimedMIDIMessage(time: f, message: .stop))
        let ticks = messages.filter { $0.message == .clock }
        let expected = Int((Double(f - start) * bpm * 24 / (48000 * 60)).rounded(.up))
        #expect(abs(ticks.count - expected) <= 1)
        // Exact tick n lies at n * 48000 * 60 / (bpm * 24) frames: compare with integer rounding.
        let numerator = UInt64(48000 * 60)
        let denominator = UInt64(bpm) * 24
        var worst: UInt64 = 0
        for (n, tick) in ticks.enumerated() {
            let exact = start + (2 * UInt64(n) * numerator + denominator) / (2 * denominator)
            worst = max(worst, tick.time > exact ? tick.time - exact : exact - tick.time)
        }
        #expect(worst == 0)
    }
}
