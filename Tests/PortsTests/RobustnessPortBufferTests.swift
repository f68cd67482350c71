import Testing

@testable import Ports

/// A port buffer that fills up (hundreds of note-offs from a panic or a stop in one cycle) must delay
/// events, never lose them: a lost note-off is a stuck note.
struct RobustnessPortBufferTests {
    @Test func eventsAFullPortBufferRefusesGoOutInOrderInTheNextCycles() {
        let endpoints = CycleEndpoints(ringCapacity: 1 << 12, outputCount: 1)
        var core = endpoints.makeCore()
        defer { core.deallocate() }
        core.restart()
        // Ten note-offs due in the first cycle; the "port buffer" takes three events per cycle.
        for note in UInt8(0)..<10 {
            let sent = [0x80, note, 0].withUnsafeBytes { endpoints.schedule(frame: UInt64(note), port: 0, bytes: $0) }
            #expect(sent)
        }
        var delivered: [(cycle: Int, offset: UInt32, note: UInt8)] = []
        for cycle in 0..<6 {
            var room = 3
            let start = core.begin(extendedServerFrame: UInt64(cycle * 64), length: 64)
            core.dispatch(start: start, length: 64) { _, offset, bytes in
                guard room > 0 else { return false }
                room -= 1
                delivered.append((cycle, offset, bytes[1]))
                return true
            }
            #expect(endpoints.outputIsDrained == (delivered.count == 10), "cycle \(cycle)")
        }
        #expect(delivered.map(\.note) == Array(0..<10), "every note-off arrives, in order")
        #expect(delivered.map(\.cycle) == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3])
        #expect(delivered.prefix(3).map(\.offset) == [0, 1, 2], "on time where there was room")
        #expect(delivered.dropFirst(3).allSatisfy { $0.offset == 0 }, "late ones at the start of their cycle")
        #expect(endpoints.counters.dropped.load(ordering: .relaxed) == 0)
        #expect(endpoints.counters.late.load(ordering: .relaxed) == 7)
    }

    @Test func discardingQueuedOutputForgetsACarriedEvent() {
        let endpoints = CycleEndpoints(ringCapacity: 1 << 12, outputCount: 1)
        let core = endpoints.makeCore()
        defer { core.deallocate() }
        core.restart()
        _ = [0x90, 60, 1].withUnsafeBytes { endpoints.schedule(frame: 0, port: 0, bytes: $0) }
        core.dispatch(start: 0, length: 64) { _, _, _ in false }
        #expect(!endpoints.outputIsDrained, "the refused event is carried")
        core.discardQueued()
        #expect(endpoints.outputIsDrained)
        var written = 0
        core.dispatch(start: 64, length: 64) { _, _, _ in
            written += 1
            return true
        }
        #expect(written == 0)
    }
}
