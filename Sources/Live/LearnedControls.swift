import Engine
import Files

/// Controllers MIDI learn assigned for one preset, kept in a small file so that they survive a reload
/// and a restart. One `name: number` line per function (`temperature: 74`, `mute.bass: 40`), valid YAML:
///
///     # MIDI learn for preset band, written by sideman; delete this file to forget it.
///     temperature: 74
///     mute.bass: 40
public struct LearnedControls: Equatable, Sendable {
    /// Function name to controller, in the order learned.
    public private(set) var assignments: [(name: String, controller: UInt8)] = []

    public init() {}

    public static func == (a: LearnedControls, b: LearnedControls) -> Bool {
        a.assignments.map(\.name) == b.assignments.map(\.name) && a.assignments.map(\.controller) == b.assignments.map(\.controller)
    }

    /// The file's name for a function: the preset's `controls` key, or `mute.<part>`.
    public static func name(of function: PerformanceControls.Function, partNames: [String]) -> String {
        switch function {
        case .temperature: return "temperature"
        case .density: return "density"
        case .mode: return "mode"
        case .panic: return "panic"
        case .nextSection: return "next_section"
        case .fill: return "fill"
        case .ending: return "ending"
        case .mute(let part): return "mute." + (partNames.indices.contains(part) ? partNames[part] : String(part))
        }
    }

    /// Records `controller` for `function`; a controller means one thing, so it leaves any other function.
    public mutating func assign(_ controller: UInt8, to function: PerformanceControls.Function, partNames: [String]) {
        let name = Self.name(of: function, partNames: partNames)
        assignments.removeAll { $0.name == name || $0.controller == controller }
        assignments.append((name, controller))
    }

    /// The assignments as the engine takes them; names of parts this preset no longer has are skipped.
    public func functions(partNames: [String]) -> [(function: PerformanceControls.Function, controller: UInt8)] {
        let all = PerformanceControls.Function.global + partNames.indices.map { PerformanceControls.Function.mute(part: $0) }
        return assignments.compactMap { entry in
            all.first { Self.name(of: $0, partNames: partNames) == entry.name }.map { ($0, entry.controller) }
        }
    }

    /// Where a preset's learned controls live: systemd's StateDirectory when run as the service, else
    /// $XDG_STATE_HOME/sideman, else ~/.local/state/sideman; in a `learned` folder, one file per preset.
    public static func path(presetName: String, environment: [String: String]) -> String? {
        let folder: String
        if let state = environment["STATE_DIRECTORY"]?.split(separator: ":").first, !state.isEmpty {
            folder = String(state)
        } else if let xdg = environment["XDG_STATE_HOME"], xdg.hasPrefix("/") {
            folder = xdg + "/sideman"
        } else if let home = environment["HOME"], home.hasPrefix("/") {
            folder = home + "/.local/state/sideman"
        } else {
            return nil
        }
        let safe = String(presetName.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
        return "\(folder)/learned/\(safe).yaml"
    }

    /// Reads a file `write` made. A line that is not `name: number` (0-119) is a problem naming the file.
    public static func read(path: String) throws(FileProblem) -> LearnedControls {
        let bytes = try InputFile.read(path, limit: 1 << 16)
        var learned = LearnedControls()
        for (number, line) in String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let text = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            guard !text.allSatisfy(\.isWhitespace) else { continue }
            let fields = text.split(separator: ":", maxSplits: 1).map { $0.trimmingWhitespace() }
            guard fields.count == 2, !fields[0].isEmpty, let controller = UInt8(fields[1]), controller < 120 else {
                throw FileProblem(path, "line \(number + 1): expected `name: controller` (0-119), got \"\(line)\"", .unreadable)
            }
            learned.assignments.removeAll { $0.name == fields[0] || $0.controller == controller }
            learned.assignments.append((fields[0], controller))
        }
        return learned
    }

    public func write(path: String, presetName: String) throws(FileProblem) {
        let folder = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        if !folder.isEmpty { try OutputFile.makeFolder(folder) }
        var text = "# MIDI learn for preset \(presetName), written by sideman; delete this file to forget it.\n"
        for entry in assignments { text += "\(entry.name): \(entry.controller)\n" }
        try OutputFile.write(Array(text.utf8), to: path)
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}

/// What the control thread needs to report and keep MIDI learn for the running preset.
public struct LearnKeeping: Sendable {
    public var presetName: String
    public var partNames: [String]
    /// Nil when there is no place to keep it (no HOME, no state directory): learning still works, until restart.
    public var path: String?
    public var learned: LearnedControls

    /// The functions in learn order, by their file names.
    var order: [PerformanceControls.Function] {
        PerformanceControls.Function.global + partNames.indices.map { .mute(part: $0) }
    }

    /// One log line for a learn event; a learned controller is also written to the file.
    mutating func take(_ event: LearnEvent) -> (line: String, isProblem: Bool) {
        switch event {
        case .learning(true):
            let names = order.map { LearnedControls.name(of: $0, partNames: partNames) }
            return ("MIDI learn on: move a control for each of \(names.joined(separator: ", ")) in turn", false)
        case .learning(false):
            return ("MIDI learn off", false)
        case .learned(let function, let controller):
            learned.assign(controller, to: function, partNames: partNames)
            let name = LearnedControls.name(of: function, partNames: partNames)
            let next = order.firstIndex(of: function).map { $0 + 1 < order.count ? "next: \(LearnedControls.name(of: order[$0 + 1], partNames: partNames))" : "that was the last; learn is off" } ?? ""
            guard let path else { return ("MIDI learn: \(name) is CC \(controller) (\(next)); not kept: no state folder", false) }
            do {
                try learned.write(path: path, presetName: presetName)
                return ("MIDI learn: \(name) is CC \(controller) (\(next)); kept in \(path)", false)
            } catch {
                return ("MIDI learn: \(name) is CC \(controller) (\(next)); cannot keep it: \(error.path): \(error.problem)", true)
            }
        }
    }
}
