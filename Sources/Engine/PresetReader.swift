import Music
import Neural
import Yams

/// A preset that cannot be used, with where in the file it went wrong: `parts[1].channel: ...`.
public struct PresetError: Error, Equatable, CustomStringConvertible {
    public var keyPath: String
    public var problem: String
    public var line: Int?

    public init(keyPath: String, problem: String, line: Int? = nil) {
        self.keyPath = keyPath
        self.problem = problem
        self.line = line
    }

    public var description: String {
        let place = keyPath.isEmpty ? "" : "\(keyPath): "
        let at = line.map { " (line \($0))" } ?? ""
        return "\(place)\(problem)\(at)"
    }
}

/// Reads a preset from YAML strictly: unknown keys, wrong types and out-of-range values are errors that
/// name the key path, because a typo silently ignored on a studio box is a part that never plays.
public enum PresetReader {
    public static func read(yaml: String, defaultName: String) throws -> Preset {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw PresetError(keyPath: "", problem: "not valid YAML: \(yamlProblem(error))")
        }
        guard let root else { throw PresetError(keyPath: "", problem: "the file is empty") }
        let top = try Fields(root, path: "")
        var preset = Preset(name: try top.string("name") ?? defaultName)
        preset.description = try top.string("description") ?? ""
        if let node = top.take("ports") { preset.ports = try readPorts(Fields(node, path: "ports")) }
        if let node = top.take("transport") {
            preset.transport = try readTransport(Fields(node, path: "transport"))
        }
        if let node = top.take("listener") {
            preset.listener = try readListener(Fields(node, path: "listener"))
        }
        if let node = top.take("thru") {
            preset.thru = try readThru(Fields(node, path: "thru"), chordInput: preset.listener.chordInput)
        }
        if let node = top.take("controls") {
            preset.controls = try readControls(Fields(node, path: "controls"))
        }
        if let node = top.take("performance") {
            preset.performance = try readPerformance(Fields(node, path: "performance"))
        }
        if let node = top.take("parts") {
            guard case .sequence(let list) = node else {
                throw PresetError(keyPath: "parts", problem: "must be a list of parts", line: line(node))
            }
            for (i, item) in list.enumerated() {
                preset.parts.append(try readPart(Fields(item, path: "parts[\(i)]")))
            }
        }
        try top.finish()
        try checkPartsAgree(preset)
        return preset
    }

    private static func readPorts(_ f: Fields) throws -> PortSettings {
        var p = PortSettings()
        if let name = try f.string("client_name") {
            guard !name.isEmpty, name.utf8.count <= 63 else {
                throw f.error("client_name", "must be 1 to 63 characters")
            }
            p.clientName = name
        }
        p.outputs = try f.choice("outputs", OutputLayout.self) ?? p.outputs
        p.connectIn = try f.stringList("connect_in") ?? []
        p.connectOut = try f.stringList("connect_out") ?? []
        try f.finish()
        return p
    }

    private static func readTransport(_ f: Fields) throws -> TransportSettings {
        var t = TransportSettings()
        t.source = try f.choice("source", TempoSource.self) ?? t.source
        t.bpm = try f.number("bpm", in: 20...400) ?? t.bpm
        if let text = try f.string("meter") {
            let parts = text.split(separator: "/").map { Int($0.filter { $0 != " " }) }
            guard parts.count == 2, let beats = parts[0], let unit = parts[1], (1...32).contains(beats),
                [2, 4, 8, 16].contains(unit)
            else {
                throw f.error("meter", "must look like 4/4, 3/4 or 6/8, got \"\(text)\"")
            }
            t.meter = Meter(beats: beats, beatUnit: unit)
        }
        t.clockOut = try f.bool("clock_out") ?? t.clockOut
        t.countInBars = try f.integer("count_in_bars", in: 0...8) ?? t.countInBars
        t.timebaseMaster = try f.bool("timebase_master") ?? t.timebaseMaster
        if t.timebaseMaster, t.source != .jack { throw f.error("timebase_master", "needs source: jack") }
        t.linkStartStop = try f.bool("link_start_stop") ?? t.linkStartStop
        if t.linkStartStop, t.source != .link { throw f.error("link_start_stop", "needs source: link") }
        try f.finish()
        return t
    }

    private static func readListener(_ f: Fields) throws -> ListenerSettings {
        var l = ListenerSettings()
        if let node = f.peek("input_channel"), node.string == "all" {
            _ = f.take("input_channel")
        } else {
            l.inputChannel = try f.channel("input_channel")
        }
        l.phraseEndBeats = try f.number("phrase_end_beats", in: 0.25...64) ?? l.phraseEndBeats
        l.onStepWindowMilliseconds = try f.number("on_step_window_ms", in: 0...200) ?? l.onStepWindowMilliseconds
        if let node = f.take("chord_input") {
            l.chordInput = try readChordInput(Fields(node, path: f.path("chord_input")))
        }
        try f.finish()
        return l
    }

    private static func readChordInput(_ f: Fields) throws -> ChordInputSettings {
        var c = ChordInputSettings()
        c.mode = try f.choice("mode", ChordInputMode.self) ?? c.mode
        if let node = f.take("split_point") {
            let text = node.scalar?.string ?? ""
            if text == "none" {
                c.splitPoint = nil
            } else if let n = node.scalar.flatMap({ Node.scalar($0).int }) ?? NoteName.midiNote(text), (1...127).contains(n) {
                c.splitPoint = UInt8(n)
            } else {
                throw f.error(
                    "split_point", "must be a note, as a name (F#3; middle C is C4) or a MIDI number 1-127, or none, got \"\(text)\"")
            }
        }
        if c.mode == .split, c.splitPoint == nil {
            throw f.error("split_point", "split mode needs a split point (a note such as F#3)")
        }
        try f.finish()
        return c
    }

    private static func readThru(_ f: Fields, chordInput: ChordInputSettings) throws -> ThruSettings {
        var t = ThruSettings()
        t.enabled = try f.bool("enabled") ?? t.enabled
        if let node = f.peek("channel"), node.string == "same" {
            _ = f.take("channel")
        } else {
            t.channel = try f.channel("channel")
        }
        t.transpose = try f.integer("transpose", in: -48...48) ?? 0
        t.chordHand = try f.bool("chord_hand") ?? t.chordHand
        if !t.chordHand, chordInput.mode == .full {
            throw f.error(
                "chord_hand", "false needs a chord hand: set listener.chord_input.mode to split, fingered or single_finger")
        }
        try f.finish()
        return t
    }

    private static func readControls(_ f: Fields) throws -> ControlMap {
        var c = ControlMap()
        c.temperature = try f.controller("temperature", default: c.temperature)
        c.density = try f.controller("density", default: c.density)
        c.mode = try f.controller("mode", default: c.mode)
        c.panic = try f.controller("panic", default: c.panic)
        c.nextSection = try f.controller("next_section", default: c.nextSection)
        c.fill = try f.controller("fill", default: c.fill)
        c.ending = try f.controller("ending", default: c.ending)
        c.phraseEnd = try f.controller("phrase_end", default: c.phraseEnd)
        c.tap = try f.controller("tap", default: c.tap)
        c.learn = try f.controller("learn", default: c.learn)
        c.style = try f.controller("style", default: c.style)
        c.intro = try f.controller("intro", default: c.intro)
        c.groove = try f.controller("groove", default: c.groove)
        c.styleByProgramChange = try f.bool("style_program_change") ?? c.styleByProgramChange
        try f.finish()
        return c
    }

    private static func readPerformance(_ f: Fields) throws -> PerformanceSettings {
        var p = PerformanceSettings()
        p.mode = try f.choice("mode", PerformanceMode.self) ?? p.mode
        p.continuationBars = try f.integer("continuation_bars", in: 1...64) ?? p.continuationBars
        p.idleBars = try f.integer("idle_bars", in: 0...64) ?? p.idleBars
        p.seed = UInt64(try f.integer("seed", in: 0...Int(Int32.max)) ?? Int(p.seed))
        if let folder = try f.string("record") {
            guard !folder.isEmpty else { throw f.error("record", "must name a folder") }
            p.recordFolder = folder
        }
        p.harmonyCommit = try f.choice("harmony_commit", HarmonyCommitMode.self) ?? p.harmonyCommit
        p.chordSpreadMilliseconds = try f.number("chord_spread_ms", in: 0...100) ?? p.chordSpreadMilliseconds
        p.introBars = try f.integer("intro_bars", in: 0...8) ?? p.introBars
        if let style = try f.string("style"), style != "none" {
            guard !style.isEmpty, !style.contains(",") else { throw f.error("style", "must name one style (or none)") }
            p.style = style.lowercased()
        }
        try f.finish()
        return p
    }

    private static func readPart(_ f: Fields) throws -> PartSettings {
        guard let name = try f.string("name"), !name.isEmpty else { throw f.error("name", "every part needs a name") }
        guard let role = try f.choice("role", PartRole.self) else { throw f.error("role", "every part needs a role") }
        guard let model = try f.string("model"), !model.isEmpty else {
            throw f.error("model", "every part needs a model (a .safetensors file)")
        }
        guard let channel = try f.channel("channel") else { throw f.error("channel", "every part needs a channel (1-16)") }
        var p = PartSettings(name: name, role: role, model: model, channel: channel)
        if let program = try f.integer("program", in: 1...128) { p.program = UInt8(program - 1) }
        if let bank = try f.integer("bank", in: 0...16383) { p.bank = UInt16(bank) }
        if let node = f.take("range") {
            guard case .sequence(let pair) = node, pair.count == 2, let low = pair[0].int, let high = pair[1].int,
                (0...127).contains(low), (0...127).contains(high), low < high
            else {
                throw PresetError(
                    keyPath: f.path("range"), problem: "must be [lowest, highest] MIDI notes, 0-127, lowest first",
                    line: line(node))
            }
            p.lowestNote = UInt8(low)
            p.highestNote = UInt8(high)
        }
        p.grid = try f.choice("grid", GridResolution.self) ?? p.grid
        p.temperature = try f.number("temperature", in: 0.05...5) ?? p.temperature
        p.topP = try f.number("top_p", in: 0.01...1) ?? p.topP
        if let node = f.take("velocity") {
            let v = try Fields(node, path: f.path("velocity"))
            p.velocity = UInt8(try v.integer("base", in: 1...127) ?? Int(p.velocity))
            p.velocityFollow = try v.number("follow_player", in: 0...1) ?? p.velocityFollow
            if let node = v.take("accents") {
                let problem = "must be one bar of velocity offsets, one per 16th step, each -64 to 64 (e.g. [12, -8, 2, -9]), 1 to 32 steps"
                guard case .sequence(let steps) = node, (1...32).contains(steps.count) else {
                    throw PresetError(keyPath: v.path("accents"), problem: problem, line: line(node))
                }
                p.velocityAccents = try steps.map { step in
                    guard let a = step.int, (-64...64).contains(a) else {
                        throw PresetError(keyPath: v.path("accents"), problem: problem, line: line(step))
                    }
                    return a
                }
            }
            try v.finish()
        }
        if let node = f.take("humanize") {
            let h = try Fields(node, path: f.path("humanize"))
            p.humanize.timingMilliseconds = try h.number("timing_ms", in: 0...50) ?? 0
            p.humanize.velocity = try h.integer("velocity", in: 0...64) ?? 0
            p.humanize.swing = try h.number("swing", in: 0...1) ?? 0
            try h.finish()
        }
        p.muteCC = try f.controller("mute_cc", default: nil)
        p.startsMuted = try f.bool("muted") ?? false
        guard !p.startsMuted || p.muteCC != nil else {
            throw f.error("muted", "leaves the part silent for good without a mute_cc to bring it in")
        }
        p.precision = try f.choice("precision", Precision.self) ?? p.precision
        if let node = f.take("groove") {
            let g = try Fields(node, path: f.path("groove"))
            guard let from = try g.string("from"), !from.isEmpty, let to = try g.string("to"), !to.isEmpty else {
                throw f.error("groove", "needs from and to: the MIDI files of the two grooves the drummer moves between")
            }
            var groove = GrooveSettings(from: from, to: to)
            groove.bars = try g.integer("bars", in: 1...256) ?? groove.bars
            try g.finish()
            guard role == .drums else { throw f.error("groove", "is a drums part's; this is a \(role.rawValue) part") }
            p.groove = groove
        }
        if let node = f.take("kit") {
            let problem = "must be the GM notes the drummer may play, 0-127 (e.g. [36, 38, 42, 46, 49, 51]), 1 to 64 of them"
            guard case .sequence(let notes) = node, (1...64).contains(notes.count) else {
                throw PresetError(keyPath: f.path("kit"), problem: problem, line: line(node))
            }
            var kit = PitchSet()
            for n in notes {
                guard let v = n.int, (0...127).contains(v) else { throw PresetError(keyPath: f.path("kit"), problem: problem, line: line(n)) }
                kit.insert(UInt8(v))
            }
            guard role == .drums else { throw f.error("kit", "is a drums part's; this is a \(role.rawValue) part") }
            guard (Int(p.lowestNote)...Int(p.highestNote)).contains(where: { kit.contains(UInt8($0)) }) else {
                throw PresetError(keyPath: f.path("kit"), problem: "has no piece inside the part's range [\(p.lowestNote), \(p.highestNote)]",
                                  line: line(node))
            }
            p.kit = kit
        }
        if let amount = try f.number("amount", in: 0...1) {
            guard role == .variation else { throw f.error("amount", "is how far a variation part strays; this is a \(role.rawValue) part") }
            p.amount = amount
        }
        if let node = f.take("primer") {
            let problem = "must be one bar of steps, each a list of MIDI notes 0-127 (e.g. [[36, 42], [], [42], []]), 1 to 32 steps"
            guard case .sequence(let steps) = node, (1...32).contains(steps.count) else {
                throw PresetError(keyPath: f.path("primer"), problem: problem, line: line(node))
            }
            p.primer = try steps.map { step in
                guard case .sequence(let notes) = step, notes.count <= 16 else {
                    throw PresetError(keyPath: f.path("primer"), problem: problem, line: line(step))
                }
                return try notes.map { n in
                    guard let v = n.int, (0...127).contains(v) else {
                        throw PresetError(keyPath: f.path("primer"), problem: problem, line: line(n))
                    }
                    return UInt8(v)
                }
            }
            guard PartVocabulary.noteSets.fits(role) else {
                throw PresetError(keyPath: f.path("primer"), problem: "primes note-set parts (voices, chords, drums), not a \(role.rawValue) part",
                                  line: line(node))
            }
        }
        try f.finish()
        return p
    }

    /// Two parts with one name could not be told apart by mute CCs or recordings.
    private static func checkPartsAgree(_ preset: Preset) throws {
        if preset.parts.count > 16 {
            throw PresetError(keyPath: "parts", problem: "at most 16 parts (one per MIDI channel), got \(preset.parts.count)")
        }
        var seen: [String: Int] = [:]
        for (i, part) in preset.parts.enumerated() {
            if let first = seen[part.name] {
                throw PresetError(
                    keyPath: "parts[\(i)].name", problem: "\"\(part.name)\" is already the name of parts[\(first)]")
            }
            seen[part.name] = i
        }
    }

    static func line(_ node: Node) -> Int? { node.mark.map { $0.line } }

    private static func yamlProblem(_ error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _):
            return "\(problem) at line \(mark.line), column \(mark.column)"
        case .reader(let problem, let offset, _, _):
            return offset.map { "\(problem) at byte \($0)" } ?? problem
        default:
            return "\(error)".split(separator: "\n").first.map(String.init) ?? "unreadable"
        }
    }
}

