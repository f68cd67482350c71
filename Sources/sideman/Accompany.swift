import ArgumentParser
import Engine
import Foundation
import Live
import MIDI
import Music
import Ports

/// `sideman accompany IN.mid -o OUT.mid --preset P`: the preset's band plays along with a MIDI file.
struct Accompany: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accompany",
        abstract: "Play a preset's parts along with a MIDI file; write the file plus a track per part.",
        discussion: """
            The input's first track with notes (or --player-track N, counting the file's tracks from 0) is the \
            player. It is played, in its own time, through the same engine the daemon runs, on the virtual \
            backend with a simulated clock (48 kHz, 256-frame periods): the grid starts at the file's start, at \
            its first tempo and time signature. The output is the input with one track per part added, named \
            after the part, on the part's channel. The same --seed (default: the preset's) gives the same file, \
            byte for byte.

            \(OfflineSong.lengthRule) \(OfflineSong.outputRule)

            Controls the parts answer live (preset `controls`, defaults): temperature CC 21 (64 = as set, 0 \
            calmer, 127 wilder), density CC 22 (share of new notes kept), mode CC 23 (0-42 call-and-response, \
            43-84 accompaniment, 85-127 both), panic CC 24 (and CC 120/123), next section CC 25 (a fill, then \
            main A and main B in turn, the band starting afresh), fill CC 26 (a drum fill of toms and snare to the end of the bar, landing with a crash), phrase \
            end CC 27, a part's mute_cc (>= 64 mutes), learn (off by default: press, then touch controls to \
            assign them in that order).

            Examples:
              sideman accompany examples/twinkle.mid -o band.mid --preset folk
              sideman accompany song.mid -o band.mid --preset my-band \\
                --player-track 1 --seed 7 --svg band.svg
            """)

    @Argument(help: "The player's MIDI file.", completion: .file(extensions: ["mid", "midi"])) var input: String
    @Option(name: .shortAndLong, help: "Where to write the result.") var output: String
    @Option(help: "Preset name or path.", completion: .presetNames) var preset: String
    @Option(help: "Sampler seed (default: the preset's performance.seed).") var seed: UInt64?
    @Option(help: "The band's style: one its models learned (`sideman inspect` lists them), or none (default: the preset's performance.style).")
    var style: String?
    @Option(help: "The player's track (0 = the file's first).") var playerTrack: Int?
    @Option(help: "Also write the result as an SVG piano roll (the player's notes outlined).", completion: .file(extensions: ["svg"])) var svg: String?

    func run() throws {
        try reportingFailures {
            let session = try OfflineSession(presetName: preset, seed: seed, style: style)
            guard !session.parts.isEmpty else {
                throw Failure(session.loaded.path, "has no parts to accompany with", status: .dataError)
            }
            let song = try OfflineSong(path: input, playerTrack: playerTrack)
            let inputs = session.inputs + [input]
            try OfflineSong.checkOutputs(output, svg: svg, notOver: inputs)
            let played = try session.render(song: song, preset: session.accompanying, extraBars: 1, phraseEndAtEnd: false)
            try song.write(adding: played, parts: session.parts, to: output, svg: svg, notOver: inputs)
        }
    }
}

/// A MIDI file as the player: its events on the simulated clock, and the way back from frames to ticks.
struct OfflineSong {
    let path: String
    let file: MIDIFile
    let tempoMap: TempoMap
    let playerIndex: Int
    /// Frames before the file's tick 0: the engine's first period decides the first step in time.
    static let leadFrames: UInt64 = 1024
    /// The longest file an offline command plays: the engine steps every 16th of it (a file with years of
    /// silence in one delta time, or a note held for days, would otherwise keep it busy for days), and two
    /// hours is longer than any take or set a musician brings to accompany.
    static let maximumSeconds: Double = 2 * 3600
    static let lengthRule = """
        A file longer than 2 hours (its last event, at its own tempi) is refused (exit 65) before anything \
        is played: the engine plays every 16th step of it, silences included.
        """
    static let outputRule = """
        Outputs are written whole (a temporary file renamed into place); one that names an input file (exit \
        64), a FIFO or a device, or that cannot be created (exit 73) is refused before anything is played.
        """

