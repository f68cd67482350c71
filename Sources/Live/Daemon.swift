import Logging
import Ports
import Service
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// What `sideman run` was asked to connect: patterns for the input, and per output port.
public struct DaemonConnections: Sendable {
    public var input: [PortPattern] = []
    /// (output index, pattern).
    public var outputs: [(Int, PortPattern)] = []

    public init() {}
}

/// The daemon's control thread: brings the backend up (waiting with backoff while there is no server),
/// keeps connections applied as ports come and go, restarts after server loss, and on a stop signal
/// silences every sounding note, lets it reach the wire, and closes.
public final class Daemon: @unchecked Sendable {
    // @unchecked: all mutable state is used by the control thread only; the signal thread touches
    // `stopRequested` (atomic) and the backend's notification wake-up (a semaphore).

    let backend: any PortBackend
    let runner: EngineRunner
    private var connections: DaemonConnections
    /// Reads the preset again for SIGHUP (on a reload thread); nil when the daemon runs without a
    /// preset file.
    private let reloadSettings: (() throws -> DaemonSettings)?
    let reloadRequested = Atomic<Bool>(false)
    /// Seconds a reload may take to read the preset and build its engine before it is abandoned.
    let reloadTimeout: Double
    /// The reload whose worker is reading and building now.
    private var reload: PresetReload?
    /// Abandoned reloads whose worker has not returned: each may sit in a read that never ends, so
    /// past `maxStuckReloads` of them a SIGHUP is refused instead of piling up blocked threads.
    private var abandonedReloads: [PresetReload] = []
    static let maxStuckReloads = 3
    let recordingRequested = Atomic<Bool>(false)
    /// Where the session recording is written (SIGUSR1 and stop), nil when not recording.
    let recordingPath: String?
    let stopRequested = Atomic<Bool>(false)
    /// Reconnection backoff: first retry after `initialBackoff`, doubling up to `maxBackoff` seconds.
    let initialBackoff = 0.1
    let maxBackoff = 1.0
    /// Connections that failed while both ports existed, with when they first failed. JACK refuses
    /// to connect a client that has registered its ports but not activated yet, so a failure is
    /// retried every half second and reported only if it lasts `connectionGrace` seconds.
    private var failedConnections: [String: (since: Double, reported: Bool)] = [:]
    let connectionGrace = 2.0
    /// The service manager (systemd), when one started us; does nothing otherwise.
    let notifier: SystemdNotifier
    /// What STATUS says about the preset, e.g. "preset default".
    let presetDescription: String
    private var lastHeartbeat: UInt64 = 0
    private var lastWatchdogPing = 0.0
    private let logger = Logger(label: "sideman.daemon")
    /// MIDI learn for the running preset: what it learned, where it keeps it.
    private var learnKeeping: LearnKeeping?

    public init(
        backend: any PortBackend, runner: EngineRunner, connections: DaemonConnections,
        reloadSettings: (() throws -> DaemonSettings)?, notifier: SystemdNotifier = SystemdNotifier(),
        presetDescription: String = "built-in thru", recordingPath: String? = nil, reloadTimeout: Double = 30,
        learnKeeping: LearnKeeping? = nil
    ) {
        self.learnKeeping = learnKeeping
        self.reloadTimeout = reloadTimeout
        self.recordingPath = recordingPath
        self.backend = backend
        self.runner = runner
        self.connections = connections
        self.reloadSettings = reloadSettings
        self.notifier = notifier
        self.presetDescription = presetDescription
    }

    /// Seconds between watchdog pings: half the manager's interval, and at most 5 s.
    private var watchdogPeriod: Double {
        notifier.watchdogIntervalMicroseconds.map { min(5, Double($0) / 2e6) } ?? 5
    }

    /// How long the control thread may wait for notifications: at most `longest`, and no longer than
    /// until the next watchdog ping is due (a wake-up just before it is due must not stretch the gap to
    /// a whole period) or the reload in flight runs out of time.
    private func waitLimit(_ longest: Double) -> Double {
        var limit = longest
        if notifier.watchdogIntervalMicroseconds != nil {
            limit = min(limit, max(watchdogPeriod / 16, lastWatchdogPing + watchdogPeriod / 2 - MonotonicClock.seconds()))
        }
        if let reload { limit = min(limit, max(0.05, reload.startedAt + reloadTimeout - MonotonicClock.seconds())) }
        if let due = followUps.lazy.map(\.due).min() { limit = min(limit, max(0.01, due - MonotonicClock.seconds())) }
        return limit
    }

