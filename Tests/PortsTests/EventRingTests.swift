import Testing

@testable import Ports

@Suite struct EventRingTests {
    @Test func eventsComeOutInOrderWithFramesPortsAndBytesAcrossWrapAround() {
        let ring = EventRing(capacity: 64, maxEventSize: 32)
        defer { ring.deallocate() }
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: 32, alignment: 8)
        defer { scratch.deallocate() }
        // 64 bytes hold four 3-byte events (15 bytes each); many rounds force every wrap position.
        for round in 0..<200 {
            let count = round % 4 + 1
            for index in 0..<count {
                let bytes: [UInt8] = [0x90 | UInt8(index), UInt8(round % 128), UInt8(index)]
                let pushed = bytes.withUnsafeBytes { ring.push(frame: UInt64(round * 10 + index), port: UInt8(index), bytes: $0) }
                #expect(pushed)
            }
            for index in 0..<count {
                let event = ring.pop(into: scratch)
                #expect(event?.frame == UInt64(round * 10 + index))
                #expect(event?.port == UInt8(index))
                #expect(event?.length == 3)
                let bytes = Array(UnsafeRawBufferPointer(start: scratch, count: 3))
                #expect(bytes == [0x90 | UInt8(index), UInt8(round % 128), UInt8(index)])
            }
            #expect(ring.isEmpty)
        }
    }

    @Test func aFullRingRefusesAndKeepsWhatItHas() {
        let ring = EventRing(capacity: 64, maxEventSize: 32)
        defer { ring.deallocate() }
        var accepted = 0
        for frame in 0..<10 where ring.push(frame: UInt64(frame), port: 0, count: 3, bytes: (0x90, 60, 1)) {
            accepted += 1
        }
        #expect(accepted == 64 / 15)
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: 32, alignment: 8)
        defer { scratch.deallocate() }
        var frames: [UInt64] = []
        while let event = ring.pop(into: scratch) { frames.append(event.frame) }
        #expect(frames == (0..<UInt64(accepted)).map { $0 })
    }

    @Test func tooLongAndEmptyEventsAreRefused() {
        let ring = EventRing(capacity: 256, maxEventSize: 8)
        defer { ring.deallocate() }
        let long = [UInt8](repeating: 0x7F, count: 9)
        #expect(!long.withUnsafeBytes { ring.push(frame: 0, port: 0, bytes: $0) })
        #expect(![UInt8]().withUnsafeBytes { ring.push(frame: 0, port: 0, bytes: $0) })
        #expect(ring.isEmpty)
    }
}
