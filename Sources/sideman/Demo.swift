import ArgumentParser
import Engine
import Foundation
import Live
import MIDI
import Music

/// `sideman demo`: hear and see what Sideman does, with nothing to set up.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Play a built-in tune (or your file) through a preset and write MIDI, a piano roll and a WAV.",
        discussion: """
            Runs the same engine as `continue` (a preset with only a continuation part, such as the default \
            folk) or `accompany` (a preset with accompaniment parts), offline on the virtual backend, on an \
            eight-bar air built in (or IN.mid's first track with notes). It writes DIR/demo.mid, DIR/demo.svg \
            (a piano roll: the player's notes hatched, each generated part in its own colour) and, when \
            FluidSynth and a General MIDI soundfont are installed (apt-get install fluidsynth \
            fluid-soundfont-gm), DIR/demo.wav. The same --seed gives the same files.

            \(OfflineSong.lengthRule) \(OfflineSong.outputRule)

            Examples:
              sideman demo                    # built-in tune, folk preset, into .
              sideman demo --out /tmp/demo    # the same, into /tmp/demo
              sideman demo --preset folk song.mid --bars 8
            """)

    @Argument(help: "A MIDI file to play instead of the built-in tune.", completion: .file(extensions: ["mid", "midi"])) var input: String?
    @Option(help: "Preset name or path.", completion: .presetNames) var preset = "folk"
    @Option(help: "Folder for demo.mid, demo.svg and demo.wav (created if missing).", completion: .directory) var out = "."
    @Option(help: "Bars of continuation (presets without accompaniment parts).") var bars = 4
    @Option(help: "Sampler seed (default: the preset's performance.seed).") var seed: UInt64?
    @Option(help: "The band's style: one its models learned (`sideman styles` lists them), or none (default: the preset's performance.style).")
    var style: String?
    @Option(help: "The WAV's sample rate in Hz.") var sampleRate = 44100

    /// Where Debian's fluid-soundfont-gm puts its General MIDI soundfont.
    static let soundfonts = ["/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/sounds/sf2/default-GM.sf2"]

    func validate() throws {
        guard (1...64).contains(bars) else { throw ValidationError("--bars must be 1...64, got \(bars)") }
        guard (8000...192_000).contains(sampleRate) else { throw ValidationError("--sample-rate must be 8000...192000, got \(sampleRate)") }
    }

    func run() throws {
        try reportingFailures {
            let session = try OfflineSession(presetName: preset, seed: seed, style: style)
            guard !session.parts.isEmpty else {
                throw Failure(session.loaded.path, "has no parts to play (the demo needs a continuation or accompaniment part)", status: .dataError)
            }
            let song = try input.map { try OfflineSong(path: $0, playerTrack: nil) }
                ?? OfflineSong(file: DemoMelody.file, path: "built-in tune", playerTrack: 0)
            try CommandFiles.makeFolder(out)
            let folder = URL(fileURLWithPath: out)
            let midi = folder.appendingPathComponent("demo.mid").path
            let svg = folder.appendingPathComponent("demo.svg").path
            let wav = folder.appendingPathComponent("demo.wav").path
            let inputs = session.inputs + [input].compactMap { $0 }
            try OfflineSong.checkOutputs(midi, svg: svg, notOver: inputs)
            // FluidSynth would block on a FIFO named demo.wav, or replace an input.
            try CommandFiles.checkOutput(wav, notOver: inputs)
            var preset = session.loaded.preset
            let accompanies = session.parts.contains { !$0.role.answersPhrases }
            let played: [TimedMIDIMessage]
            var moves: [MIDIChannel: MIDIChannel] = [:]
            if accompanies, preset.performance.mode == .callAndResponse { preset.performance.mode = .both }
            // A preset that also answers (the default) answers the tune at its end, the band playing on.
            let answers = accompanies && preset.performance.mode == .both && session.parts.contains { $0.role.answersPhrases }
            if accompanies {
                played = try session.render(song: song, preset: preset, extraBars: answers ? preset.performance.continuationBars + 1 : 1,
                                            phraseEndAtEnd: answers)
            } else {
                preset.performance.mode = .callAndResponse
                preset.performance.continuationBars = bars
                played = try session.render(song: song, preset: preset, extraBars: bars + 1, phraseEndAtEnd: true)
                moves = song.freeChannels(for: session.parts)
            }
            let file = try song.write(adding: played, parts: session.parts, movingChannels: moves, to: midi, svg: svg, notOver: inputs)
            let generated = file.tracks.indices.dropFirst(song.file.tracks.count).map { file.tracks[$0].noteSpans().count }.reduce(0, +)
            let playerNotes = song.file.tracks[song.playerIndex].noteSpans().count
            print("\(song.path): \(playerNotes) notes played through \(URL(fileURLWithPath: session.loaded.path).standardized.path) (\(answers ? "accompaniment and answer" : accompanies ? "accompaniment" : "continuation")); \(generated) notes generated")
            print("wrote \(midi)")
            print("wrote \(svg)")
            guard let synth = Self.executable("fluidsynth"), let soundfont = Self.soundfonts.first(where: FileManager.default.fileExists) else {
                print("no WAV: it needs FluidSynth and a General MIDI soundfont (apt-get install fluidsynth fluid-soundfont-gm)")
                return
            }
            try Self.render(midi: midi, to: wav, synth: synth, soundfont: soundfont, sampleRate: sampleRate)
            let rendered = Array(try Data(contentsOf: URL(fileURLWithPath: wav)))
            try CommandFiles.write(WAVLevel.normalized(rendered), to: wav, notOver: inputs)
            print("wrote \(wav)")
        }
    }

    /// The first executable `name` on PATH.
    static func executable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// FluidSynth's fast file renderer: no MIDI input, no shell, 44.1 kHz.
    static func render(midi: String, to wav: String, synth: String, soundfont: String, sampleRate: Int = 44100) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: synth)
        process.arguments = ["-ni", "-F", wav, "-r", "\(sampleRate)", soundfont, midi]
        let log = Pipe()
        process.standardOutput = log
        process.standardError = log
        do {
            try process.run()
        } catch {
            throw Failure(synth, "cannot be started (\(error.localizedDescription))", status: .unavailable)
        }
        let output = String(decoding: log.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0, FileManager.default.fileExists(atPath: wav) else {
            let last = output.split(separator: "\n").last.map { ": \($0)" } ?? ""
            throw Failure(wav, "fluidsynth exited with status \(process.terminationStatus)\(last)", status: .software)
        }
    }
}
