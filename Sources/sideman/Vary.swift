import ArgumentParser
import Foundation
import Live
import Neural

/// `sideman vary IN.mid -o OUT.mid --model M --amount A`: a MusicVAE's variation of each phrase of a file.
struct Vary: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vary",
        abstract: "Write a MusicVAE's variation of a MIDI file's melody or groove.",
        discussion: """
            The file's melody (its first track with notes off channel 10, or --track N: the highest note of \
            each onset on 16th steps) or groove (its first track on channel 10: MusicVAE's nine-piece kit) is \
            cut into phrases of the model's bars from the file's first bar. Each phrase is encoded, its place \
            in the latent space moved --amount of the way toward a random place (0: the phrase as the model \
            hears it, 1: a phrase of its own) and decoded at --temperature (0: the most likely step each \
            time), notes outside the pitch classes the file uses held --scale-bias nats less likely. The \
            output holds the variation only, one phrase after another, at the file's tempo, on \
            the file's channel and mean velocity. The same --seed gives the same file.

            Examples:
              sideman vary tune.mid -o variation.mid --model presets/folk/variation.safetensors --amount 0.3
              sideman vary groove.mid -o fill.mid --model presets/band/drums-vae.safetensors --amount 0.5
            """)

    @Argument(help: "The MIDI file to vary.", completion: .file(extensions: ["mid", "midi"])) var input: String
    @Option(name: .shortAndLong, help: "Where to write the variation.") var output: String
    @Option(help: "A MusicVAE (sideman train-vae).", completion: .file(extensions: ["safetensors"])) var model: String
    @Option(help: "How far from the phrase: 0 ... 1.") var amount: Float = 0.3
    @Option(help: "Sampling temperature of each step (0: the most likely).") var temperature: Float = 0.5
    @Option(help: "The track to read (0 = the file's first).") var track: Int?
    @Option(help: "Melodies: nats against notes outside the pitch classes the file uses (0: none).") var scaleBias: Float = 2
    @Option(help: "Random seed.") var seed: UInt64 = 1

    func validate() throws {
        guard (0...1).contains(amount) else { throw ValidationError("--amount must lie in [0, 1], got \(amount)") }
        guard (0...20).contains(scaleBias) else { throw ValidationError("--scale-bias must lie in [0, 20], got \(scaleBias)") }
        guard temperature >= 0, temperature <= 10 else { throw ValidationError("--temperature must lie in [0, 10]") }
    }

    func run() throws {
        try reportingFailures {
            try CommandFiles.checkOutput(output, notOver: [input, model])
            let vae = try VAEFile.load(model)
            let file = try PhraseFile(path: input, content: vae.config.content, track: track)
            var rng = SeededRandom(seed: seed)
            let bias = vae.outOfScaleBias(file.pitchClasses, nats: scaleBias)
            let varied = file.phrases(of: vae.config.steps).map {
                vae.vary($0, amount: amount, temperature: temperature, bias: bias, rng: &rng)
            }
            try PhraseFile.write(varied, content: vae.config.content, like: file, name: "variation", to: output, notOver: [input, model])
            printToStandardError("sideman: \(varied.count) phrase\(varied.count == 1 ? "" : "s") of \(vae.config.bars) bars varied by \(amount); written to \(output)")
        }
    }
}

/// `sideman interpolate A.mid B.mid -o OUT.mid --model M --steps N`: the way from one phrase to another.
struct Interpolate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interpolate",
        abstract: "Write a MusicVAE's interpolation from one MIDI phrase to another.",
        discussion: """
            The first phrase (the model's bars from the first bar) of each file is encoded; the output plays \
            --steps phrases along the sphere between their places in the latent space, A's own first and B's \
            last, one after another at A's tempo, on A's channel. Melody or groove as the model learned \
            (see `sideman vary`).

            Example:
              sideman interpolate rock.mid chacha.mid -o morph.mid --model presets/band/drums-vae.safetensors --steps 8
            """)

    @Argument(help: "Where to start.", completion: .file(extensions: ["mid", "midi"])) var from: String
    @Argument(help: "Where to arrive.", completion: .file(extensions: ["mid", "midi"])) var to: String
    @Option(name: .shortAndLong, help: "Where to write the interpolation.") var output: String
    @Option(help: "A MusicVAE (sideman train-vae).", completion: .file(extensions: ["safetensors"])) var model: String
    @Option(help: "Phrases from A to B, both ends included.") var steps = 5
    @Option(help: "Sampling temperature of each step (0: the most likely).") var temperature: Float = 0
    @Option(help: "Random seed.") var seed: UInt64 = 1

    func validate() throws {
        guard (2...64).contains(steps) else { throw ValidationError("--steps must be 2...64, got \(steps)") }
        guard temperature >= 0, temperature <= 10 else { throw ValidationError("--temperature must lie in [0, 10]") }
    }

    func run() throws {
        try reportingFailures {
            let inputs = [from, to, model]
            try CommandFiles.checkOutput(output, notOver: inputs)
            let vae = try VAEFile.load(model)
            let a = try PhraseFile(path: from, content: vae.config.content, track: nil)
            let b = try PhraseFile(path: to, content: vae.config.content, track: nil)
            let za = vae.posterior(of: a.phrases(of: vae.config.steps)[0]).mu
            let zb = vae.posterior(of: b.phrases(of: vae.config.steps)[0]).mu
            var rng = SeededRandom(seed: seed)
            let phrases = (0..<steps).map { i in
                vae.decode(MusicVAE.slerp(za, zb, Float(i) / Float(steps - 1)), temperature: temperature, rng: &rng)
            }
            try PhraseFile.write(phrases, content: vae.config.content, like: a, name: "interpolation", to: output, notOver: inputs)
            printToStandardError("sideman: \(steps) phrases of \(vae.config.bars) bars from \(from) to \(to); written to \(output)")
        }
    }
}

/// Loading a MusicVAE for a command: a missing file is exit 66, one that is not a MusicVAE exit 65.
enum VAEFile {
    static func load(_ path: String) throws -> MusicVAE {
        try CommandFiles.requireInput(path)
        do {
            return try MusicVAE(path: path)
        } catch {
            throw Failure(path, error.description, status: .dataError)
        }
    }
}
