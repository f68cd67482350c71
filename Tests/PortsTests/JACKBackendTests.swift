import Foundation
import Ports
import Testing

/// The JACK backend in this process against a private jackd and python3-jack-client peers.
@Suite(.serialized, .enabled(if: TestPaths.jackMissing == nil, "needs jackd and python3-jack-client (scripts/setup.sh)"))
struct JACKBackendTests {
    /// Offsets from a base frame, chosen to hit cycle starts, ends and the middle at period 128.
    let offsets: [UInt64] = [0, 1, 37, 127, 128, 129, 500, 1000, 1001, 2047, 2048]

    func openBackend(on server: JackServer, name: String = "smtest") throws -> JACKBackend {
        let backend = JACKBackend(configuration: PortConfiguration(clientName: name, serverName: server.name))
        try backend.open()
        return backend
    }

    /// Collects input until `count` events arrived or 20 s passed.
    func receive(_ count: Int, from backend: JACKBackend) -> [(frame: UInt64, bytes: [UInt8])] {
        var events: [(frame: UInt64, bytes: [UInt8])] = []
        let deadline = Date(timeIntervalSinceNow: 20)
        while events.count < count && Date() < deadline {
            backend.enginePort.waitForCycle(seconds: 0.05)
            backend.enginePort.receive { events.append(($0, Array($1))) }
        }
        return events
    }

    /// Engine frames are the server's, exactly, unless the server's clock once read ahead of itself under
    /// load (a callback so late that the next cycle had begun): then the engine's run a constant up to two
    /// periods ahead (EngineFrameClock, counted in `clockHeldCycles`), and only that constant may differ.
    func expectEngineLead(_ lead: UInt64, _ backend: JACKBackend) {
        let status = backend.status()
        if status.clockHeldCycles > 0 && lead != 0 {
            print("the engine's clock held \(status.clockHeldCycles) cycles and runs \(lead) frames ahead of the server's")
            #expect(lead <= 2 * UInt64(status.bufferSize))
        } else {
            #expect(lead == 0)
        }
    }

    func waitForCycles(_ backend: JACKBackend) {
        let deadline = Date(timeIntervalSinceNow: 20)
        while backend.status().cycles < 4 && Date() < deadline { backend.enginePort.waitForCycle(seconds: 0.05) }
    }

    @Test func notesFromAnExternalClientArriveAtTheirAbsoluteFrames() throws {
        let server = try JackServer()
        defer { server.stop() }
        let backend = try openBackend(on: server)
        defer { backend.close() }
        let sender = try JackPeer(name: "sender", server: server)
        defer { sender.stop() }
        try sender.connect("sender:out", backend.inputPortName)

        let base = try sender.now() + 4800  // 100 ms ahead: every event is written on time
        for (index, offset) in offsets.enumerated() { sender.send([0x90, UInt8(48 + index), 100], at: base + offset) }
        let events = receive(offsets.count, from: backend)
        let written = try sender.written()

        // The peer writes each event at the frame it asked for unless its own callback ran late under load;
        // either way the backend must stamp each event with the frame it was written at.
        if written.map(\.written) != written.map(\.asked) { print("the sender itself was late: \(written)") }
        #expect(written.count == offsets.count)
        let shift = events.first.flatMap { event in written.first.map { event.frame &- $0.written } } ?? 0
        expectEngineLead(shift, backend)
        #expect(events.map(\.frame) == written.map { $0.written + shift })
        #expect(events.map(\.bytes) == offsets.indices.map { [0x90, UInt8(48 + $0), 100] })
        #expect(backend.status().droppedEvents == 0)
    }

    @Test func scheduledOutputReachesAnExternalClientAtItsFrames() throws {
        let server = try JackServer()
        defer { server.stop() }
        let backend = try openBackend(on: server)
        defer { backend.close() }
        let receiver = try JackPeer(name: "receiver", server: server)
        defer { receiver.stop() }
        try receiver.connect(backend.outputPortNames[0], "receiver:in")
        waitForCycles(backend)

        let base = backend.enginePort.cycleStart + 4800
        for (index, offset) in offsets.enumerated() {
            let bytes: [UInt8] = [0x91, UInt8(60 + index), 90]
            #expect(bytes.withUnsafeBytes { backend.enginePort.schedule(frame: base + offset, port: 0, bytes: $0) })
        }
        let events = try receiver.waitForReceived { $0.count >= offsets.count }
        let shift = events.first.map { (base + offsets[0]) &- $0.frame } ?? 0
        expectEngineLead(shift, backend)
        #expect(events.map(\.frame) == offsets.map { base + $0 - shift })
        #expect(events.map(\.bytes) == offsets.indices.map { [0x91, UInt8(60 + $0), 90] })
        #expect(backend.status().lateEvents == 0)
    }

