import Engine
@testable import Live
import Ports
import Testing

/// The greeting a synth hears when it meets Sideman, at once and as a follow-up, on the virtual
/// backend's clock.
struct EngineRunnerGreetingTests {
    /// Runs cycles until what the runner scheduled has been delivered; the All Notes Off channels heard.
    static func allNotesOffChannels(_ backend: VirtualBackend) -> Set<UInt8> {
        backend.runCycle()
        backend.runCycle()
        return Set(backend.takeDelivered().filter { $0.bytes.count == 3 && $0.bytes[0] & 0xF0 == 0xB0 && $0.bytes[1] == 123 }
            .map { $0.bytes[0] & 0x0F })
    }

    @Test func aFollowUpGreetingSparesTheChannelsThatSoundAndTheFirstDoesNot() throws {
        let backend = VirtualBackend(sampleRate: 48000, bufferSize: 128)
        try backend.open()
        let runner = EngineRunner(engine: ThruEngine(channel: 3, transpose: 0), panicController: nil, outputCount: 1)
        backend.play(frame: backend.frame, bytes: [0x90, 60, 100])
        backend.runCycle()
        runner.step(backend: backend.enginePort)
        backend.runCycle()
        #expect(backend.takeDelivered().map(\.bytes) == [[0x93, 60, 100]])

        let port = backend.enginePort
        runner.greet(ports: 1, sparingSoundingChannels: true, backend: port, at: port.cycleStart + UInt64(port.cycleLength))
        #expect(Self.allNotesOffChannels(backend) == Set(0..<16).subtracting([3]), "the held note on channel 4 is not cut")
        #expect(!runner.isSilent, "the note still sounds, and its note-off is still owed")

        runner.greet(ports: 1, backend: port, at: port.cycleStart + UInt64(port.cycleLength))
        #expect(Self.allNotesOffChannels(backend) == Set(0..<16), "a new destination's greeting clears every channel")
        #expect(runner.isSilent, "the tracker heard the All Notes Off")
    }
}
