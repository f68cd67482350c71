import Foundation
import Testing
import TestSupport

/// `sideman run` as a user runs it, between a sending and a receiving python3-jack-client peer.
@Suite(.serialized, .enabled(if: TestPaths.jackMissing == nil, "needs jackd and python3-jack-client (scripts/setup.sh)"))
struct DaemonTests {
    /// A running daemon connected `sender:out -> sideman:in`, `sideman:out -> receiver:in`.
    struct Rig {
        let server: JackServer
        let daemon: ChildProcess
        let sender: JackPeer
        let receiver: JackPeer

        init(
            server: JackServer, arguments: [String] = [], environment: [String: String] = [:]
        ) throws {
            self.server = server
            daemon = try ChildProcess(
                Program.sideman,
                ["run", "--backend", "jack", "--connect-in", "sender:out", "--connect-out", "receiver:in"] + arguments,
                environment: server.environment.merging(environment) { $1 })
            guard daemon.waitForError(containing: "ready as") != nil else {
                daemon.stop()
                throw HarnessError("sideman did not come up: \(daemon.errorLines.joined(separator: " | "))")
            }
            // The peers appear after the daemon: their ports must be connected when they register.
            sender = try JackPeer(name: "sender", server: server)
            receiver = try JackPeer(name: "receiver", server: server)
            try Self.waitForConnections(server)
            try receiver.awaitGreeting()
        }

        static func waitForConnections(_ server: JackServer) throws {
            let deadline = Date(timeIntervalSinceNow: 20)
            while Date() < deadline {
                if let lines = server.connections(), lines.contains("sender:out>sideman:in"),
                    lines.contains("sideman:out>receiver:in")
                {
                    return
                }
                usleep(20_000)
            }
            throw HarnessError("sideman did not connect to the peers")
        }

        func stop() {
            daemon.stop()
            sender.stop()
            receiver.stop()
        }

        /// The signs of a loaded machine: the server's xruns since the sender had heard `xrunsBefore` (a
        /// dummy server reports a few while clients come and go, so count from just before the music), plus
        /// the late and dropped events in the daemon's last report line ("jack: 2 xruns, 5 late events,
        /// 0 dropped events so far", written when its control thread next wakes: ask after a signal it
        /// answers; `ask` sends SIGUSR1, which it answers by writing the session if it records one, and
        /// waits for the line). Timing that is exact on a calm box is checked exactly only when this is 0.
        func disturbances(sinceSenderXruns xrunsBefore: Int, ask: Bool = true) throws -> Int {
            if ask {
                daemon.signal(SIGUSR1)
                usleep(300_000)
            }
            var lateOrDropped = 0
            for line in daemon.errorLines {
                guard let range = line.range(of: "jack: "), line.hasSuffix("dropped events so far") else { continue }
                let numbers = line[range.upperBound...].split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
                if numbers.count == 3 { lateOrDropped = max(lateOrDropped, numbers[1] + numbers[2]) }
            }
            return (try sender.xruns()) - xrunsBefore + lateOrDropped
        }
    }

    func notes(_ events: [(frame: UInt64, bytes: [UInt8])]) -> (ons: [[UInt8]], offs: [[UInt8]]) {
        var ons: [[UInt8]] = []
        var offs: [[UInt8]] = []
        for event in events where event.bytes.count == 3 {
            let key = [event.bytes[0] & 0x0F, event.bytes[1]]
            switch event.bytes[0] & 0xF0 {
            case 0x90 where event.bytes[2] > 0: ons.append(key)
            case 0x80, 0x90: offs.append(key)
            default: break
            }
        }
        return (ons, offs)
    }

    @Test func thruAddsExactlyOnePeriodAndMapsChannelAndPitch() throws {
        let server = try JackServer()
        defer { server.stop() }
        let rig = try Rig(server: server, arguments: ["--thru-channel", "10", "--transpose=-12"])
        defer { rig.stop() }
        // One event per cycle, well apart: the engine has a full period to answer each.
        let base = try rig.sender.now() + 4800
        let offsets: [UInt64] = [3, 600, 1300, 2000, 2700]
        for (index, offset) in offsets.enumerated() {
            rig.sender.send([0x90 | UInt8(index), UInt8(60 + index), 100], at: base + offset)
        }
        let events = try rig.receiver.waitForReceived { $0.count >= offsets.count }
        #expect(events.map(\.bytes) == offsets.indices.map { [0x99, UInt8(48 + $0), 100] })
        let lateness = zip(events, offsets).map { Int64($0.frame) - Int64(base + $1 + 128) }
        if try rig.sender.xruns() + rig.receiver.xruns() == 0 {
            #expect(lateness.allSatisfy { $0 == 0 }, "exactly one period: \(lateness)")
        } else {
            // The server ran late on a loaded machine: its frame time may read a period stale for a while
            // (the peers stamp with it, Sideman's clock does not), or an event waits a cycle more.
            #expect(lateness.allSatisfy { abs($0) <= 256 }, "within two periods of one period after xruns: \(lateness)")
        }
    }