    /// Feeds the watchdog when the engine thread has made progress since the last ping (or, while
    /// there is no engine to run, when the control thread itself is alive and waiting for a server).
    private func feedWatchdog(engineRunning: Bool) {
        guard notifier.watchdogIntervalMicroseconds != nil else { return }
        let beat = runner.heartbeat.load(ordering: .relaxed)
        guard !engineRunning || beat != lastHeartbeat else { return }
        let time = MonotonicClock.seconds()
        guard time - lastWatchdogPing >= watchdogPeriod / 2 else { return }
        lastHeartbeat = beat
        lastWatchdogPing = time
        notifier.watchdog()
    }

    /// Asks the control thread to read the preset again (SIGHUP); safe from any thread.
    public func requestReload() {
        reloadRequested.store(true, ordering: .releasing)
        backend.interruptNotificationWait()
    }

    /// Drives preset reloads without ever blocking the control thread, which must keep feeding the
    /// watchdog: starts one on SIGHUP, applies it once its worker has read the preset and built the
    /// engine (the old preset plays until then), and abandons it after `reloadTimeout`. A SIGHUP while
    /// one is in flight is queued, and any number of them coalesce into one reload that starts when
    /// the current one ends, so what finally plays is the file as it was last saved.
    private func serviceReload() {
        // An abandoned reload that finished after all holds a whole engine nobody will play: let it go.
        abandonedReloads.removeAll { $0.isFinished }
        if let reload {
            if let outcome = reload.outcome {
                self.reload = nil
                apply(outcome)
            } else if MonotonicClock.seconds() - reload.startedAt >= reloadTimeout {
                self.reload = nil
                abandonedReloads.append(reload)
                log(
                    "reload: no result after \(Self.secondsText(reloadTimeout)) s (a preset or model file whose read never ends?); abandoned, keeping the running preset",
                    .error)
                notifier.ready(status: readyStatus())
            } else {
                return
            }
        }
        guard reloadRequested.exchange(false, ordering: .acquiringAndReleasing) else { return }
        guard let reloadSettings else {
            log("SIGHUP: no preset file to reload (started without --preset)", .notice)
            return
        }
        notifier.reloading()
        guard abandonedReloads.count < Self.maxStuckReloads else {
            log(
                "reload: \(abandonedReloads.count) earlier reloads are still blocked reading their files; restart the service to free them; keeping the running preset",
                .error)
            notifier.ready(status: readyStatus())
            return
        }
        reload = PresetReload.start(load: reloadSettings) { [weak self] in self?.backend.interruptNotificationWait() }
        if reload == nil {
            log("reload: cannot start a thread to read the preset; keeping the running preset", .error)
            notifier.ready(status: readyStatus())
        }
    }

    /// Applies a finished reload without dropping ports: the new engine (the runner silences what
    /// changed) and connection patterns. Client and port names change only at restart.
    private func apply(_ outcome: PresetReload.Outcome) {
        defer { notifier.ready(status: readyStatus()) }
        switch outcome {
        case .failed(let line):
            log(line, .error)
        case .ready(let settings, let engine):
            if settings.clientName != backend.configuration.clientName
                || settings.outputNames != backend.configuration.outputNames
            {
                log("\(settings.presetPath ?? "preset"): client and port names change at the next restart", .notice)
            }
            if settings.timing != backend.configuration.timing {
                // The timeline is read in the backend's process cycle, set up when the client opens.
                log("\(settings.presetPath ?? "preset"): the transport source (jack, link) changes at the next restart", .notice)
            }
            connections = settings.connections
            learnKeeping = settings.learnKeeping
            for note in settings.notes { log(note, .warning) }
            runner.replace(engine: engine, panicController: settings.engine.panicController)
            if backend.status().isConnected { applyConnections() }
            log("\(settings.presetPath ?? "preset"): reloaded")
        }
    }

    /// 30 rather than 30.0 in a log line.
    static func secondsText(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }

    /// Asks the control thread to write the session recording (SIGUSR1); safe from any thread.
    public func requestRecording() {
        recordingRequested.store(true, ordering: .releasing)
        backend.interruptNotificationWait()
    }