/// The keys of one YAML mapping, taken one by one so that whatever is left over is a key nobody reads.
private final class Fields {
    let base: String
    private var pairs: [(key: String, value: Node)] = []
    /// Where each key sits in `pairs`: looking keys up by hash keeps a file with thousands of keys
    /// linear in its size (a pairwise duplicate check took seconds on 20k keys, on the reload path).
    private var index: [String: Int] = [:]
    private var taken = Set<String>()
    private let node: Node

    init(_ node: Node, path: String) throws {
        self.node = node
        self.base = path
        guard case .mapping(let mapping) = node else {
            throw PresetError(
                keyPath: path, problem: "must be a mapping of keys to values", line: PresetReader.line(node))
        }
        for (k, v) in mapping {
            guard let key = k.string else {
                throw PresetError(keyPath: path, problem: "keys must be plain words", line: PresetReader.line(k))
            }
            guard index.updateValue(pairs.count, forKey: key) == nil else {
                throw PresetError(keyPath: self.path(key), problem: "appears twice", line: PresetReader.line(k))
            }
            pairs.append((key, v))
        }
    }

    func path(_ key: String) -> String { base.isEmpty ? key : "\(base).\(key)" }

    func error(_ key: String, _ problem: String) -> PresetError {
        PresetError(keyPath: path(key), problem: problem, line: peek(key).flatMap(PresetReader.line) ?? PresetReader.line(node))
    }

