import Engine
import MIDI
import Ports
import Service
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The engine side of the daemon: reads the input ring, runs the engine, keeps every sent note in a
/// tracker, and schedules output. Lives across reconnections (the tracker remembers notes sent to a
/// server that died, so they can be ended on the next one); one `EngineThread` at a time drives it.
public final class EngineRunner: @unchecked Sendable {
    // @unchecked: all mutable state is used only by the engine thread that currently runs `loop`, and
    // threads hand over by join (`EngineThread.stop`), which orders their memory accesses.

    private var engine: any PerformanceEngine
    /// A controller that means panic besides CC 120 and CC 123.
    private var panicController: UInt8?
    /// An engine handed over by the control thread (preset reload), taken at the next step.
    private let replacement = Mutex<(engine: any PerformanceEngine, panicController: UInt8?)?>(nil)
    private var parser = MIDIStreamParser(maxSysexLength: 4096)
    /// Everything sent, per output port: the note-offs (and pedal-up, CC 123 per used channel) that
    /// silencing needs.
    private(set) var trackers: [NoteTracker]
    private var input: [TimedMIDIMessage] = []
    private var produced: [ScheduledMessage] = []
    /// Produced but not yet due: released into the output ring a little ahead of their cycle, so a
    /// far-future event never blocks a nearer one behind it in the ring.
    private var pending: [ScheduledMessage] = []
    private var encoded: [UInt8] = []
    /// The latest frame scheduled into the output ring this connection. The ring is one FIFO that the
    /// I/O thread delivers in order, so a message scheduled for an earlier frame (a silence or a panic at
    /// the next cycle, after notes released up to three cycles ahead) sounds after those anyway: it is
    /// scheduled, and recorded, at the frame it will really reach the synth, or the session recording
    /// would put a note-off before the note-on it ends.
    private var latestScheduledFrame: UInt64 = 0
    /// The keys the player holds, as heard. A server that dies takes the player's note-offs with it; the
    /// engine gets them when it resumes, or its listener would hear those keys held for ever (a phrase
    /// that never ends, an answer that never comes).
    private var playerHeld = NoteTracker()
    /// Input the next pass hears before the port's: the releases of keys held through a lost server.
    private var resumeInput: [TimedMIDIMessage] = []
    /// The session recording, when asked for: every input and output message, and the tempo.
    let recorder: SessionRecorder?
    private var recordedTempo: Double = 0
    let stopping = Atomic<Bool>(false)
    /// Output ports (one bit each) that a new destination was connected to, set by the control thread:
    /// the engine thread greets them at its next pass.
    private let greetingsRequested = Atomic<UInt64>(0)
    /// Output ports to greet again, sparing the channels where a note of ours sounds (a follow-up).
    private let followUpsRequested = Atomic<UInt64>(0)
    /// Counts passes of the engine loop: the watchdog is fed only while it moves.
    let heartbeat = Atomic<UInt64>(0)

    public init(engine: any PerformanceEngine, panicController: UInt8?, outputCount: Int, recorder: SessionRecorder? = nil) {
        self.engine = engine
        self.recorder = recorder
        self.panicController = panicController
        trackers = Array(repeating: NoteTracker(), count: outputCount)
        input.reserveCapacity(1024)
        produced.reserveCapacity(1024)
        encoded.reserveCapacity(4096)
    }

    /// True when no note sent is still sounding.
    /// What the runner's own buffers hold room for: it must stay what the first passes made it.
    var bufferCapacity: Int { pending.capacity + input.capacity + produced.capacity + encoded.capacity + resumeInput.capacity }
    public var isSilent: Bool { trackers.allSatisfy(\.isSilent) }

