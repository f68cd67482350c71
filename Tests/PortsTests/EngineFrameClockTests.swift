import Testing
import TestSupport

@testable import Ports

/// The engine's frame clock against what a JACK server's frame time does in a live set.
struct EngineFrameClockTests {
    @Test func serverFramesPassThroughWhileNothingGoesBack() {
        var clock = EngineFrameClock()
        #expect(clock.cycleStart(serverFrame: 5000, length: 128) == 5000)
        #expect(clock.cycleStart(serverFrame: 5128, length: 128) == 5128)
        // An xrun that skipped cycles: that time went by.
        #expect(clock.cycleStart(serverFrame: 9000, length: 128) == 9000)
    }

    @Test func theExtenderCarriesAcrossTheThirtyTwoBitWrap() {
        var clock = EngineFrameClock()
        #expect(clock.extend(UInt32.max - 127) == UInt64(UInt32.max) - 127)
        #expect(clock.extend(UInt32.max - 127 &+ 128) == UInt64(UInt32.max) + 1)
        #expect(clock.extend(128) == UInt64(UInt32.max) + 129)
        var cycles = EngineFrameClock()
        #expect(cycles.cycleStart(serverFrame: UInt32.max - 127, length: 128) == UInt64(UInt32.max) - 127)
        #expect(cycles.cycleStart(serverFrame: 0, length: 128) == UInt64(UInt32.max) + 1)
    }

    @Test func aStaleReadingContinuesWhereTheLastCycleEndedAndTheClocksAgreeAgainAfter() {
        var clock = EngineFrameClock()
        #expect(clock.cycleStart(serverFrame: 10_000, length: 256) == 10_000)
        #expect(clock.cycleStart(serverFrame: 10_256, length: 256) == 10_256)
        // Under an xrun burst the frame time reads the previous cycle's again.
        #expect(clock.cycleStart(serverFrame: 10_256, length: 256) == 10_512)
        // Read true again: engine and server frames are the same again, nothing drifted.
        #expect(clock.cycleStart(serverFrame: 10_768, length: 256) == 10_768)
        #expect(clock.heldCycles == 1)
    }

    @Test func aClockThatReallyWentBackIsFollowedCycleByCycleUntilItCatchesUp() {
        var clock = EngineFrameClock()
        #expect(clock.cycleStart(serverFrame: 10_000, length: 256) == 10_000)
        #expect(clock.cycleStart(serverFrame: 9_600, length: 256) == 10_256)
        #expect(clock.cycleStart(serverFrame: 9_856, length: 256) == 10_512)
        #expect(clock.cycleStart(serverFrame: 10_112, length: 256) == 10_768)
        #expect(clock.cycleStart(serverFrame: 11_200, length: 256) == 11_200)
        #expect(clock.heldCycles == 3)
    }

    /// A callback run so late that the server had begun the next cycle reads a period ahead; every true
    /// reading after it is behind, so the engine keeps that period's lead (counted) until time skips ahead.
    @Test func aReadingAPeriodAheadLeavesTheEngineAPeriodAheadAndCounted() {
        var clock = EngineFrameClock()
        #expect(clock.cycleStart(serverFrame: 20_000, length: 128) == 20_000)
        #expect(clock.cycleStart(serverFrame: 20_256, length: 128) == 20_256)
        #expect(clock.heldCycles == 0)
        for k in 0..<5 { #expect(clock.cycleStart(serverFrame: 20_256 + UInt32(k) * 128, length: 128) == 20_384 + UInt64(k) * 128) }
        #expect(clock.heldCycles == 5)
        #expect(clock.cycleStart(serverFrame: 30_000, length: 128) == 30_000)
    }

    @Test func aRestartedServerContinuesTheEngineClockWhereItStopped() {
        var clock = EngineFrameClock()
        #expect(clock.cycleStart(serverFrame: 48_000_000, length: 128) == 48_000_000)
        clock.serverRestarted()
        // The new server starts near 0 (and a large one would not jump ahead either).
        #expect(clock.cycleStart(serverFrame: 1024, length: 64) == 48_000_128)
        #expect(clock.cycleStart(serverFrame: 1088, length: 64) == 48_000_192)
        clock.serverRestarted()
        #expect(clock.cycleStart(serverFrame: 3_000_000_000, length: 64) == 48_000_256)
    }

    /// Whatever the server's clock does (random steps forward and back, restarts, the 32-bit wrap),
    /// each cycle starts no earlier than the previous one ended.
    @Test func cycleStartsNeverGoBackUnderAnyServerClock() {
        var clock = EngineFrameClock()
        var random = SplitMix64(seed: 20261204)
        var server: UInt32 = UInt32.max - 100_000
        var end: UInt64 = 0
        for _ in 0..<100_000 {
            let length = [64, 128, 256, 1024][Int(random.next() % 4)]
            switch random.next() % 20 {
            case 0: server &-= UInt32(random.next() % 1024)
            case 1:
                clock.serverRestarted()
                server = UInt32(random.next() % 4096)
            case 2: server &+= UInt32(random.next() % 100_000)
            default: server &+= UInt32(length)
            }
            let start = clock.cycleStart(serverFrame: server, length: length)
            #expect(start >= end)
            end = start + UInt64(length)
        }
    }
}
