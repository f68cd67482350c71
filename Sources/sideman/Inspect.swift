import ArgumentParser
import Foundation
import Live
import MIDI

/// `sideman inspect FILE.mid [--json]`: what a Standard MIDI File holds, for a musician or a script.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show what a Standard MIDI File holds: tracks, notes, tempo, meter, key, duration.",
        discussion: """
            Text output numbers channels 1-16 and programs 1-128, as instruments show them. --json prints \
            one object with wire numbering (channels 0-15, programs 0-127): format, division (ticks per \
            quarter note, or an object for SMPTE time), tracks (name, notes, channels, programs), notes \
            (note-ons with velocity above 0), seconds, ticks, tempos, timeSignatures, keySignatures and \
            warnings. Oddities that real files have (no end-of-track, wrong track length, trailing bytes, \
            running status across meta events) are read with a warning on stderr; a corrupt file exits 65 \
            with the problem and its byte offset.

            Examples:
              sideman inspect examples/twinkle.mid
              sideman inspect --json song.mid
            """)

    @Argument(help: "The MIDI file to read.")
    var file: String

    @Flag(name: .long, help: "Print one JSON object instead of text.")
    var json = false

    func run() throws {
        try reportingFailures {
            let outcome: MIDIFileReader.Outcome
            do {
                outcome = try MIDIFileReader.read(path: file)
            } catch let error as MIDIFileLoadError {
                throw Failure(midiLoad: error)
            }
            let shownWarnings = outcome.warnings.prefix(Self.warningLimit)
            for warning in shownWarnings {
                printToStandardError("sideman: \(file): warning: \(warning)")
            }
            if outcome.warnings.count > shownWarnings.count {
                printToStandardError("sideman: \(file): warning: \(outcome.warnings.count - shownWarnings.count) more warnings not shown")
            }
            let report = FileReport(outcome.file, warnings: outcome.warnings)
            if json {
                print(try report.json(file: file))
            } else {
                print(report.text(file: file), terminator: "")
            }
        }
    }

    static let warningLimit = 20
}

/// The facts `inspect` shows, computed once and rendered as text or JSON.
struct FileReport {
    struct Track {
        var name: String?
        var notes = 0
        var channels: [Int] = []
        var programs: [Int] = []
        var events = 0
        var endTick = 0
    }

    struct Marked<Value> {
        var track: Int
        var tick: Int
        var seconds: Double
        var value: Value
    }

    struct Tempo {
        var track: Int?
        var segment: TempoMap.Segment
    }

    var file: MIDIFile
    var tracks: [Track] = []
    var tempos: [Tempo] = []
    var timeSignatures: [Marked<(numerator: Int, denominator: Int)>] = []
    var keySignatures: [Marked<(sharps: Int8, minor: Bool)>] = []
    var warnings: [MIDIFileWarning]
    var seconds: Double
    var notes: Int { tracks.reduce(0) { $0 + $1.notes } }

    init(_ file: MIDIFile, warnings: [MIDIFileWarning]) {
        self.file = file
        self.warnings = warnings
        seconds = file.durationInSeconds
        let fileMap = TempoMap(file: file)
        for (index, track) in file.tracks.enumerated() {
            // Format 2 tracks are separate songs, each timed by its own tempo events.
            let map = file.format == .sequentialTracks ? TempoMap(tracks: [track], division: file.division) : fileMap
            if file.format == .sequentialTracks, case .ticksPerQuarter = file.division {
                tempos += map.segments.map { Tempo(track: index, segment: $0) }
            }
            var summary = Track(name: track.name, events: track.events.count, endTick: track.endTick)
            var channels = Set<Int>()
            var programs = Set<Int>()
            for event in track.events {
                switch event.kind {
                case .channel(let message):
                    if let channel = message.channel { channels.insert(Int(channel)) }
                    if message.isSoundingNoteOn { summary.notes += 1 }
                    if case .programChange(_, let program) = message { programs.insert(Int(program)) }
                case .meta(.timeSignature(let n, let d, _, _)):
                    timeSignatures.append(Marked(track: index, tick: event.tick, seconds: map.seconds(atTick: event.tick), value: (Int(n), MetaEvent.denominator(power: d))))
                case .meta(.keySignature(let sf, let minor)):
                    keySignatures.append(Marked(track: index, tick: event.tick, seconds: map.seconds(atTick: event.tick), value: (sf, minor)))
                default:
                    break
                }
            }
            summary.channels = channels.sorted()
            summary.programs = programs.sorted()
            tracks.append(summary)
        }
        if file.format != .sequentialTracks {
            tempos = fileMap.segments.map { Tempo(track: nil, segment: $0) }
        }
        timeSignatures.sort { ($0.tick, $0.track) < ($1.tick, $1.track) }
        keySignatures.sort { ($0.tick, $0.track) < ($1.tick, $1.track) }
    }