    private var recordingSampleRate = 48000

    /// Writes everything recorded so far; the recording goes on.
    private func writeRecording() {
        guard let recordingPath, let recorder = runner.recorder else { return }
        let rate = backend.status().sampleRate
        if rate > 0 { recordingSampleRate = rate }
        do {
            try recorder.write(to: recordingPath, sampleRate: recordingSampleRate)
            log("\(recordingPath): session written (\(recorder.eventCount) events)")
        } catch {
            log("\(error.description); the recording goes on", .error)
        }
    }

    private func writeRecordingIfRequested() {
        guard recordingRequested.exchange(false, ordering: .acquiringAndReleasing) else { return }
        writeRecording()
    }

    /// Asks the control thread to stop; safe from any thread.
    public func requestStop() {
        stopRequested.store(true, ordering: .releasing)
        backend.interruptNotificationWait()
    }

    private var stopping: Bool { stopRequested.load(ordering: .acquiring) }

    private var stoppingSent = false

    /// Runs until a stop is requested. Throws only for failures that retrying cannot cure.
    public func run() throws(PortError) {
        defer { if !stoppingSent { notifier.stopping() } }
        var backoff = initialBackoff
        var waitingSince: Double?
        var lostAt: Double?
        // A stop while waiting for a server (it died and has not come back) must still write the session.
        defer { if !stoppingSent { writeRecording() } }
        while !stopping {
            serviceReload()
            writeRecordingIfRequested()
            do {
                try backend.open()
            } catch let error where error.isUnavailable {
                feedWatchdog(engineRunning: false)
                if waitingSince == nil {
                    waitingSince = MonotonicClock.seconds()
                    // Up and doing its job, which for now is waiting: a service started before JACK must
                    // not be failed by systemd's start timeout and restarted in a loop.
                    notifier.ready(status: "waiting: \(error.problem)")
                    log("\(error.subject): \(error.problem); waiting for it (retrying every \(Int(maxBackoff * 1000)) ms at most)", .warning)
                }
                _ = backend.waitForNotifications(seconds: waitLimit(backoff))
                backoff = min(backoff * 2, maxBackoff)
                continue
            }
            backoff = initialBackoff
            waitingSince = nil
            let status = backend.status()
            applyConnections()
            // The engine thread greets every port as it starts; from here on, only new destinations.
            knownDestinations = currentDestinations()
            followUps.removeAll()
            for (port, destinations) in knownDestinations.enumerated() where destinations?.isEmpty == false { scheduleFollowUps(port: port) }
            let engineThread = EngineThread(runner: runner, backend: backend.enginePort)
            // Just below JACK's own thread: the engine must not preempt the cycle that feeds it, and
            // must not wait behind ordinary work either.
            let priority = Int32(max(1, status.ioPriority - 1))
            if let warning = engineThread.start(priority: priority) { log("engine: \(warning)", .warning) }
            let outputs = backend.outputPortNames.joined(separator: ", ")
            var line = "\(backend.backendName): ready as \(backend.inputPortName) -> \(outputs) (\(status.sampleRate) Hz, \(status.bufferSize) frames)"
            if let timing = backend.timingStatus() { line += "; \(timing)" }
            if let lostAt { line += ", reconnected \(Int((MonotonicClock.seconds() - lostAt) * 1000)) ms after the server went away" }
            log(line)
            metricsConnected(reconnected: lostAt != nil)
            lostAt = nil
            notifier.ready(status: readyStatus())

            let lost = superviseUntilStopOrLoss()
            if lost {
                lostAt = MonotonicClock.seconds()
                engineThread.stop()
                metricsDisconnected()
                backend.close()
                log("\(backend.backendName): server went away; reconnecting", .warning)
                continue
            }
            notifier.stopping()
            stoppingSent = true
            engineThread.stop()  // the runner queues note-offs and CC 123 on its way out
            flushOutput()
            writeRecording()
            metricsDisconnected()
            backend.close()
        }
    }

