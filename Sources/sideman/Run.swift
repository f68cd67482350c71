import ArgumentParser
import Engine
import Foundation
import Live
import Logging
import MIDI
import Ports

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Start the daemon: the player's MIDI in, Sideman's MIDI out.",
        discussion: """
            The preset (--preset NAME or PATH; `--preset default` plays a band and answers your phrases; without \
            --preset, a plain MIDI thru, as the thru preset) says how \
            Sideman connects and what it plays. Without parts, the engine is the \
            preset's thru: every event goes out exactly one period after it came in, at the same \
            offset in the cycle, optionally moved to one channel and transposed. A preset with parts \
            runs the musical engine: its parts accompany the player and answer their phrases (see \
            `sideman accompany --help` for the controls). --record DIR (or the preset's \
            performance.record) keeps a session recording, written whole on SIGUSR1 and at stop (a folder that \
            cannot be created or written to is refused at start, exit 73; a write that fails is logged and the \
            recording goes on). Options given here override the preset: --client-name, \
            --output, --thru-channel, --transpose; --connect-in/--connect-out add to its patterns. \
            SIGHUP reads the preset file again without dropping ports: notes sounding are ended, \
            the new thru settings and connection patterns apply (client and port names at restart). \
            The preset is read and its models loaded on a thread of their own while the old preset \
            plays on; a reload that fails, or takes longer than --reload-timeout (default 30 s), is \
            given up with one error line and the running preset kept. A SIGHUP during a reload is \
            queued: one more reload follows it.

            JACK: the client registers `in` and one output per --output (default `out`). Patterns \
            for --connect-in/--connect-out are a full port name (`fluidsynth:midi_00`), a shell glob \
            over full names (`a2j:*KeyStep*`), or a bare client name (`KeyStep`: all its MIDI \
            ports). Globs and client names never match Sideman's own ports; an exact name does (a \
            self-loop for testing). `--connect-out NAME=PATTERN` picks the output port NAME; \
            otherwise the first output is used. Connections are made at start and again whenever \
            matching ports appear.

            The daemon is a service: when no JACK server is running it prints a warning and waits \
            for one (retrying after 100 ms, doubling to 1 s), and when the server goes away it does \
            the same, then re-registers its ports and connections. Notes sounding at that moment \
            get their note-offs on the new server. The server is the default one, or \
            $JACK_DEFAULT_SERVER; Sideman never starts a server itself. (`sideman ports`, a one-shot \
            command, exits 69 instead when there is no server.)

            SIGINT/SIGTERM stop cleanly: every note still sounding gets its note-off, then pedal up \
            and CC 123 on each channel used, written through JACK before the client closes. A second \
            signal while stopping ends the process at once. The player's CC 120 or CC 123 (or the \
            preset's panic controller) silences everything too.

            Examples:
              sideman run --preset folk
              sideman run --backend jack --preset folk \\
                --connect-in 'system:midi_capture_1' --connect-out 'fluidsynth:midi_00'
              sideman run --backend alsa --transpose=-12   # MIDI thru, an octave down
            """)

    @Option(help: "jack, alsa or auto (auto: JACK if a server runs, else the ALSA sequencer if present, else wait for JACK).")
    var backend: BackendChoice = .auto

    @Option(help: "Preset name or path (default: the built-in MIDI thru).", completion: .presetNames)
    var preset: String?

    @Option(help: "JACK client name (default: the preset's, sideman).")
    var clientName: String?

    @Option(help: "Output port name; repeat for one port per part (default: out, or the preset's).")
    var output: [String] = []

    @Option(help: "Connect these ports to Sideman's input (repeatable).")
    var connectIn: [String] = []

    @Option(help: "Connect Sideman's output to these ports (repeatable; NAME=PATTERN picks the output).")
    var connectOut: [String] = []

    @Option(help: "Record the session into this folder (sideman-YYYYMMDD-HHMMSS.mid): written on SIGUSR1 and at stop.")
    var record: String?

    @Option(help: "Thru: send everything on this channel (1-16) instead of the player's.")
    var thruChannel: Int?

    @Option(help: "Thru: transpose notes by this many semitones (-48...48; negative as --transpose=-12).")
    var transpose: Int?

    @OptionGroup(title: "Service") var service: ServiceOptions

    enum BackendChoice: String, ExpressibleByArgument, CaseIterable {
        case jack, alsa, auto
    }

    func validate() throws {
        if let thruChannel, !(1...16).contains(thruChannel) {
            throw ValidationError("--thru-channel must be 1...16, got \(thruChannel)")
        }
        if let transpose, !(-48...48).contains(transpose) {
            throw ValidationError("--transpose must be -48...48, got \(transpose)")
        }
        if Set(output).count != output.count { throw ValidationError("--output names must differ") }
        if output.count > 16 { throw ValidationError("at most 16 outputs") }
        if clientName?.isEmpty == true { throw ValidationError("--client-name must not be empty") }
    }

    func run() throws {
        // First, before any thread exists: every thread inherits the blocked mask, so only the
        // signal thread ever receives SIGINT/SIGTERM/SIGHUP.
        DaemonSignals.blockInThisThread()
        service.prepare()
        try reportingFailures {
            let nsm = try joinSessionManager()
            let settings: DaemonSettings
            do {
                settings = try self.settings()
            } catch let failure as Failure {
                nsm?.refuseOpen("\(failure.subject): \(failure.problem)")
                throw failure
            }
            if let nsm, let session = NSMSession.current {
                Logger(label: "sideman").info("nsm: session \(session.folder), preset \(session.preset), JACK client \(session.clientID)")
                nsm.replyOpened()
                nsm.listen()
            }
            var configuration = PortConfiguration(clientName: settings.clientName, outputNames: settings.outputNames)
            configuration.timing = settings.timing
            let ports = try chooseBackend(configuration)
            var recorder: SessionRecorder?
            var recordingPath: String?
            if let folder = settings.recordFolder {
                try CommandFiles.makeFolder(folder)
                recordingPath = "\(folder)/\(Self.sessionFileName())"
                recorder = SessionRecorder(partNames: settings.partNames, partChannels: settings.partChannels)
            }
            let runner = EngineRunner(
                engine: settings.engine.makeEngine(), panicController: settings.engine.panicController,
                outputCount: settings.outputNames.count, recorder: recorder)
            let reload: (() throws -> DaemonSettings)? = settings.presetPath == nil ? nil : { try self.settings() }
            let daemon = Daemon(
                backend: ports, runner: runner, connections: settings.connections, reloadSettings: reload,
                presetDescription: settings.presetPath.map { "preset \($0)" } ?? "built-in thru",
                recordingPath: recordingPath, reloadTimeout: service.reloadTimeout, learnKeeping: settings.learnKeeping)
            for note in settings.notes { Logger(label: "sideman").warning("\(note)") }
            let metricsServer = try service.startMetrics(logger: Logger(label: "sideman"))
            defer { metricsServer?.stop() }
            let signals = DaemonSignals()
            signals.start(
                onStop: { daemon.requestStop() }, onReload: { daemon.requestReload() },
                onRecord: { daemon.requestRecording() })
            do {
                try daemon.run()
            } catch let error as PortError {
                throw Failure(error.subject, error.problem, status: error.isUnavailable ? .unavailable : .software)
            }
        }
    }

    /// The recording's file name, from the local start time.
    static func sessionFileName() -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        return String(
            format: "sideman-%04d%02d%02d-%02d%02d%02d.mid", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
            parts.tm_hour, parts.tm_min, parts.tm_sec)
    }

    /// JACK when asked, or for `auto` when a JACK server answers; the ALSA sequencer when asked, or for
    /// `auto` when no JACK server runs but /dev/snd/seq exists. With neither, `auto` chooses JACK and
    /// waits for a server, as a service should.
    func chooseBackend(_ configuration: PortConfiguration) throws -> any PortBackend {
        if configuration.timing != .none {
            // JACK transport and Link are read in JACK's process cycle; the ALSA sequencer has neither.
            guard backend != .alsa else {
                throw Failure("alsa", "transport source jack or link needs the JACK backend (--backend jack)", status: .usage)
            }
            return JACKBackend(configuration: configuration)
        }
        switch backend {
        case .jack:
            return JACKBackend(configuration: configuration)
        case .alsa:
            guard ALSABackend.deviceExists else {
                throw Failure(
                    "alsa", "no ALSA sequencer: /dev/snd/seq does not exist (load the snd-seq kernel module, or use --backend jack)",
                    status: .unavailable)
            }
            return ALSABackend(configuration: configuration)
        case .auto:
            let jack = JACKBackend(configuration: configuration)
            if (try? jack.listPorts()) != nil || !ALSABackend.deviceExists { return jack }
            return ALSABackend(configuration: configuration)
        }
    }

    /// Under a session manager (NSM_URL set): announces Sideman and takes the session it opens, whose
    /// folder names the preset (the --preset given, or `default`, at the session's first start).
    func joinSessionManager() throws -> NSMClient? {
        guard let url = ProcessInfo.processInfo.environment["NSM_URL"], !url.isEmpty else { return nil }
        do {
            let client = try NSMClient(url: url)
            let opened = try client.announce()
            var chosen = preset ?? "default"
            if chosen.contains("/") || chosen.hasSuffix(".yaml") {
                let located = try DaemonSettings.locate(chosen, locator: DaemonSettings.standardLocator())
                chosen = located.path.hasPrefix("/") ? located.path : FileManager.default.currentDirectoryPath + "/" + located.path
            }
            let playing = try NSMSessionFolder.preset(in: opened.folder, default: chosen)
            NSMSession.current = NSMSession(folder: opened.folder, clientID: opened.clientID, preset: playing)
            return client
        } catch let problem as NSMClient.Problem {
            throw Failure("nsm", problem.description, status: .unavailable)
        }
    }

    /// The preset's settings (or the built-in thru) with this command line's options on top.
    func settings() throws -> DaemonSettings {
        var settings = DaemonSettings()
        if let preset = NSMSession.current?.preset ?? preset {
            let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
            let locator = PresetLocator.standard(
                executablePath: executable, environment: ProcessInfo.processInfo.environment)
            settings = try DaemonSettings.load(preset: preset, locator: locator)
        }
        settings.engine.learnBoard = LearnBoard.shared
        if let session = NSMSession.current {
            // The session's connections are made to the client id; MIDI learn is kept per session.
            settings.clientName = session.clientID
            settings.useLearned(path: "\(session.folder)/learned.yaml")
        }
        if let clientName { settings.clientName = clientName }
        if let record { settings.recordFolder = record }
        if !output.isEmpty { settings.outputNames = output }
        if let thruChannel { settings.engine.thru.channel = MIDIChannel(thruChannel - 1) }
        if let transpose { settings.engine.thru.transpose = transpose }
        settings.connections.input += connectIn.map(PortPattern.init)
        for text in connectOut {
            if let equals = text.firstIndex(of: "="),
                let index = settings.outputNames.firstIndex(of: String(text[..<equals]))
            {
                settings.connections.outputs.append((index, PortPattern(String(text[text.index(after: equals)...]))))
            } else {
                settings.connections.outputs.append((0, PortPattern(text)))
            }
        }
        return settings
    }
}