    @Test(arguments: [64, 128])
    func aSelfLoopRoundTripIsExactlyOnePeriod(period: Int) throws {
        let server = try JackServer(period: period)
        defer { server.stop() }
        let backend = try openBackend(on: server)
        defer { backend.close() }
        try backend.connect(backend.outputPortNames[0], to: backend.inputPortName)
        waitForCycles(backend)
        #expect(backend.status().bufferSize == period)
        let xrunsBefore = backend.status().xruns

        let base = backend.enginePort.cycleStart + 4800
        let sent = offsets.map { base + $0 }
        for (index, frame) in sent.enumerated() {
            [0x90, UInt8(40 + index), 64].withUnsafeBytes { _ = backend.enginePort.schedule(frame: frame, port: 0, bytes: $0) }
        }
        let events = receive(sent.count, from: backend)
        #expect(events.map(\.bytes) == sent.indices.map { [0x90, UInt8(40 + $0), 64] }, "all arrive, in order")
        let lateness = zip(events, sent).map { Int64($0.frame) - Int64($1) - Int64(period) }
        // Exactly one period, but for a cycle or two the server ran late in on a loaded machine: then JACK's
        // frame time can read a period stale (Sideman's clock keeps real time through it, so a stamp taken
        // from the stale reading differs by a period), or an event waits a cycle more.
        // A server that missed its deadlines (an xrun, on a loaded 2-core box) delivers what waited in the
        // cycles it skipped a few periods late (seen: 4 periods of 64 frames): then only order and arrival
        // are exact.
        // So, without an xrun: exact but for the events of at most two of the server's cycles (the events span
        // five or more; a CI run with the suite beside it had the three of one cycle a period late).
        let xruns = backend.status().xruns - xrunsBefore
        let offCycles = Set(zip(lateness, sent).filter { $0.0 != 0 }.map { $0.1 / UInt64(period) })
        #expect(xruns > 0 || offCycles.count <= 2, "exactly one period: \(lateness)")
        let bound = Int64(period) * (xruns == 0 ? 2 : 8)
        #expect(lateness.allSatisfy { abs($0) <= bound }, "within \(bound) frames of one period (\(xruns) xruns): \(lateness)")
    }

    @Test func aBufferSizeChangeIsFollowedAndTheRoundTripIsTheNewPeriod() throws {
        let server = try JackServer(period: 128)
        defer { server.stop() }
        let backend = try openBackend(on: server)
        defer { backend.close() }
        try backend.connect(backend.outputPortNames[0], to: backend.inputPortName)
        waitForCycles(backend)
        let change = try ChildProcess("/usr/bin/jack_bufsize", ["64"], environment: server.environment)
        #expect(change.waitForExit() == 0)
        let deadline = Date(timeIntervalSinceNow: 20)
        while (backend.status().bufferSize != 64 || backend.enginePort.cycleLength != 64) && Date() < deadline {
            backend.enginePort.waitForCycle(seconds: 0.05)
        }
        #expect(backend.status().bufferSize == 64)

        let frame = backend.enginePort.cycleStart + 4800 + 17
        [0x90, 60, 64].withUnsafeBytes { _ = backend.enginePort.schedule(frame: frame, port: 0, bytes: $0) }
        let events = receive(1, from: backend)
        #expect(events.map(\.frame) == [frame + 64])
    }

    @Test func serverLossIsReportedAndTheBackendReopensOnANewServer() throws {
        let server = try JackServer()
        defer { server.stop() }
        let backend = try openBackend(on: server)
        defer { backend.close() }
        waitForCycles(backend)
        server.stop(signal: SIGKILL)
        var notes = PortNotifications()
        let deadline = Date(timeIntervalSinceNow: 20)
        while !notes.contains(.lost) && Date() < deadline { notes.formUnion(backend.waitForNotifications(seconds: 0.1)) }
        #expect(notes.contains(.lost))
        #expect(backend.status().isLost)
        #expect(![0x90, 60, 1].withUnsafeBytes { backend.enginePort.schedule(frame: 0, port: 0, bytes: $0) })
        backend.close()

        try server.start()
        try backend.open()
        waitForCycles(backend)
        #expect(backend.status().isConnected)
        #expect(server.portNames()?.contains(backend.inputPortName) == true)
    }

    @Test func listingShowsTheServersPortsWithTypeAndDirection() throws {
        let server = try JackServer()
        defer { server.stop() }
        let backend = try openBackend(on: server)
        defer { backend.close() }
        let ports = try backend.listPorts()
        #expect(ports.contains(PortInfo(name: "smtest:in", type: "midi", direction: .input, isPhysical: false)))
        #expect(ports.contains(PortInfo(name: "smtest:out", type: "midi", direction: .output, isPhysical: false)))
        #expect(ports.contains(PortInfo(name: "system:capture_1", type: "audio", direction: .output, isPhysical: true)))
    }

    @Test func openingWithoutAServerFailsAsUnavailable() {
        let backend = JACKBackend(
            configuration: PortConfiguration(serverName: "sideman-no-such-server-\(getpid())"))
        #expect {
            try backend.open()
        } throws: { error in
            (error as? PortError)?.isUnavailable == true
        }
    }
}