    /// JACK refuses connections to a client that registered its ports but has not activated yet: the
    /// daemon connects once it is active, and does not report the early refusal as a failure.
    @Test func portsOfAClientThatActivatesLateAreConnectedOnceItIsActive() throws {
        let server = try JackServer()
        defer { server.stop() }
        var daemon: ChildProcess?
        defer { daemon?.stop() }
        let receiver = try JackPeer(name: "receiver", server: server, activationDelay: 1.5) {
            daemon = try ChildProcess(
                Program.sideman, ["run", "--connect-out", "receiver:in"], environment: server.environment)
            guard daemon?.waitForError(containing: "ready as") != nil else { throw HarnessError("sideman did not start") }
        }
        defer { receiver.stop() }
        let deadline = Date(timeIntervalSinceNow: 20)
        var connected = false
        while !connected && Date() < deadline {
            connected = server.connections()?.contains("sideman:out>receiver:in") == true
            if !connected { usleep(20_000) }
        }
        #expect(connected)
        #expect(daemon?.errorLines.contains { $0.contains("cannot connect") } == false)
    }

    @Test func sigtermWhileNotesAreHeldEndsEveryNoteAtTheReceiver() throws {
        let server = try JackServer()
        defer { server.stop() }
        let rig = try Rig(server: server)
        defer { rig.stop() }
        let base = try rig.sender.now() + 2400
        let held: [[UInt8]] = [[0x90, 60, 100], [0x90, 64, 90], [0x93, 67, 80], [0x99, 36, 127], [0x90, 72, 1]]
        for (index, bytes) in held.enumerated() { rig.sender.send(bytes, at: base + UInt64(index * 50)) }
        rig.sender.send([0x90, 72, 0], at: base + 400)  // one note already ended by the player
        let before = try rig.receiver.waitForReceived { $0.count >= held.count + 1 }
        #expect(before.count == held.count + 1)

        rig.daemon.signal(SIGTERM)
        #expect(rig.daemon.waitForExit() == 0)
        let after = try rig.receiver.waitForReceived(timeout: 5) { notes($0).offs.count >= held.count }
        let (ons, offs) = notes(after)
        #expect(ons.count == held.count)
        for on in ons { #expect(offs.contains(on), "no note-off for channel \(on[0] + 1) note \(on[1])") }
        // CC 123 on every channel used (1, 4, 10) after the note-offs.
        let allNotesOff = Set(after.filter { $0.bytes.count == 3 && $0.bytes[0] & 0xF0 == 0xB0 && $0.bytes[1] == 123 }
            .map { $0.bytes[0] & 0x0F })
        #expect(allNotesOff == [0, 3, 9])
    }

    @Test func panicFromThePlayerEndsEveryNote() throws {
        let server = try JackServer()
        defer { server.stop() }
        let rig = try Rig(server: server, arguments: ["--transpose=2"])
        defer { rig.stop() }
        let base = try rig.sender.now() + 2400
        rig.sender.send([0x90, 60, 100], at: base)
        rig.sender.send([0x91, 62, 100], at: base + 10)
        rig.sender.send([0xB0, 120, 0], at: base + 1000)  // All Sound Off from the player
        let events = try rig.receiver.waitForReceived { notes($0).offs.count >= 2 }
        let (ons, offs) = notes(events)
        #expect(ons == [[0, 62], [1, 64]])
        #expect(Set(offs.map { $0 }) == Set(ons))
        #expect(rig.daemon.waitForExit(timeout: 0.1) == nil, "the daemon keeps running after a panic")
    }

    @Test func theDaemonWaitsForAServerAndReconnectsWithinTwoSecondsAfterItIsKilled() throws {
        let server = try JackServer(startNow: false)
        defer { server.stop() }
        let daemon = try ChildProcess(
            Program.sideman, ["run", "--connect-in", "sender:out", "--connect-out", "receiver:in"],
            environment: server.environment)
        defer { daemon.stop() }
        #expect(daemon.waitForError(containing: "no server running") != nil)
        #expect(daemon.waitForExit(timeout: 0.3) == nil, "without a server the daemon waits, it does not exit")

        try server.start()
        #expect(daemon.waitForError(containing: "ready as") != nil)

        server.stop(signal: SIGKILL)
        try server.start()
        let serverUp = Date()
        var reconnected: Date?
        while reconnected == nil && Date().timeIntervalSince(serverUp) < 20 {
            if server.portNames()?.contains("sideman:in") == true { reconnected = Date() } else { usleep(10_000) }
        }
        let seconds = try #require(reconnected).timeIntervalSince(serverUp)
        #expect(seconds < 2, "reconnected \(seconds) s after the server came back")
        #expect(daemon.waitForError(containing: "reconnected") != nil)

        // The connections come back too, and notes flow again.
        let sender = try JackPeer(name: "sender", server: server)
        defer { sender.stop() }
        let receiver = try JackPeer(name: "receiver", server: server)
        defer { receiver.stop() }
        try Rig.waitForConnections(server)
        try receiver.awaitGreeting()
        let frame = try sender.now() + 2400
        sender.send([0x90, 50, 50], at: frame)
        let events = try receiver.waitForReceived { !$0.isEmpty }
        #expect(events.map(\.frame) == [frame + 128])
    }

    /// With the probe library preloaded the backend installs its probing callback, which brackets the
    /// production callback's own body (`jackCycle`); a preloaded malloc counts calls made
    /// while inside it, on JACK's thread, during live traffic in both directions.
    @Test func theProcessCallbackAllocatesNothing() throws {
        let library = try AllocationCounter.build()
        let report = FileManager.default.temporaryDirectory.appendingPathComponent("sideman-alloc-\(getpid()).txt")
        try? FileManager.default.removeItem(at: report)
        let server = try JackServer()
        defer { server.stop() }
        let rig = try Rig(
            server: server, environment: ["LD_PRELOAD": library, "SIDEMAN_ALLOC_REPORT": report.path])
        defer { rig.stop() }
        let base = try rig.sender.now() + 2400
        let count = 400
        // Spread over a second of frames, so the probe sees a few hundred cycles of traffic however fast the
        // run gets going (at 37-frame spacing it sometimes saw fewer than 200 on a loaded machine).
        for index in 0..<count {
            let note = UInt8(36 + index % 48)
            rig.sender.send([0x90, note, 100], at: base + UInt64(index * 120))
            rig.sender.send([0x80, note, 0], at: base + UInt64(index * 120 + 60))
        }
        let events = try rig.receiver.waitForReceived { $0.count >= 2 * count }
        // What is counted here is allocations; the traffic only has to be there. JACK itself may drop MIDI
        // in a cycle it ran late on a loaded machine, so a few events short is tolerated after xruns.
        if try rig.sender.xruns() + rig.receiver.xruns() == 0 {
            #expect(events.count == 2 * count)
        } else {
            #expect(events.count >= 2 * count * 9 / 10, "\(events.count) of \(2 * count) events after xruns")
        }
        rig.daemon.signal(SIGTERM)
        #expect(rig.daemon.waitForExit() == 0)

        let fields = try String(contentsOf: report, encoding: .utf8).split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        try #require(fields.count == 4)
        let (cycles, cycleAllocations, cycleFrees, allAllocations) = (fields[0], fields[1], fields[2], fields[3])
        #expect(cycles > 200, "the probe saw \(cycles) cycles")
        #expect(allAllocations > 1000, "the counter is live: \(allAllocations) allocations in the whole process")
        #expect(cycleAllocations == 0)
        #expect(cycleFrees == 0)
    }

    @Test func cliErrorsAreOneLineWithSysexitsCodes() throws {
        let missing = ["JACK_NO_START_SERVER": "1", "JACK_DEFAULT_SERVER": "sideman-none-\(getpid())"]
        let ports = try ChildProcess(Program.sideman, ["ports"], environment: missing)
        #expect(ports.waitForExit() == 69)
        #expect(ports.errorLines.first?.hasPrefix("sideman: jack: no server running") == true)

        let alsa = try ChildProcess(Program.sideman, ["run", "--backend", "alsa"], environment: missing)
        #expect(alsa.waitForExit() == 69)
        #expect(alsa.errorLines.first?.hasPrefix("sideman: alsa: ") == true)

        let preset = try ChildProcess(Program.sideman, ["run", "--preset", "no-such-preset"], environment: missing)
        #expect(preset.waitForExit() == 66)
        #expect(preset.errorLines.first?.hasPrefix("sideman: no-such-preset: no such preset") == true)

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sideman-presets-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let invalid = folder.appendingPathComponent("invalid.yaml")
        try "thru:\n  transpose: 100\n".write(to: invalid, atomically: true, encoding: .utf8)
        let bad = try ChildProcess(Program.sideman, ["run", "--preset", invalid.path], environment: missing)
        #expect(bad.waitForExit() == 65)
        #expect(bad.errorLines.first?.hasPrefix("sideman: \(invalid.path): thru.transpose:") == true)

        let band = folder.appendingPathComponent("band.yaml")
        try "parts:\n  - name: bass\n    role: bass\n    model: bass.safetensors\n    channel: 2\n"
            .write(to: band, atomically: true, encoding: .utf8)
        let parts = try ChildProcess(Program.sideman, ["run", "--preset", band.path], environment: missing)
        #expect(parts.waitForExit() == 66)
        #expect(parts.errorLines.first == "sideman: \(folder.path)/bass.safetensors: no such model file (parts[0].model)")
    }

    /// A preset's ports and thru settings drive the daemon; SIGHUP reads it again without dropping
    /// ports, ending the notes that sound under the old settings first.
    @Test func aPresetConfiguresTheDaemonAndSighupReloadsItWithoutStuckNotes() throws {
        let server = try JackServer()
        defer { server.stop() }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sideman-presets-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("reload.yaml")
        func write(transpose: Int) throws {
            try """
                name: reload
                ports:
                  client_name: sideman
                  connect_in: ["sender:out"]
                  connect_out: ["receiver"]
                thru:
                  channel: 5
                  transpose: \(transpose)
                """.write(to: file, atomically: true, encoding: .utf8)
        }
        try write(transpose: 7)
        let daemon = try ChildProcess(Program.sideman, ["run", "--preset", file.path], environment: server.environment)
        defer { daemon.stop() }
        #expect(daemon.waitForError(containing: "ready as") != nil)
        let sender = try JackPeer(name: "sender", server: server)
        defer { sender.stop() }
        let receiver = try JackPeer(name: "receiver", server: server)
        defer { receiver.stop() }
        try Rig.waitForConnections(server)
        try receiver.awaitGreeting()

        let base = try sender.now() + 2400
        sender.send([0x90, 60, 100], at: base)  // held across the reload
        let first = try receiver.waitForReceived { !$0.isEmpty }
        #expect(first.map(\.bytes) == [[0x94, 67, 100]])

        try write(transpose: -5)
        daemon.signal(SIGHUP)
        #expect(daemon.waitForError(containing: "reloaded") != nil)
        // The held note ends on the reload, under the settings it started with.
        let ended = try receiver.waitForReceived { notes($0).offs.contains([4, 67]) }
        #expect(notes(ended).offs.contains([4, 67]))

        let later = try sender.now() + 2400
        sender.send([0x90, 62, 90], at: later)
        let events = try receiver.waitForReceived { notes($0).ons.count >= 2 }
        #expect(notes(events).ons == [[4, 67], [4, 57]])
        // One period after the frame the sender wrote it at (the python sender writes late when its own
        // callback ran late on a loaded machine).
        let writtenAt = try #require(try sender.written().last { $0.asked == later }?.written)
        let lateness = events.last.map { Int64($0.frame) - Int64(writtenAt + 128) }
        if try sender.xruns() + receiver.xruns() == 0 {
            #expect(lateness == 0)
        } else {
            // The server ran late: an event may wait a cycle more.
            #expect(lateness.map { abs($0) <= 256 } == true, "within two periods of one period after xruns: \(String(describing: lateness))")
        }
    }

    /// A connection pattern with a typo is said once, after a grace period, with the ports there are;
    /// one that matches is not.
    @Test func aConnectionPatternThatMatchesNothingIsReportedOnceWithThePortsThereAre() throws {
        let server = try JackServer()
        defer { server.stop() }
        let synth = try JackPeer(name: "synth", server: server)
        defer { synth.stop() }
        let daemon = try ChildProcess(
            Program.sideman, ["run", "--backend", "jack", "--connect-in", "synth:out", "--connect-out", "fluidsynth:l_00"],
            environment: server.environment)
        defer { daemon.stop() }
        let line = try #require(daemon.waitForError(containing: "matches no MIDI", timeout: 20))
        #expect(line.contains("output pattern 'fluidsynth:l_00' matches no MIDI input port (there are synth:in)"), "\(line)")
        usleep(1_500_000)
        #expect(daemon.errorLines.filter { $0.contains("matches no MIDI") }.count == 1, "said once: \(daemon.errorLines)")
        #expect(!daemon.errorLines.contains { $0.contains("'synth:out'") }, "the pattern that matched is not reported")
    }

    @Test func portsListsTheServersPorts() throws {
        let server = try JackServer()
        defer { server.stop() }
        let ports = try ChildProcess(Program.sideman, ["ports"], environment: server.environment)
        #expect(ports.waitForExit() == 0)
        var lines: [String] = []
        while let line = ports.nextLine(timeout: 5) { lines.append(line) }
        let fields = lines.map { $0.split(separator: " ").map(String.init) }
        #expect(fields.contains(["jack", "system:capture_1", "audio", "out", "physical"]))
        #expect(fields.contains(["jack", "system:playback_2", "audio", "in", "physical"]))

        // A server with no MIDI ports (the dummy backend has none) says so instead of printing nothing.
        let midi = try ChildProcess(Program.sideman, ["ports", "--midi", "--backend", "jack"], environment: server.environment)
        #expect(midi.waitForExit() == 0)
        #expect(midi.nextLine(timeout: 5)?.hasPrefix("no MIDI ports on jack") == true)
    }
}

/// Builds the malloc-counting preload library from C source with the toolchain's C compiler.
enum AllocationCounter {
    static let source = #"""
        #define _GNU_SOURCE
        #include <stdatomic.h>
        #include <stddef.h>
        #include <stdio.h>
        #include <stdlib.h>
        extern void *__libc_malloc(size_t);
        extern void *__libc_calloc(size_t, size_t);
        extern void *__libc_realloc(void *, size_t);
        extern void *__libc_memalign(size_t, size_t);
        extern void __libc_free(void *);
        static __thread int inside __attribute__((tls_model("initial-exec")));
        static atomic_long cycles, cycle_allocations, cycle_frees, all_allocations;
        void sideman_alloc_probe(int entering) {
            inside = entering;
            if (entering) atomic_fetch_add(&cycles, 1);
        }
        static void counted(void) {
            atomic_fetch_add_explicit(&all_allocations, 1, memory_order_relaxed);
            if (inside) atomic_fetch_add(&cycle_allocations, 1);
        }
        void *malloc(size_t n) { counted(); return __libc_malloc(n); }
        void *calloc(size_t a, size_t b) { counted(); return __libc_calloc(a, b); }
        void *realloc(void *p, size_t n) { counted(); return __libc_realloc(p, n); }
        void *memalign(size_t a, size_t n) { counted(); return __libc_memalign(a, n); }
        void *aligned_alloc(size_t a, size_t n) { counted(); return __libc_memalign(a, n); }
        int posix_memalign(void **out, size_t a, size_t n) {
            counted();
            void *p = __libc_memalign(a, n);
            if (!p) return 12;
            *out = p;
            return 0;
        }
        void free(void *p) {
            if (inside && p) atomic_fetch_add(&cycle_frees, 1);
            __libc_free(p);
        }
        __attribute__((destructor)) static void report(void) {
            const char *path = getenv("SIDEMAN_ALLOC_REPORT");
            if (!path) return;
            FILE *f = fopen(path, "w");
            if (!f) return;
            fprintf(f, "%ld %ld %ld %ld\n", (long)cycles, (long)cycle_allocations, (long)cycle_frees,
                    (long)all_allocations);
            fclose(f);
        }
        """#

    static func build() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sideman-alloc-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let cFile = directory.appendingPathComponent("counter.c")
        let library = directory.appendingPathComponent("libcounter.so")
        try source.write(to: cFile, atomically: true, encoding: .utf8)
        let compilers = ["/opt/swift/usr/bin/clang", "/usr/bin/clang", "/usr/bin/cc", "/usr/bin/gcc"]
        guard let compiler = compilers.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw HarnessError("no C compiler to build the allocation counter")
        }
        let child = try ChildProcess(compiler, ["-O2", "-shared", "-fPIC", "-o", library.path, cFile.path])
        guard child.waitForExit(timeout: 60) == 0 else {
            throw HarnessError("\(compiler) failed: \(child.errorLines.joined(separator: " | "))")
        }
        return library.path
    }
}