    /// Waits for notifications; returns true when the server was lost, false when asked to stop.
    private func superviseUntilStopOrLoss() -> Bool {
        var reported = backend.status()
        var timing = backend.timingStatus().map(Self.timingSummary)
        while !stopping {
            let retrying = !failedConnections.isEmpty || awaitingUnmatched
            // While learning, each touch is answered in the log within half a second.
            let often = retrying || LearnBoard.shared.isLearning
            let notes = backend.waitForNotifications(seconds: waitLimit(often ? 0.5 : watchdogPeriod / 2))
            feedWatchdog(engineRunning: true)
            metricsAbsorb()
            if notes.contains(.lost) || backend.status().isLost { return true }
            if notes.contains(.portsChanged) || retrying { applyConnections() }
            if !notes.isDisjoint(with: [.portsChanged, .connectionsChanged]) { greetNewDestinations() }
            requestDueFollowUps()
            serviceReload()
            writeRecordingIfRequested()
            for event in LearnBoard.shared.drain() {
                guard var keeping = learnKeeping else { continue }
                let said = keeping.take(event)
                learnKeeping = keeping
                log(said.line, said.isProblem ? .warning : .info)
            }
            // A Link peer joining or leaving, or the session's tempo moving, is worth a line; its beat is not.
            if let now = backend.timingStatus(), Self.timingSummary(now) != timing {
                timing = Self.timingSummary(now)
                log(now)
            }
            let status = backend.status()
            if status.xruns > reported.xruns || status.lateEvents > reported.lateEvents
                || status.droppedEvents > reported.droppedEvents
            {
                log(
                    "\(backend.backendName): \(status.xruns) xruns, \(status.lateEvents) late events, \(status.droppedEvents) dropped events so far", .warning
                )
                reported = status
            }
        }
        return false
    }

    /// Waits until everything queued has been written to a port buffer and two more cycles have run,
    /// so the last events have left the client before it deactivates. Bounded: a stalled server must
    /// not hang the stop.
    private func flushOutput() {
        let deadline = MonotonicClock.seconds() + 2
        while !backend.enginePort.outputIsDrained && !backend.status().isLost && MonotonicClock.seconds() < deadline { sleepSeconds(0.002) }
        let target = backend.status().cycles + 2
        while backend.status().cycles < target && !backend.status().isLost && MonotonicClock.seconds() < deadline { sleepSeconds(0.002) }
    }

    /// Connects every port matching the patterns; already-made connections are left alone. A failure
    /// is retried and reported once per connection if it lasts, not at every port change.
    private func applyConnections() {
        guard !connections.input.isEmpty || !connections.outputs.isEmpty else { return }
        let ports: [PortInfo]
        do { ports = try backend.listPorts() } catch { return }
        let own = backend.configuration.clientName
        defer {
            // Forget failures of pairs no pattern selects any more (a port went away).
            failedConnections = failedConnections.filter { attempted.contains($0.key) }
        }
        attempted.removeAll()
        var unmatched = Set<String>()
        for pattern in connections.input {
            let sources = pattern.select(from: ports, direction: .output, ownClient: own)
            if sources.isEmpty { unmatched.insert("input pattern '\(pattern)'") }
            for source in sources { connect(source.name, backend.inputPortName) }
        }
        for (index, pattern) in connections.outputs where index < backend.outputPortNames.count {
            let destinations = pattern.select(from: ports, direction: .input, ownClient: own)
            if destinations.isEmpty { unmatched.insert("output pattern '\(pattern)'") }
            for destination in destinations { connect(backend.outputPortNames[index], destination.name) }
        }
        noteUnmatched(unmatched, ports: ports)
    }

    private var attempted = Set<String>()

    /// Patterns that have matched no port, with when that began and whether it was said: a typo in a
    /// port name would otherwise leave the daemon silent with nothing in the log.
    private var unmatchedPatterns: [String: (since: Double, reported: Bool)] = [:]

    /// Says once, after `connectionGrace` seconds, which patterns still match nothing, with the MIDI
    /// ports there are to choose from (a synth may simply start later, hence the grace).
    private func noteUnmatched(_ unmatched: Set<String>, ports: [PortInfo]) {
        let time = MonotonicClock.seconds()
        unmatchedPatterns = unmatchedPatterns.filter { unmatched.contains($0.key) }
        for key in unmatched where unmatchedPatterns[key] == nil { unmatchedPatterns[key] = (time, false) }
        for (key, state) in unmatchedPatterns.sorted(by: { $0.key < $1.key }) where !state.reported && time - state.since >= connectionGrace {
            let wantsInputs = key.hasPrefix("output")
            let candidates = ports.filter { $0.type == "midi" && $0.direction == (wantsInputs ? .input : .output) }
                .map(\.name).filter { !$0.hasPrefix("\(backend.configuration.clientName):") }
            let list = candidates.isEmpty ? "there are none yet" : "there are " + candidates.prefix(8).joined(separator: ", ")
            log("\(key) matches no MIDI \(wantsInputs ? "input" : "output") port (\(list))", .warning)
            unmatchedPatterns[key] = (state.since, true)
        }
    }