    init(path: String, playerTrack: Int?) throws {
        let file: MIDIFile
        do {
            file = try MIDIFileReader.read(path: path).file
        } catch {
            throw Failure(midiLoad: error)
        }
        try self.init(file: file, path: path, playerTrack: playerTrack)
    }

    /// A file already in memory; `path` names it in messages.
    init(file: MIDIFile, path: String, playerTrack: Int?) throws {
        self.path = path
        self.file = file
        guard case .ticksPerQuarter = file.division else {
            throw Failure(path, "uses SMPTE time division; only ticks per quarter note are supported", status: .dataError)
        }
        tempoMap = TempoMap(file: file)
        let lastTick = file.tracks.compactMap { $0.events.last?.tick }.max() ?? 0
        let seconds = tempoMap.seconds(atTick: lastTick)
        guard seconds <= Self.maximumSeconds else {
            let limit = "\(Int(Self.maximumSeconds / 3600))-hour limit"
            throw Failure(path, "lasts \(Self.duration(seconds)), longer than the \(limit) for offline runs", status: .dataError)
        }
        let hasNotes = { (t: MIDITrack) in t.events.contains { $0.message?.isSoundingNoteOn == true } }
        if let playerTrack {
            guard file.tracks.indices.contains(playerTrack) else {
                throw Failure(path, "has no track \(playerTrack) (it has \(file.tracks.count))", status: .usage)
            }
            playerIndex = playerTrack
        } else {
            guard let first = file.tracks.firstIndex(where: hasNotes) else {
                throw Failure(path, "has no notes to play", status: .dataError)
            }
            playerIndex = first
        }
    }

    /// "142.7 years", "16.0 days", or "2:05:09" under a day.
    static func duration(_ seconds: Double) -> String {
        if seconds >= 365 * 86400 { return String(format: "%.1f years", seconds / (365.25 * 86400)) }
        if seconds >= 86400 { return String(format: "%.1f days", seconds / 86400) }
        let whole = Int(seconds.rounded(.down))
        return String(format: "%d:%02d:%02d", whole / 3600, whole / 60 % 60, whole % 60)
    }

    func frame(ofTick tick: Int, sampleRate: Int) -> UInt64 {
        Self.leadFrames + UInt64((tempoMap.seconds(atTick: tick) * Double(sampleRate)).rounded())
    }

    func tick(ofFrame frame: UInt64, sampleRate: Int) -> Int {
        let seconds = Double(frame > Self.leadFrames ? frame - Self.leadFrames : 0) / Double(sampleRate)
        return Int(tempoMap.ticks(atSeconds: seconds).rounded())
    }

    /// The player's notes, pedal and controllers at their frames.
    func playerEvents(sampleRate: Int) -> [TimedMIDIMessage] {
        file.tracks[playerIndex].events.compactMap { e in
            guard let m = e.message else { return nil }
            switch m {
            case .noteOn, .noteOff, .controlChange: return TimedMIDIMessage(time: frame(ofTick: e.tick, sampleRate: sampleRate), message: m)
            default: return nil
            }
        }
    }

    var bpm: Double { tempoMap.segments.first?.beatsPerMinute ?? 120 }

    /// The first time signature in the file, if any.
    var meter: Meter? {
        for track in file.tracks {
            for e in track.events {
                if case .meta(.timeSignature(let n, let power, _, _)) = e.kind, n > 0, power <= 5 {
                    return Meter(beats: Int(n), beatUnit: 1 << Int(power))
                }
            }
        }
        return nil
    }

