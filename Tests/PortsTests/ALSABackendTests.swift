import Glibc
import Testing

@testable import Ports

private let sequencerMissing = "ALSA sequencer absent: /dev/snd/seq does not exist on this machine (no snd-seq kernel module), so the live ALSA tests cannot run here"

@Suite struct ALSABackendTests {
    @Test func frameAndQueueTimeConversionsAgree() {
        let endpoints = CycleEndpoints(ringCapacity: 1024, outputCount: 1)
        let state = ALSAIOState(
            core: endpoints.makeCore(), controlWakeup: endpoints.controlWakeup.semaphore, outputPorts: .allocate(capacity: 1),
            sampleRate: 48000, period: 64, lookahead: 256)
        #expect(state.frames(1_000_000_000) == 48000)
        #expect(state.frames(20_833) == 0)  // just under one frame
        #expect(state.frames(20_834) == 1)
        #expect(state.nanoseconds(48000 * 3600 * 30) == 3600 * 30 * 1_000_000_000)  // 30 hours: no overflow
        for frames: UInt64 in [0, 1, 47_999, 48_000, 123_456_789, 1 << 40] {
            #expect(state.frames(state.nanoseconds(frames)) == frames, "frames \(frames)")
        }
    }

    @Test(.enabled(if: !ALSABackend.deviceExists, "this machine has /dev/snd/seq; the live tests cover it"))
    func withoutTheDeviceOpenSaysWhyAndIsUnavailable() {
        let backend = ALSABackend(configuration: PortConfiguration(clientName: "sideman-test"))
        do {
            try backend.open()
            Issue.record("open succeeded without /dev/snd/seq")
        } catch {
            #expect(error.isUnavailable)
            #expect(error.subject == "alsa")
            #expect(error.problem.contains("/dev/snd/seq"))
        }
        #expect(throws: PortError.self) { try backend.listPorts() }
        #expect(!backend.status().isConnected)
    }

    @Test(.enabled(if: ALSABackend.deviceExists, Comment(rawValue: sequencerMissing)))
    func portsAppearInTheSequencerList() throws {
        let backend = ALSABackend(configuration: PortConfiguration(clientName: "sideman-alsa-list", outputNames: ["bass", "drums"]))
        try backend.open()
        defer { backend.close() }
        let names = try backend.listPorts().map(\.name)
        #expect(names.contains("sideman-alsa-list:in"))
        #expect(names.contains("sideman-alsa-list:bass"))
        #expect(names.contains("sideman-alsa-list:drums"))
    }

    /// Our output looped to our own input: what is scheduled at a frame comes back stamped at that frame
    /// (the kernel queue delivers it on time), byte for byte.
    @Test(.enabled(if: ALSABackend.deviceExists, Comment(rawValue: sequencerMissing)))
    func selfLoopDeliversOnTime() throws {
        let backend = ALSABackend(configuration: PortConfiguration(clientName: "sideman-alsa-loop"))
        try backend.open()
        defer { backend.close() }
        try backend.connect(backend.outputPortNames[0], to: backend.inputPortName)
        backend.enginePort.waitForCycle(seconds: 0.1)
        let start = backend.enginePort.cycleStart + 4800  // 100 ms ahead
        let notes: [[UInt8]] = [[0x90, 60, 100], [0x80, 60, 0], [0x90, 64, 90], [0x80, 64, 0]]
        for (i, note) in notes.enumerated() {
            note.withUnsafeBytes { _ = backend.enginePort.schedule(frame: start + UInt64(i * 2400), port: 0, bytes: $0) }
        }
        var received: [(UInt64, [UInt8])] = []
        for _ in 0..<200 where received.count < notes.count {
            backend.enginePort.waitForCycle(seconds: 0.01)
            backend.enginePort.receive { frame, bytes in received.append((frame, Array(bytes))) }
        }
        #expect(received.map(\.1) == notes)
        for (i, event) in received.enumerated() {
            let expected = Int64(start) + Int64(i * 2400)
            #expect(abs(Int64(event.0) - expected) < 96, "event \(i) at \(event.0), expected \(expected) (within 2 ms)")
        }
    }
}
