import ArgumentParser
import MIDI
import Ports

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Start the daemon: the player's MIDI in, Sideman's MIDI out.",
        discussion: """
            Until the musical engine and presets land, the engine is a MIDI thru: every event goes out \
            exactly one period after it came in, at the same offset in the cycle, optionally moved to one \
            channel (--thru-channel) and transposed (--transpose). `--preset` is accepted for the command \
            line of later versions; giving it now exits with status 69 and says so.

            JACK: the client registers `in` and one output per --output (default `out`). Patterns for \
            --connect-in/--connect-out are a full port name (`fluidsynth:midi_00`), a shell glob over \
            full names (`a2j:*KeyStep*`), or a bare client name (`KeyStep`: all its MIDI ports). Globs and \
            client names never match Sideman's own ports; an exact name does (a self-loop for testing). \
            `--connect-out NAME=PATTERN` picks the output port NAME; otherwise the first output is used. \
            Connections are made at start and again whenever matching ports appear.

            The daemon is a service: when no JACK server is running it prints a warning and waits for \
            one (retrying after 100 ms, doubling to 1 s), and when the server goes away it does the same, \
            then re-registers its ports and connections. Notes sounding at that moment get their \
            note-offs on the new server. The server is the default one, or $JACK_DEFAULT_SERVER; \
            Sideman never starts a server itself. (`sideman ports`, a one-shot command, exits 69 \
            instead when there is no server.)

            SIGINT/SIGTERM stop cleanly: every note still sounding gets its note-off, then CC 123 on \
            each channel used, written through JACK before the client closes. A second signal while \
            stopping ends the process at once. The player's CC 120 or CC 123 silences everything too. \
            SIGHUP is reserved for reloading a preset and is ignored until presets exist.
            """)

    @Option(help: "jack, alsa or auto (auto: JACK).")
    var backend: BackendChoice = .auto

    @Option(help: "Preset name or path (not available in this build yet).")
    var preset: String?

    @Option(help: "JACK client name.")
    var clientName = "sideman"

    @Option(help: "Output port name; repeat for one port per part (default: out).")
    var output: [String] = []

    @Option(help: "Connect these ports to Sideman's input (repeatable).")
    var connectIn: [String] = []

    @Option(help: "Connect Sideman's output to these ports (repeatable; NAME=PATTERN picks the output).")
    var connectOut: [String] = []

    @Option(help: "Thru: send everything on this channel (1-16) instead of the player's.")
    var thruChannel: Int?

    @Option(help: "Thru: transpose notes by this many semitones (-48...48; negative as --transpose=-12).")
    var transpose = 0

    enum BackendChoice: String, ExpressibleByArgument, CaseIterable {
        case jack, alsa, auto
    }

    func validate() throws {
        if let thruChannel, !(1...16).contains(thruChannel) {
            throw ValidationError("--thru-channel must be 1...16, got \(thruChannel)")
        }
        if !(-48...48).contains(transpose) { throw ValidationError("--transpose must be -48...48, got \(transpose)") }
        if Set(outputNames).count != outputNames.count { throw ValidationError("--output names must differ") }
        if outputNames.count > 16 { throw ValidationError("at most 16 outputs") }
        if clientName.isEmpty { throw ValidationError("--client-name must not be empty") }
    }

    var outputNames: [String] { output.isEmpty ? ["out"] : output }

    func run() throws {
        try reportingFailures {
            if let preset {
                throw Failure(
                    preset, "presets are not available in this build yet; run without --preset "
                        + "(the engine is MIDI thru: --thru-channel, --transpose)", status: .unavailable)
            }
            if backend == .alsa {
                throw Failure(
                    "alsa", "the ALSA sequencer backend is not available in this build; use --backend jack",
                    status: .unavailable)
            }
            DaemonSignals.blockInThisThread()
            let configuration = PortConfiguration(clientName: clientName, outputNames: outputNames)
            let jack = JACKBackend(configuration: configuration)
            let engine = ThruEngine(channel: thruChannel.map { MIDIChannel($0 - 1) }, transpose: transpose)
            let runner = EngineRunner(engine: engine, outputCount: outputNames.count)
            let daemon = Daemon(backend: jack, runner: runner, connections: try connections())
            let signals = DaemonSignals()
            signals.start(
                onStop: { daemon.requestStop() },
                onReload: { printToStandardError("sideman: SIGHUP: no preset to reload in this build") })
            do {
                try daemon.run()
            } catch let error as PortError {
                throw Failure(error.subject, error.problem, status: error.isUnavailable ? .unavailable : .software)
            }
        }
    }

    private func connections() throws -> DaemonConnections {
        var result = DaemonConnections()
        result.input = connectIn.map(PortPattern.init)
        for text in connectOut {
            if let equals = text.firstIndex(of: "="), let index = outputNames.firstIndex(of: String(text[..<equals])) {
                result.outputs.append((index, PortPattern(String(text[text.index(after: equals)...]))))
            } else {
                result.outputs.append((0, PortPattern(text)))
            }
        }
        return result
    }
}
