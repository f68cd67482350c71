import Testing

@testable import Ports

@Suite struct VirtualBackendTests {
    @Test func inputKeepsItsFramesAndOutputLandsAtItsFrame() throws {
        let backend = VirtualBackend(sampleRate: 48000, bufferSize: 128)
        try backend.open()
        backend.play(frame: 5, bytes: [0x90, 60, 100])
        backend.play(frame: 300, bytes: [0x80, 60, 0])
        backend.runCycle()  // frames 0..<128
        var received: [(UInt64, [UInt8])] = []
        backend.enginePort.receive { received.append(($0, Array($1))) }
        #expect(received.map(\.0) == [5])
        #expect(received.map(\.1) == [[0x90, 60, 100]])
        backend.runCycle()  // 128..<256
        backend.runCycle()  // 256..<384
        received.removeAll()
        backend.enginePort.receive { received.append(($0, Array($1))) }
        #expect(received.map(\.0) == [300])

        let events: [(UInt64, [UInt8])] = [(400, [0x90, 64, 90]), (511, [0x80, 64, 0]), (512, [0xB0, 7, 100])]
        for (frame, bytes) in events {
            #expect(bytes.withUnsafeBytes { backend.enginePort.schedule(frame: frame, port: 0, bytes: $0) })
        }
        backend.runCycle()  // 384..<512
        backend.runCycle()  // 512..<640
        let delivered = backend.takeDelivered()
        #expect(delivered.map(\.frame) == [400, 511, 512])
        #expect(delivered.map(\.bytes) == events.map(\.1))
        #expect(backend.status().lateEvents == 0)
    }

    @Test func lateOutputGoesAtTheCycleStartAndIsCounted() throws {
        let backend = VirtualBackend(bufferSize: 64)
        try backend.open()
        backend.runCycle()
        backend.runCycle()  // next cycle starts at 128
        [0x90, 60, 1].withUnsafeBytes { _ = backend.enginePort.schedule(frame: 10, port: 0, bytes: $0) }
        [0x90, 61, 1].withUnsafeBytes { _ = backend.enginePort.schedule(frame: 130, port: 0, bytes: $0) }
        backend.runCycle()
        #expect(backend.takeDelivered().map(\.frame) == [128, 130])
        #expect(backend.status().lateEvents == 1)
    }

    @Test func eventsForAPortThatDoesNotExistAreRefused() throws {
        let backend = VirtualBackend(configuration: PortConfiguration(outputNames: ["bass", "drums"]))
        try backend.open()
        #expect([0x90, 60, 1].withUnsafeBytes { backend.enginePort.schedule(frame: 0, port: 1, bytes: $0) })
        #expect(![0x90, 60, 1].withUnsafeBytes { backend.enginePort.schedule(frame: 0, port: 2, bytes: $0) })
        backend.runCycle()
        #expect(backend.takeDelivered().map(\.port) == [1])
    }

    @Test func lossIsReportedToTheControlThreadAndStopsOutput() throws {
        let backend = VirtualBackend()
        try backend.open()
        backend.simulateLoss()
        #expect(backend.waitForNotifications(seconds: 1).contains(.lost))
        #expect(backend.status().isLost)
        #expect(![0x90, 60, 1].withUnsafeBytes { backend.enginePort.schedule(frame: 0, port: 0, bytes: $0) })
    }
}

@Suite struct PortPatternTests {
    let ports = [
        PortInfo(name: "a2j:KeyStep [20] (capture): KeyStep MIDI 1", type: "midi", direction: .output, isPhysical: false),
        PortInfo(name: "fluidsynth:midi_00", type: "midi", direction: .input, isPhysical: false),
        PortInfo(name: "sideman:out", type: "midi", direction: .output, isPhysical: false),
        PortInfo(name: "sideman:in", type: "midi", direction: .input, isPhysical: false),
        PortInfo(name: "system:capture_1", type: "audio", direction: .output, isPhysical: true),
    ]

    @Test func globsAndClientNamesPickOtherClientsMIDIPorts() {
        #expect(PortPattern("a2j:*KeyStep*").select(from: ports, direction: .output, ownClient: "sideman").map(\.name)
            == [ports[0].name])
        #expect(PortPattern("fluidsynth").select(from: ports, direction: .input, ownClient: "sideman").map(\.name)
            == ["fluidsynth:midi_00"])
        #expect(PortPattern("*").select(from: ports, direction: .input, ownClient: "sideman").map(\.name)
            == ["fluidsynth:midi_00"])
        #expect(PortPattern("system").select(from: ports, direction: .output, ownClient: "sideman").isEmpty)
    }

    @Test func anExactNameMayPickSidemansOwnPort() {
        #expect(PortPattern("sideman:in").select(from: ports, direction: .input, ownClient: "sideman").map(\.name)
            == ["sideman:in"])
    }
}