    func peek(_ key: String) -> Node? { index[key].map { pairs[$0].value } }

    func take(_ key: String) -> Node? {
        taken.insert(key)
        return peek(key)
    }

    /// Every key must have been read: anything else is a typo or a setting this version lacks.
    func finish() throws {
        for (key, value) in pairs where !taken.contains(key) {
            let known = taken.sorted().joined(separator: ", ")
            throw PresetError(
                keyPath: path(key), problem: "unknown key (known here: \(known))", line: PresetReader.line(value))
        }
    }

    private func scalar(_ key: String) throws -> Node.Scalar? {
        guard let node = take(key) else { return nil }
        guard case .scalar(let s) = node else { throw error(key, "must be a single value, not a list or mapping") }
        return s
    }

    func string(_ key: String) throws -> String? { try scalar(key)?.string }

    func bool(_ key: String) throws -> Bool? {
        guard let s = try scalar(key) else { return nil }
        guard let value = Node.scalar(s).bool else { throw error(key, "must be true or false, got \"\(s.string)\"") }
        return value
    }

    func integer(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let s = try scalar(key) else { return nil }
        guard let value = Node.scalar(s).int else { throw error(key, "must be a whole number, got \"\(s.string)\"") }
        guard range.contains(value) else {
            throw error(key, "must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
        }
        return value
    }

    func number(_ key: String, in range: ClosedRange<Double>) throws -> Double? {
        guard let s = try scalar(key) else { return nil }
        guard let value = Node.scalar(s).float, value.isFinite else {
            throw error(key, "must be a number, got \"\(s.string)\"")
        }
        guard range.contains(value) else {
            throw error(key, "must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
        }
        return value
    }

    /// Channels are written as musicians number them, 1-16, and stored 0-15.
    func channel(_ key: String) throws -> MIDIChannelNumber? {
        guard let n = try integer(key, in: 1...16) else { return nil }
        return MIDIChannelNumber(n - 1)
    }

    /// A controller number 0-119 (120-127 are channel mode messages), or `off`.
    func controller(_ key: String, default value: UInt8?) throws -> UInt8? {
        if let node = peek(key), node.string == "off" {
            _ = take(key)
            return nil
        }
        guard let n = try integer(key, in: 0...119) else { return value }
        return UInt8(n)
    }

    func choice<T: RawRepresentable & CaseIterable>(_ key: String, _: T.Type) throws -> T? where T.RawValue == String {
        guard let text = try string(key) else { return nil }
        guard let value = T(rawValue: text) else {
            let options = T.allCases.map { $0.rawValue }.joined(separator: ", ")
            throw error(key, "must be one of \(options), got \"\(text)\"")
        }
        return value
    }

    func stringList(_ key: String) throws -> [String]? {
        guard let node = take(key) else { return nil }
        if let single = node.scalar { return [single.string] }
        guard case .sequence(let items) = node else { throw error(key, "must be a list of port names") }
        return try items.map {
            guard let s = $0.scalar?.string else { throw error(key, "must be a list of port names") }
            return s
        }
    }
}