    /// The engine thread's body: runs until `stopping` is set or the backend is lost.
    func loop(backend: any EnginePort) {
        pending.removeAll()
        latestScheduledFrame = 0
        parser = MIDIStreamParser(maxSysexLength: 4096)
        // Once the server has run a cycle (so the clock means something): notes left sounding on a
        // previous server end (a synth behind a bridge may still hold them), and every port is greeted,
        // since a run that crashed or was killed may have left notes sounding on any of them.
        var waited = 0
        while backend.cycles == 0 && waited < 100 && !stopping.load(ordering: .acquiring) {
            backend.waitForCycle(seconds: 0.01)
            waited += 1
        }
        let first = backend.cycleStart + UInt64(backend.cycleLength)
        if !isSilent { silence(backend: backend, at: first) }
        resumeInput.removeAll()
        playerHeld.forEachSoundingNote { key in
            for _ in 0..<max(1, playerHeld.strikeCount(channel: key.channel, note: key.note)) {
                resumeInput.append(TimedMIDIMessage(time: backend.cycleStart, message: .noteOff(channel: key.channel, note: key.note, velocity: 0)))
            }
        }
        for channel in MIDIChannel(0)..<16 where playerHeld.isPedalDown(channel: channel) {
            resumeInput.append(TimedMIDIMessage(time: backend.cycleStart, message: .controlChange(channel: channel, controller: ControllerNumber.sustainPedal, value: 0)))
        }
        playerHeld = NoteTracker()
        _ = greetingsRequested.exchange(0, ordering: .acquiringAndReleasing)
        _ = followUpsRequested.exchange(0, ordering: .acquiringAndReleasing)
        greet(ports: .max, backend: backend, at: first)
        while !stopping.load(ordering: .acquiring) {
            backend.waitForCycle(seconds: 0.05)
            if backend.isLost { return }
            let next = backend.cycleStart + UInt64(backend.cycleLength)
            let greetings = greetingsRequested.exchange(0, ordering: .acquiringAndReleasing)
            if greetings != 0 { greet(ports: greetings, backend: backend, at: next) }
            let followUps = followUpsRequested.exchange(0, ordering: .acquiringAndReleasing) & ~greetings
            if followUps != 0 { greet(ports: followUps, sparingSoundingChannels: true, backend: backend, at: next) }
            step(backend: backend)
            heartbeat.add(1, ordering: .relaxed)
            publishMetrics()
        }
        if !backend.isLost {
            step(backend: backend)
            silence(backend: backend, at: backend.cycleStart + UInt64(backend.cycleLength))
        }
    }

    /// Hands a new engine to the engine thread (control thread). Everything sounding is ended first:
    /// the new engine knows nothing of the old one's notes.
    func replace(engine: any PerformanceEngine, panicController: UInt8?) {
        replacement.withLock { $0 = (engine, panicController) }
    }

    /// One pass: input in, engine, output scheduled.
    public func step(backend: any EnginePort) {
        if let next = replacement.withLock({ slot -> (engine: any PerformanceEngine, panicController: UInt8?)? in
            defer { slot = nil }
            return slot
        }) {
            pending.removeAll()
            let at = backend.cycleStart + UInt64(backend.cycleLength)
            var incoming = next.engine
            if let ending = incoming.takeOver(from: engine, at: at) {
                // Only what the new engine does not carry on falls silent. Notes the old engine left to
                // the tracker alone (the thru's) are the player's, whose note-offs still come through.
                for message in ending { send(message, backend: backend) }
            } else {
                silence(backend: backend, at: at)
            }
            engine = incoming
            panicController = next.panicController
        }
        input.removeAll(keepingCapacity: true)
        if !resumeInput.isEmpty {
            input.append(contentsOf: resumeInput)
            resumeInput.removeAll()
        }
        backend.receive { frame, bytes in
            parser.parse(bytes) { message in input.append(TimedMIDIMessage(time: frame, message: message)) }
        }
        for event in input { playerHeld.observe(event.message) }
        let clock = EngineClock(
            cycleStart: backend.cycleStart, cycleLength: max(1, backend.cycleLength), sampleRate: backend.sampleRate)
        produced.removeAll(keepingCapacity: true)
        engine.process(input, clock: clock, output: &produced)
        if let recorder {
            for event in input { recorder.player(event.message, at: event.time) }
            if let bpm = engine.tempoBPM, bpm != recordedTempo {
                recordedTempo = bpm
                recorder.tempo(bpm, at: clock.cycleStart)
            }
        }
        if !produced.isEmpty {
            pending.append(contentsOf: produced)
            pending.sort { $0.frame < $1.frame }
        }
        if let panic = input.first(where: { isPanic($0.message) }) {
            pending.removeAll()
            silence(backend: backend, at: panic.time + UInt64(clock.cycleLength))
        }
        let horizon = clock.cycleStart + 3 * UInt64(clock.cycleLength)
        var released = 0
        while released < pending.count, pending[released].frame < horizon {
            send(pending[released], backend: backend)
            released += 1
        }
        if released > 0 { pending.removeFirst(released) }
    }

    /// Asks the engine thread to greet output `port`: a destination was connected to it (control thread).
    /// A `followUp` spares the channels where a note of ours sounds (see `greet`).
    func requestGreeting(port: Int, followUp: Bool = false) {
        guard port >= 0, port < 64 else { return }
        if followUp {
            followUpsRequested.bitwiseOr(1 << UInt64(port), ordering: .releasing)
        } else {
            greetingsRequested.bitwiseOr(1 << UInt64(port), ordering: .releasing)
        }
    }

