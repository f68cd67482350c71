import MIDI
import TestSupport
import Testing

@testable import Engine

/// Drives a transport (and optionally a listener) the way the engine does, on a simulated clock:
/// before and after each incoming event every boundary through its frame is drained, then the
/// listener hears the event.
struct TransportRig {
    var transport: Transport
    var listener: Listener?
    var boundaries: [StepBoundary] = []
    var reports: [StepReport] = []
    var heard: [(frame: UInt64, heard: Heard)] = []

    init(_ transport: Transport, listener: Listener? = nil) {
        self.transport = transport
        self.listener = listener
    }

    mutating func drain(through frame: UInt64) {
        while let b = transport.nextBoundary(through: frame) {
            boundaries.append(b)
            if listener != nil { reports.append(listener!.beginStep(b)) }
        }
    }

    mutating func send(_ message: MIDIMessage, at frame: UInt64) {
        drain(through: frame)
        transport.receive(message, at: frame)
        drain(through: frame)
        if listener != nil {
            let h = listener!.receive(message, at: frame, transport: transport)
            heard.append((frame, h))
        }
    }

    mutating func play(_ events: [(UInt64, MIDIMessage)]) {
        for (f, m) in events.sorted(by: { $0.0 < $1.0 }) { send(m, at: f) }
    }
}

typealias SplitMixJitter = SplitMix64

func transportSettings(_ source: TempoSource, bpm: Double, meter: Meter = .fourFour, countIn: Int = 0) -> TransportSettings {
    var s = TransportSettings()
    s.source = source
    s.bpm = bpm
    s.meter = meter
    s.countInBars = countIn
    return s
}

@Suite struct TransportRigTests {
    @Test func rigReportsStepsInOrderWithoutGaps() {
        var rig = TransportRig(Transport(settings: transportSettings(.fixed, bpm: 133), sampleRate: 44100))
        rig.transport.start(at: 17)
        for f in stride(from: UInt64(0), to: 441_000, by: 512) { rig.drain(through: f) }
        #expect(rig.boundaries.map(\.step) == Array(0..<Int64(rig.boundaries.count)))
        #expect(zip(rig.boundaries, rig.boundaries.dropFirst()).allSatisfy { $0.frame < $1.frame })
    }
}
