import Engine
import MIDI
import Ports

/// Everything `sideman run` needs to start, from the preset with the command line's options on top.
struct DaemonSettings {
    var clientName = "sideman"
    var outputNames = ["out"]
    var connections = DaemonConnections()
    var engine = EngineSettings()
    /// The preset file, when one was given: SIGHUP reads it again.
    var presetPath: String?

    /// What the engine thread swaps in on a reload; ports and client stay as they are.
    struct EngineSettings {
        var thru = ThruEngine()
        /// A controller that means panic besides CC 120 and CC 123 (the preset's `controls.panic`).
        var panicController: UInt8?
    }

    /// Loads `nameOrPath` the way `--preset` finds presets. Throws `Failure` with 66 when there is no
    /// such preset or it cannot be read, 65 when it is invalid, 69 when it has parts (the engine that
    /// plays them is not in this build).
    static func load(preset nameOrPath: String, locator: PresetLocator) throws -> DaemonSettings {
        let loaded: LoadedPreset
        do {
            loaded = try locator.load(nameOrPath)
        } catch let error as PresetLoadError {
            switch error {
            case .missing(let name, let searched):
                throw Failure(name, "no such preset (looked in \(searched.joined(separator: ", ")))", status: .noInput)
            case .unreadable(let path, let reason): throw Failure(path, reason, status: .noInput)
            case .invalid(let path, let problem): throw Failure(path, "\(problem)", status: .dataError)
            }
        }
        let preset = loaded.preset
        guard preset.parts.isEmpty else {
            throw Failure(
                loaded.path,
                "has \(preset.parts.count) part(s); the musical engine that plays them is not in this build yet "
                    + "(use a preset without parts, such as default)", status: .unavailable)
        }
        var settings = DaemonSettings()
        settings.presetPath = loaded.path
        settings.clientName = preset.ports.clientName
        settings.outputNames =
            preset.ports.outputs == .perPart && !preset.parts.isEmpty ? preset.parts.map(\.name) : ["out"]
        settings.connections.input = preset.ports.connectIn.map(PortPattern.init)
        settings.connections.outputs = preset.ports.connectOut.map { (0, PortPattern($0)) }
        settings.engine = EngineSettings(
            thru: ThruEngine(
                enabled: preset.thru.enabled, inputChannel: preset.listener.inputChannel,
                channel: preset.thru.channel, transpose: preset.thru.transpose),
            panicController: preset.controls.panic)
        return settings
    }
}