    /// What a synth must hear when it meets Sideman (start, or a destination connected to a port):
    /// sustain off and All Notes Off on all 16 channels, then each part's bank and program. All 16, not
    /// only the preset's: a run killed mid-note may have played another preset's channels, and the thru
    /// passes the player's own. The tracker hears it too, so it forgets what the synth no longer holds.
    ///
    /// `sparingSoundingChannels`: a follow-up greeting, repeated after a connection for a synth that was
    /// not yet running when it was connected (PipeWire's JACK lets a client's ports be connected before
    /// it activates, and what is sent meanwhile never reaches it). It leaves out sustain off and All Notes
    /// Off on channels where a note of ours sounds or our pedal is down, so it cuts nothing the other
    /// synths on the port are playing; the programs go to every part.
    func greet(ports mask: UInt64, sparingSoundingChannels: Bool = false, backend: any EnginePort, at frame: UInt64) {
        for port in trackers.indices where port < 64 && mask & (1 << UInt64(port)) != 0 {
            for channel in MIDIChannel(0)..<16 {
                if sparingSoundingChannels && trackers[port].isSounding(channel: channel) { continue }
                send(ScheduledMessage(frame: frame, port: port, message: .controlChange(channel: channel, controller: ControllerNumber.sustainPedal, value: 0)), backend: backend)
                send(ScheduledMessage(frame: frame, port: port, message: .controlChange(channel: channel, controller: ControllerNumber.allNotesOff, value: 0)), backend: backend)
            }
            engine.forEachSetupMessage(port: port) { send(ScheduledMessage(frame: frame, port: port, message: $0), backend: backend) }
        }
    }

    /// The player asked for silence: All Sound Off or All Notes Off on any channel, or the preset's
    /// panic controller pressed (value above 0; a button's release sends 0).
    func isPanic(_ message: MIDIMessage) -> Bool {
        guard case .controlChange(_, let controller, let value) = message else { return false }
        if controller == ControllerNumber.allSoundOff || controller == ControllerNumber.allNotesOff { return true }
        return controller == panicController && value > 0
    }

    /// Ends every note sent and not yet ended, then pedal up and CC 123 on every channel each port
    /// has used (the tracker's `silenceAll`, which also forgets them).
    public func silence(backend: any EnginePort, at frame: UInt64) {
        for port in trackers.indices {
            for message in trackers[port].silenceAll() {
                send(ScheduledMessage(frame: frame, port: port, message: message), backend: backend, track: false)
            }
        }
    }

    private func send(_ event: ScheduledMessage, backend: any EnginePort, track: Bool = true) {
        guard event.port >= 0, event.port < trackers.count else { return }
        encoded.removeAll(keepingCapacity: true)
        event.message.encode(into: &encoded)
        let frame = max(event.frame, latestScheduledFrame)
        let sent = encoded.withUnsafeBytes { backend.schedule(frame: frame, port: event.port, bytes: $0) }
        // A note-on the ring refused never sounds; a note-off it refused must stay tracked.
        guard sent else { return }
        latestScheduledFrame = frame
        recorder?.output(event.message, at: frame)
        guard track else { return }
        trackers[event.port].observe(event.message)
    }
}

/// A plain pthread running an `EngineRunner`, at SCHED_FIFO when the system allows it: the engine
/// must not wait behind ordinary threads, and Swift concurrency's pool gives no such guarantee.
final class EngineThread: @unchecked Sendable {
    // @unchecked: `thread` is written once by `start` and read by `stop` on the same control thread.
    private var thread: pthread_t?
    private let runner: EngineRunner
    private let backend: any EnginePort

    private final class Context {
        let runner: EngineRunner
        let backend: any EnginePort
        init(runner: EngineRunner, backend: any EnginePort) {
            self.runner = runner
            self.backend = backend
        }
    }

    init(runner: EngineRunner, backend: any EnginePort) {
        self.runner = runner
        self.backend = backend
    }

    /// Starts the thread. Returns a warning to print when real-time scheduling was refused.
    func start(priority: Int32) -> String? {
        runner.stopping.store(false, ordering: .releasing)
        let context = Unmanaged.passRetained(Context(runner: runner, backend: backend)).toOpaque()
        let body: @convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? = { raw in
            let context = Unmanaged<Context>.fromOpaque(raw!).takeRetainedValue()
            context.runner.loop(backend: context.backend)
            return nil
        }
        var handle = pthread_t()
        var warning: String?
        var result: Int32 = 0
        switch RealtimeLimits.createFifoThread(priority: priority, body: body, context: context) {
        case .success(let created):
            handle = created
        case .failure(let error):
            warning = "engine thread runs without real-time priority (SCHED_FIFO \(priority) refused: \(String(cString: strerror(error.code))))"
            result = pthread_create(&handle, nil, body, context)
        }
        guard result == 0 else {
            Unmanaged<Context>.fromOpaque(context).release()
            return "cannot start the engine thread: \(String(cString: strerror(result)))"
        }
        thread = handle
        return warning
    }

    /// Asks the runner to finish (it silences what it sent, unless the backend is lost) and joins.
    func stop() {
        guard let thread else { return }
        runner.stopping.store(true, ordering: .releasing)
        pthread_join(thread, nil)
        self.thread = nil
    }
}