    var divisionText: String {
        switch file.division {
        case .ticksPerQuarter(let t): return "\(t) ticks per quarter note"
        case .smpte(let fps, let perFrame): return "SMPTE \(fps == 29 ? "29.97 drop-frame" : String(fps)) frames per second, \(perFrame) ticks per frame"
        }
    }

    func text(file path: String) -> String {
        var lines: [String] = []
        let formatName = ["single track", "simultaneous tracks", "sequential songs"][Int(file.format.rawValue)]
        lines.append("\(path): Standard MIDI File format \(file.format.rawValue) (\(formatName)), \(file.tracks.count) track\(file.tracks.count == 1 ? "" : "s"), \(divisionText)")
        lines.append("duration: \(Self.decimal(seconds, places: 3)) s (\(file.endTick) ticks), \(notes) notes")
        if tempos.isEmpty {
            lines.append("tempo: none (SMPTE time)")
        }
        for tempo in tempos {
            let owner = tempo.track.map { "track \($0 + 1), " } ?? ""
            lines.append("tempo: \(Self.decimal(tempo.segment.beatsPerMinute, places: 2)) BPM (\(tempo.segment.microsecondsPerQuarter) µs per quarter) at \(owner)tick \(tempo.segment.tick), \(Self.decimal(tempo.segment.seconds, places: 3)) s")
        }
        // Format 2 tracks are separate songs, so say whose signature it is.
        func owner(_ track: Int) -> String { file.format == .sequentialTracks ? "track \(track + 1), " : "" }
        for signature in timeSignatures {
            lines.append("time signature: \(signature.value.numerator)/\(signature.value.denominator) at \(owner(signature.track))tick \(signature.tick), \(Self.decimal(signature.seconds, places: 3)) s")
        }
        for signature in keySignatures {
            lines.append("key signature: \(MetaEvent.keyName(sharps: signature.value.sharps, minor: signature.value.minor)) at \(owner(signature.track))tick \(signature.tick), \(Self.decimal(signature.seconds, places: 3)) s")
        }
        for (index, track) in tracks.enumerated() {
            let name = track.name.map { "\"\($0)\"" } ?? "(no name)"
            let channels = track.channels.isEmpty ? "no channels" : "channel\(track.channels.count == 1 ? "" : "s") " + track.channels.map { String($0 + 1) }.joined(separator: ", ")
            let programs = track.programs.isEmpty ? "no program changes" : "program\(track.programs.count == 1 ? "" : "s") " + track.programs.map { String($0 + 1) }.joined(separator: ", ")
            lines.append("track \(index + 1) \(name): \(track.notes) note\(track.notes == 1 ? "" : "s"), \(channels), \(programs), \(track.events) events, ends at tick \(track.endTick)")
        }
        if !warnings.isEmpty {
            lines.append("warnings: \(warnings.count) (on stderr)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    func json(file path: String) throws -> String {
        var object: [String: Any] = [:]
        object["file"] = path
        object["format"] = Int(file.format.rawValue)
        switch file.division {
        case .ticksPerQuarter(let t): object["division"] = Int(t)
        case .smpte(let fps, let perFrame): object["division"] = ["framesPerSecond": Int(fps), "ticksPerFrame": Int(perFrame)]
        }
        object["tracks"] = tracks.map { track -> [String: Any] in
            [
                "name": track.name.map { $0 as Any } ?? NSNull(),
                "notes": track.notes,
                "channels": track.channels,
                "programs": track.programs,
                "events": track.events,
                "endTick": track.endTick,
            ]
        }
        object["notes"] = notes
        object["seconds"] = Self.rounded(seconds)
        object["ticks"] = file.endTick
        object["tempos"] = tempos.map { tempo -> [String: Any] in
            var entry: [String: Any] = [
                "tick": tempo.segment.tick,
                "seconds": Self.rounded(tempo.segment.seconds),
                "microsecondsPerQuarter": Int(tempo.segment.microsecondsPerQuarter),
                "bpm": Self.rounded(tempo.segment.beatsPerMinute),
            ]
            if let track = tempo.track { entry["track"] = track }
            return entry
        }
        object["timeSignatures"] = timeSignatures.map { s -> [String: Any] in
            ["track": s.track, "tick": s.tick, "seconds": Self.rounded(s.seconds), "numerator": s.value.numerator, "denominator": s.value.denominator]
        }
        object["keySignatures"] = keySignatures.map { s -> [String: Any] in
            ["track": s.track, "tick": s.tick, "seconds": Self.rounded(s.seconds), "key": MetaEvent.keyName(sharps: s.value.sharps, minor: s.value.minor), "sharps": Int(s.value.sharps), "minor": s.value.minor]
        }
        object["warnings"] = warnings.map(\.description)
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    /// Microsecond resolution: enough for timing, short enough to read.
    static func rounded(_ value: Double) -> Double { (value * 1_000_000).rounded() / 1_000_000 }

    static func decimal(_ value: Double, places: Int) -> String {
        String(format: "%.\(places)f", value)
    }
}