    /// Writes the input file with a track per part added (parts with nothing to say still get their
    /// track), and its piano roll to `svg` when asked, with the player's track outlined. Returns the file.
    @discardableResult
    func write(
        adding played: [TimedMIDIMessage], parts: [Part], movingChannels moves: [MIDIChannel: MIDIChannel] = [:], to path: String,
        svg: String? = nil, notOver inputs: [String]
    ) throws -> MIDIFile {
        let out = merged(adding: played, parts: parts, movingChannels: moves)
        try CommandFiles.write(MIDIFileWriter.write(out), to: path, notOver: inputs)
        if let svg {
            try CommandFiles.write(Array(PianoRollSVG(playerTrack: playerIndex).render(out).utf8), to: svg, notOver: inputs + [path])
        }
        return out
    }

    /// The checks `write` makes, before the rendering: the MIDI file and the piano roll must differ too.
    static func checkOutputs(_ path: String, svg: String?, notOver inputs: [String]) throws {
        try CommandFiles.checkOutput(path, notOver: inputs)
        guard let svg else { return }
        if svg == path { throw Failure(svg, "is also the -o output; write the piano roll to another file", status: .usage) }
        try CommandFiles.checkOutput(svg, notOver: inputs + [path])
    }

    /// For each answering part on a channel the file uses, a channel the file leaves free (drums' 10 aside),
    /// each move said on stderr: on one the file uses (twinkle's bass on channel 2 and the folk answer's) the
    /// answer would sound through that part's instrument.
    func freeChannels(for answering: [Part]) -> [MIDIChannel: MIDIChannel] {
        let used = usedChannels
        var moves: [MIDIChannel: MIDIChannel] = [:]
        for part in answering where used.contains(part.channel) {
            let taken = used.union(moves.values).union(answering.map(\.channel))
            guard let free = (MIDIChannel(0)..<16).first(where: { $0 != 9 && !taken.contains($0) }) else { continue }
            moves[part.channel] = free
            printToStandardError("sideman: note: \(path) uses channel \(part.channel + 1); the answer goes on channel \(free + 1)")
        }
        return moves
    }

    /// Channels with channel messages anywhere in the file.
    var usedChannels: Set<MIDIChannel> {
        Set(file.tracks.flatMap { $0.events.compactMap { $0.message?.channel } })
    }

    /// The file with a track per part; `moves` puts a part's events on another channel than it played on.
    func merged(adding played: [TimedMIDIMessage], parts: [Part], movingChannels moves: [MIDIChannel: MIDIChannel] = [:]) -> MIDIFile {
        var out = file
        if out.format == .singleTrack { out.format = .simultaneousTracks }
        for part in parts {
            var track = MIDITrack(events: [SMFEvent(tick: 0, .text(.trackName, Array(part.settings.name.utf8)))])
            let target = moves[part.channel] ?? part.channel
            for event in played where event.message.channel == part.channel {
                let message = event.message.onChannel(target)
                track.events.append(SMFEvent(tick: tick(ofFrame: event.time, sampleRate: OfflineSession.sampleRate), message))
            }
            out.tracks.append(track)
        }
        return out
    }
}

/// The daemon's engine and runner on the virtual backend, driven cycle by cycle on this thread: the same
/// code as live, on a simulated clock, so a seed decides every note.
struct OfflineSession {
    static let sampleRate = 48000
    static let bufferSize = 256
    let loaded: LoadedPreset
    let parts: [Part]

    /// `style`: the band's style instead of the preset's ("none" for none); `kit`: the drummer's instead.
    init(presetName: String, seed: UInt64?, style: String? = nil, kit: PitchSet? = nil) throws {
        var loaded = try DaemonSettings.locate(presetName, locator: DaemonSettings.standardLocator())
        if let seed { loaded.preset.performance.seed = seed }
        if let style { loaded.preset.performance.style = style == "none" ? nil : style.lowercased() }
        if let kit {
            for i in loaded.preset.parts.indices where loaded.preset.parts[i].role == .drums { loaded.preset.parts[i].kit = kit }
        }
        self.loaded = loaded
        parts = try DaemonSettings.parts(for: loaded)
        // The engine renders far faster than real time: a variation waits for its decode.
        for part in parts { part.decodeVariationsInline() }
    }