    /// True while a pattern that matches nothing has not been reported: the control thread looks again
    /// soon instead of waiting for the next port change.
    private var awaitingUnmatched: Bool { unmatchedPatterns.values.contains { !$0.reported } }

    /// Destinations of each output when last looked at (nil where the backend cannot tell).
    private var knownDestinations: [Set<String>?] = []

    private func currentDestinations() -> [Set<String>?] {
        backend.outputPortNames.indices.map { backend.destinations(ofOutput: $0).map(Set.init) }
    }

    /// A synth connected to an output since the last look hears sustain off, All Notes Off and the
    /// parts' programs before any note (a synth restarted or plugged in mid-set, or one that missed
    /// note-offs while it was disconnected).
    private func greetNewDestinations() {
        let now = currentDestinations()
        for (port, destinations) in now.enumerated() {
            guard let destinations else { continue }
            let before = port < knownDestinations.count ? knownDestinations[port] ?? [] : []
            if !destinations.subtracting(before).isEmpty {
                runner.requestGreeting(port: port)
                scheduleFollowUps(port: port)
            }
        }
        knownDestinations = now
    }

    /// Follow-up greetings still due: (monotonic seconds, output port).
    private var followUps: [(due: Double, port: Int)] = []
    /// When a port with a new destination is greeted again, after the greeting at once, on a backend
    /// that connects clients before they run. PipeWire's JACK connects a synth's ports as soon as they are
    /// registered, before its client runs (JACK refuses until it has activated), and a greeting sent
    /// meanwhile is lost: one of these reaches it once it runs; the later ones are for a loaded machine,
    /// where activating can take seconds.
    static let followUpDelays: [Double] = [0.25, 1, 3, 10]

    private func scheduleFollowUps(port: Int) {
        guard backend.connectsClientsBeforeTheyRun else { return }
        let now = MonotonicClock.seconds()
        followUps.removeAll { $0.port == port }
        followUps += Self.followUpDelays.map { (due: now + $0, port: port) }
    }

    private func requestDueFollowUps() {
        let now = MonotonicClock.seconds()
        for followUp in followUps where followUp.due <= now { runner.requestGreeting(port: followUp.port, followUp: true) }
        followUps.removeAll { $0.due <= now }
    }

    private func connect(_ source: String, _ destination: String) {
        let key = "\(source) -> \(destination)"
        attempted.insert(key)
        do {
            try backend.connect(source, to: destination)
            failedConnections[key] = nil
        } catch {
            // A port that went away between listing and connecting (a client closing) is no failure.
            let names = (try? backend.listPorts())?.map(\.name) ?? []
            guard names.contains(source) && names.contains(destination) else {
                failedConnections[key] = nil
                return
            }
            let failure = failedConnections[key] ?? (MonotonicClock.seconds(), false)
            if !failure.reported && MonotonicClock.seconds() - failure.since >= connectionGrace {
                log("\(error.subject): \(error.problem)", .warning)
                failedConnections[key] = (failure.since, true)
            } else {
                failedConnections[key] = failure
            }
        }
    }

    /// The timing line without what changes every moment (Link's tempo is kept to whole bpm).
    static func timingSummary(_ line: String) -> String {
        guard let bpm = line.firstRange(of: " bpm"),
            let dot = line[..<bpm.lowerBound].lastIndex(of: "."), line.distance(from: dot, to: bpm.lowerBound) == 2
        else { return line }
        return String(line[..<dot] + line[bpm.lowerBound...])
    }

    private func log(_ line: String, _ level: Logger.Level = .info) { logger.log(level: level, "\(line)") }

    /// The one line `systemctl status` shows: the preset and the ports.
    private func readyStatus() -> String {
        let outputs = backend.outputPortNames.joined(separator: ", ")
        return "\(presetDescription); \(backend.backendName) \(backend.inputPortName) -> \(outputs)"
    }
}

func sleepSeconds(_ seconds: Double) {
    var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
}
