import Engine
@testable import Live
import MIDI
import Ports
import Testing

/// A part that strikes a note two cycles ahead of the cycle it is asked in, as the band does when it
/// releases its notes up to three cycles early.
private struct AheadEngine: PerformanceEngine {
    mutating func process(_ input: [TimedMIDIMessage], clock: EngineClock, output: inout [ScheduledMessage]) {
        output.append(ScheduledMessage(frame: clock.cycleStart + 2 * UInt64(clock.cycleLength), port: 0, message: .noteOn(channel: 2, note: 40, velocity: 90)))
    }
}

struct EngineRunnerStopTests {
    /// Silence asked for the next cycle, after a note was released for the one after: the synth hears the
    /// note-off after its note-on (the ring is one FIFO), and the recording must say the same, or the file
    /// holds a note that never ends.
    @Test func aSilenceBehindANoteReleasedAheadEndsItInTheRecordingToo() throws {
        let backend = VirtualBackend(sampleRate: 48000, bufferSize: 128)
        try backend.open()
        let recorder = SessionRecorder(partNames: ["bass"], partChannels: [2])
        let runner = EngineRunner(engine: AheadEngine(), panicController: nil, outputCount: 1, recorder: recorder)
        backend.runCycle()
        runner.step(backend: backend.enginePort)
        let port = backend.enginePort
        runner.silence(backend: port, at: port.cycleStart + UInt64(port.cycleLength))
        for _ in 0..<4 { backend.runCycle() }
        let delivered = backend.takeDelivered().filter { $0.bytes.count == 3 && $0.bytes[0] & 0xE0 == 0x80 }
        #expect(delivered.map { $0.bytes[0] & 0xF0 } == [0x90, 0x80], "the synth hears the note, then its end")
        #expect(backend.status().lateEvents == 0, "a message behind a later one in the ring is not late")
        let bass = recorder.file(sampleRate: 48000).tracks[2]
        var tracker = NoteTracker()
        var struck = 0
        for e in bass.events {
            guard let m = e.message else { continue }
            if m.isSoundingNoteOn { struck += 1 }
            tracker.observe(m)
        }
        #expect(struck == 1)
        #expect(tracker.isSilent, "the recorded bass track ends the note it strikes")
    }
}
