import Engine
import Files
import Foundation
import MIDI
import Ports

/// Everything `sideman run` needs to start, from the preset with the command line's options on top.
public struct DaemonSettings {
    public var clientName = "sideman"
    public var outputNames = ["out"]
    public var connections = DaemonConnections()
    public var engine = EngineSettings()
    /// The preset file, when one was given: SIGHUP reads it again.
    public var presetPath: String?

    /// What the engine thread swaps in on a reload; ports and client stay as they are.
    public init() {}

    public struct EngineSettings {
        public var thru = ThruEngine()
        /// A controller that means panic besides CC 120 and CC 123 (the preset's `controls.panic`).
        public var panicController: UInt8?
        /// A preset with parts: its parts, loaded; the musical engine plays them (and does the thru).
        public var preset: Preset?
        public var parts: [Part] = []
        /// Controllers MIDI learn assigned earlier for this preset (its saved file), over the preset's own.
        public var learned = LearnedControls()
        /// Told of MIDI learn on the engine thread (the daemon's `LearnBoard.shared`); nil: nobody listens.
        public var learnBoard: LearnBoard? = nil

        public init(thru: ThruEngine = ThruEngine(), panicController: UInt8? = nil, preset: Preset? = nil, parts: [Part] = []) {
            self.thru = thru
            self.panicController = panicController
            self.preset = preset
            self.parts = parts
        }

        /// The engine to run: the musical engine when the preset has parts, else the thru; the thru
        /// settings (with the command line's overrides) apply to both.
        public func makeEngine() -> any PerformanceEngine {
            guard var preset, !parts.isEmpty else { return thru }
            preset.thru.enabled = thru.enabled
            preset.thru.channel = thru.channel
            preset.thru.transpose = thru.transpose
            var engine = MusicalEngine(preset: preset, parts: parts, modelStepTimer: ModelStepMetrics())
            engine.applyLearned(learned.functions(partNames: preset.parts.map(\.name)))
            engine.learnObserver = learnBoard
            return engine
        }
    }

    /// The studio timeline the backend follows for the grid: JACK transport or a Link session when the
    /// preset's `transport.source` says so.
    public var timing: ExternalTiming {
        guard let transport = engine.preset?.transport, !engine.parts.isEmpty else { return .none }
        let meter = transport.meter
        switch transport.source {
        case .jack:
            return .jackTransport(
                bpm: transport.bpm, beatsPerBar: meter.beats, beatUnit: meter.beatUnit,
                timebaseMaster: transport.timebaseMaster)
        case .link:
            return .link(
                bpm: transport.bpm, quartersPerBar: Double(meter.stepsPerBar) / 4, startStopSync: transport.linkStartStop)
        case .fixed, .clock, .follow:
            return .none
        }
    }

    /// The file MIDI learn keeps this preset's controllers in (read at load, written as the player learns).
    public var learnedPath: String?
    /// Keeps MIDI learn in `path` (read now when it exists); nothing for the thru.
    public mutating func useLearned(path: String) {
        guard !engine.parts.isEmpty else { return }
        learnedPath = path
        engine.learned = LearnedControls()
        guard FileStatus(path: path) != nil else { return }
        do {
            engine.learned = try LearnedControls.read(path: path)
        } catch {
            notes.append("\(error.path): \(error.problem); MIDI learn starts from the preset's controls")
        }
    }

    /// MIDI learn's bookkeeping for the control thread; nil for the thru (nothing to learn).
    public var learnKeeping: LearnKeeping? {
        guard let preset = engine.preset, !engine.parts.isEmpty else { return nil }
        return LearnKeeping(presetName: preset.name, partNames: partNames, path: learnedPath, learned: engine.learned)
    }

    /// Problems found while loading that do not stop the daemon (an unreadable learned-controls file).
    public var notes: [String] = []

    /// Where the session recording goes (--record or the preset's performance.record), nil for none.
    public var recordFolder: String?
    /// Part names and channels, for the recording's tracks.
    public var partNames: [String] = []
    public var partChannels: [MIDIChannel] = []

    /// Finds and reads a preset: 66 when there is none or it cannot be read, 65 when it is invalid.
    public static func locate(_ nameOrPath: String, locator: PresetLocator) throws -> LoadedPreset {
        do {
            return try locator.load(nameOrPath)
        } catch let error as PresetLoadError {
            switch error {
            case .missing(let name, let searched):
                throw Failure(name, "no such preset (looked in \(searched.joined(separator: ", ")))", status: .noInput)
            case .unreadable(let path, let reason): throw Failure(path, reason, status: .noInput)
            case .invalid(let path, let problem): throw Failure(path, "\(problem)", status: .dataError)
            }
        }
    }

    /// The preset lookup `--preset` uses: next to the binary, /etc/sideman, ~/.config/sideman.
    public static func standardLocator() -> PresetLocator {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        return PresetLocator.standard(executablePath: executable, environment: ProcessInfo.processInfo.environment)
    }

    /// A preset's parts, loaded: 66 for a model file that is missing or not a regular file, 65 for an unusable one.
    public static func parts(for loaded: LoadedPreset) throws -> [Part] {
        do {
            return try PartLoader.parts(for: loaded)
        } catch {
            throw Failure(error.path, error.problem, status: error.cannotRead ? .noInput : .dataError)
        }
    }

    /// Loads `nameOrPath` the way `--preset` finds presets. Throws `Failure` with 66 when there is no
    /// such preset, it cannot be read or a part's model file is missing, 65 when it or a model is invalid.
    public static func load(preset nameOrPath: String, locator: PresetLocator) throws -> DaemonSettings {
        let loaded = try locate(nameOrPath, locator: locator)
        let preset = loaded.preset
        let parts = try Self.parts(for: loaded)
        var settings = DaemonSettings()
        settings.presetPath = loaded.path
        settings.clientName = preset.ports.clientName
        settings.outputNames = preset.outputNames
        settings.connections.input = preset.ports.connectIn.map(PortPattern.init)
        settings.connections.outputs = preset.ports.connectOut.map { (0, PortPattern($0)) }
        settings.engine = EngineSettings(
            thru: ThruEngine(preset: preset),
            panicController: preset.controls.panic, preset: preset, parts: parts)
        settings.recordFolder = preset.performance.recordFolder.map { folder in
            folder.hasPrefix("/") ? folder : "\(loaded.folder)/\(folder)"
        }
        settings.partNames = preset.parts.map(\.name)
        settings.partChannels = preset.parts.map(\.channel)
        if !parts.isEmpty, let path = LearnedControls.path(presetName: preset.name, environment: ProcessInfo.processInfo.environment) {
            settings.useLearned(path: path)
        }
        return settings
    }
}
