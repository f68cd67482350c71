import Testing

@testable import Ports

/// The bridge from an external timeline (JACK transport, Link) to the MIDI clock the engine follows,
/// and JACK transport's position from frame and BBT.
@Suite struct TickBridgeTests {
    /// Runs `cycles` periods of `length` frames over a timeline at `bpm` whose position at the first
    /// frame of cycle c is `quarters(c)`; returns every event with its absolute frame.
    private func run(
        _ bridge: inout TickBridge, cycles: Range<Int>, length: Int = 256, bpm: Double = 120, rolling: (Int) -> Bool = { _ in true },
        quarters: (Int) -> Double
    ) -> [(frame: Int, bytes: [UInt8])] {
        var out: [(Int, [UInt8])] = []
        for c in cycles {
            bridge.cycle(TimelineReading(rolling: rolling(c), quarters: quarters(c), quartersPerFrame: bpm / 60 / 48000), length: length)
            for i in 0..<bridge.count {
                let e = bridge[i]
                out.append((c * length + Int(e.offset), Array([e.bytes.0, e.bytes.1, e.bytes.2].prefix(e.count))))
            }
        }
        return out
    }

    /// 120 bpm at 48 kHz: a quarter is 24,000 frames, a tick 1,000.
    private func at120(_ c: Int, from start: Double = 0, length: Int = 256) -> Double { start + Double(c * length) / 24_000 }

    @Test func startingAtZeroSendsStartThenATickEvery24thOfAQuarterAtItsFrame() {
        var bridge = TickBridge(quartersPerBar: 4)
        let events = run(&bridge, cycles: 0..<200) { at120($0) }
        #expect(events.first.map { $0.bytes } == [0xFA])
        let ticks = events.filter { $0.bytes == [0xF8] }.map(\.frame)
        #expect(ticks == (0..<ticks.count).map { $0 * 1000 })
        #expect(ticks.count == 200 * 256 / 1000 + 1)
        #expect(events.filter { $0.bytes != [0xF8] }.count == 1)
    }

    @Test func startingMidSongGivesTheNext16thAsSongPositionThenContinue() {
        var bridge = TickBridge(quartersPerBar: 4)
        // 3.1 quarters = tick 74.4: the next 16th is tick 78, song position 13, 3.6 ticks (3,600 frames) on.
        let events = run(&bridge, cycles: 0..<40) { at120($0, from: 3.1) }
        #expect(events[0].bytes == [0xF2, 13, 0] && events[1].bytes == [0xFB] && events[2].bytes == [0xF8])
        #expect(events[0].frame == 3600 && events[2].frame == 3600)
        #expect(events.dropFirst(2).allSatisfy { $0.bytes == [0xF8] })
    }

    @Test func stopSendsOneStopAndAJumpWhileRollingStopsThenContinuesFromTheNewPlace() {
        var bridge = TickBridge(quartersPerBar: 4)
        // Rolls from 0, jumps to bar 9 (32 quarters) at cycle 50, stops at cycle 100.
        let events = run(&bridge, cycles: 0..<120, rolling: { $0 < 100 }) { c in c < 50 ? at120(c) : at120(c - 50, from: 32) }
        let others = events.filter { $0.bytes != [0xF8] }
        #expect(others.map(\.bytes) == [[0xFA], [0xFC], [0xF2, 0, 1], [0xFB], [0xFC]])
        // The jump's stop is at the jump's first frame; the song position (128 16ths) at once: bar 9 is on a 16th.
        #expect(others[1].frame == 50 * 256 && others[2].frame == 50 * 256)
        #expect(others[4].frame == 100 * 256)
        #expect(!events.contains { $0.frame > 100 * 256 })
    }

    @Test func aCountInStartsAtPositionZeroOnItsFrame() {
        var bridge = TickBridge(quartersPerBar: 4)
        // Link asks for beat 0 a little ahead: the session reads -0.5 quarters (12,000 frames) at frame 0.
        let events = run(&bridge, cycles: 0..<60) { at120($0, from: -0.5) }
        #expect(events.first.map { [$0.frame] + $0.bytes.map(Int.init) } == [12_000, 0xFA])
        #expect(events[1].frame == 12_000 && events[1].bytes == [0xF8])
    }

    @Test func aLongLinkSessionStartsWithinABarWithTheBarPhaseKept() {
        var bridge = TickBridge(quartersPerBar: 3)
        // 10,000.3 quarters is past song position's 14 bits (16,383 16ths); 3/4 bars are 12 16ths.
        let events = run(&bridge, cycles: 0..<60) { at120($0, from: 10_000.3) }
        let sixteenths = Int(events[0].bytes[1]) | Int(events[0].bytes[2]) << 7
        let next16th = Int((10_000.3 * 4).rounded(.up))
        #expect(events[0].bytes[0] == 0xF2 && sixteenths < 12 && sixteenths == next16th % 12)
    }

    @Test func transportPositionRunsOnTheFrameAtTheMastersStatedTempo() {
        var position = TransportPosition()
        var last = (quarters: 0.0, perMinute: 0.0)
        for c in 0..<1000 {
            last = position.quarters(frame: UInt32(c * 128), rolling: true, length: 128, bbtPerMinute: 100, fallbackPerMinute: 120, sampleRate: 48000)
        }
        #expect(abs(last.quarters - Double(999 * 128) * 100 / 60 / 48000) < 1e-9)
        #expect(last.perMinute == 100)
    }

    @Test func aLocateIsWhereTheFrameIsAndANewTempoGoesOnFromHere() {
        var position = TransportPosition()
        func read(_ frame: UInt32, _ bpm: Double?) -> Double {
            position.quarters(frame: frame, rolling: true, length: 128, bbtPerMinute: bpm, fallbackPerMinute: 120, sampleRate: 48000).quarters
        }
        #expect(read(48000, nil) == 2)  // no master: the preset's 120 from frame 0
        #expect(abs(read(48128, nil) - (2 + 128 * 2 / 48000.0)) < 1e-12)
        #expect(read(960_000, 90) == 30)  // located, with a master at 90: frame 960,000 is beat 30
        let before = read(960_128, 90)
        #expect(abs(read(960_256, 60) - (before + 128 * 1.5 / 48000)) < 1e-12)  // the change goes on from here
    }
}