    /// The files the session read, which no output may replace: the preset and its models.
    var inputs: [String] { [loaded.path] + loaded.preset.parts.map(loaded.modelPath) }

    /// The preset as `accompany` plays it: a call-and-response preset also accompanies.
    var accompanying: Preset {
        var preset = loaded.preset
        if preset.performance.mode == .callAndResponse { preset.performance.mode = .both }
        return preset
    }

    /// The preset the engine runs for `song`: no thru, every channel heard, the song's first tempo and
    /// time signature on a fixed clock, no count-in.
    static func engineSettings(for song: OfflineSong, preset original: Preset, phraseEndAtEnd: Bool) -> Preset {
        var preset = original
        preset.thru.enabled = false
        preset.listener.inputChannel = nil
        preset.transport.source = .fixed
        preset.transport.countInBars = 0
        preset.transport.bpm = min(400, max(20, song.bpm))
        if let meter = song.meter { preset.transport.meter = meter }
        if phraseEndAtEnd, preset.controls.phraseEnd == nil { preset.controls.phraseEnd = 27 }
        return preset
    }

    /// Plays the song's player through the engine and returns what the parts played (frame order).
    /// `phraseEndAtEnd`: the phrase-end controller is pressed right after the player's last event, so a
    /// continuation answers at once.
    /// `warn`: say on stderr when the band's style was learned in another bar than the song's.
    func render(song: OfflineSong, preset original: Preset, extraBars: Int, phraseEndAtEnd: Bool, warn: Bool = true) throws -> [TimedMIDIMessage] {
        let preset = Self.engineSettings(for: song, preset: original, phraseEndAtEnd: phraseEndAtEnd)
        if warn, let problem = StyleBank.meterProblem(style: preset.performance.style, meter: preset.transport.meter, parts: parts) {
            printToStandardError("sideman: warning: \(problem)")
        }
        var engine = MusicalEngine(preset: preset, parts: parts)
        engine.startFrame = OfflineSong.leadFrames
        let outputs = preset.outputNames
        let backend = VirtualBackend(
            configuration: PortConfiguration(clientName: "sideman-offline", outputNames: outputs),
            sampleRate: Self.sampleRate, bufferSize: Self.bufferSize)
        try? backend.open()
        let runner = EngineRunner(engine: engine, panicController: nil, outputCount: outputs.count)
        var events = song.playerEvents(sampleRate: Self.sampleRate)
        let lastFrame = events.map(\.time).max() ?? OfflineSong.leadFrames
        if phraseEndAtEnd, let cc = preset.controls.phraseEnd {
            events.append(TimedMIDIMessage(time: lastFrame + 1, message: .controlChange(channel: 0, controller: cc, value: 127)))
        }
        var bytes: [UInt8] = []
        for event in events {
            bytes.removeAll(keepingCapacity: true)
            event.message.encode(into: &bytes)
            backend.play(frame: event.time, bytes: bytes)
        }
        let framesPerBar = 60.0 / preset.transport.bpm * Double(Self.sampleRate) * Double(preset.transport.meter.stepsPerBar) / 4
        let end = lastFrame + UInt64(framesPerBar * Double(extraBars))
        while backend.frame < end {
            backend.runCycle()
            runner.step(backend: backend.enginePort)
        }
        runner.silence(backend: backend.enginePort, at: backend.enginePort.cycleStart + UInt64(backend.enginePort.cycleLength))
        for _ in 0..<4 { backend.runCycle() }
        var played: [TimedMIDIMessage] = []
        var parser = MIDIStreamParser()
        for delivered in backend.takeDelivered() {
            parser.parse(delivered.bytes) { played.append(TimedMIDIMessage(time: delivered.frame, message: $0)) }
        }
        return played
    }
}
