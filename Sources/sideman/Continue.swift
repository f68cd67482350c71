import ArgumentParser
import Engine
import Foundation
import Live
import MIDI

/// `sideman continue IN.mid -o OUT.mid --preset P --bars N`: the preset's continuation answers a MIDI file.
struct Continue: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "continue",
        abstract: "Play a MIDI file as the player's phrase, then the preset's continuation for N bars.",
        discussion: """
            The player (the first track with notes, or --player-track N) primes the continuation part's model \
            through the same engine the daemon runs, on the virtual backend with a simulated clock; right after \
            the file's last event the phrase ends and the continuation plays --bars bars. The output is the \
            input plus the continuation's track, on the part's channel, or on the first channel the file leaves free \
            (drums' 10 aside) when the file uses it. The same --seed gives the same file, byte for byte.

            \(OfflineSong.lengthRule) \(OfflineSong.outputRule)

            Examples:
              sideman continue examples/twinkle.mid -o answer.mid --preset folk
              sideman continue phrase.mid -o answer.mid --preset folk --bars 8 \\
                --svg answer.svg
            """)

    @Argument(help: "The player's MIDI file.", completion: .file(extensions: ["mid", "midi"])) var input: String
    @Option(name: .shortAndLong, help: "Where to write the result.") var output: String
    @Option(help: "Preset name or path (it needs a continuation part).", completion: .presetNames) var preset: String
    @Option(help: "Bars of continuation.") var bars = 4
    @Option(help: "Sampler seed (default: the preset's performance.seed).") var seed: UInt64?
    @Option(help: "The player's track (0 = the file's first).") var playerTrack: Int?
    @Option(help: "Also write the result as an SVG piano roll (the player's notes outlined).", completion: .file(extensions: ["svg"])) var svg: String?

    func validate() throws {
        guard (1...64).contains(bars) else { throw ValidationError("--bars must be 1...64, got \(bars)") }
    }

    func run() throws {
        try reportingFailures {
            let session = try OfflineSession(presetName: preset, seed: seed)
            let continuations = session.parts.filter { $0.role.answersPhrases }
            guard !continuations.isEmpty else {
                throw Failure(session.loaded.path, "has no continuation part", status: .dataError)
            }
            let song = try OfflineSong(path: input, playerTrack: playerTrack)
            let inputs = session.inputs + [input]
            try OfflineSong.checkOutputs(output, svg: svg, notOver: inputs)
            var preset = session.loaded.preset
            preset.performance.mode = .callAndResponse
            preset.performance.continuationBars = bars
            let played = try session.render(song: song, preset: preset, extraBars: bars + 1, phraseEndAtEnd: true)
            try song.write(adding: played, parts: continuations, movingChannels: song.freeChannels(for: continuations), to: output, svg: svg,
                           notOver: inputs)
        }
    }
}
