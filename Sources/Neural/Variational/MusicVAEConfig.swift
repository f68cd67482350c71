/// The sizes of a MusicVAE (Roberts et al. 2018, the hierarchical decoder): a bidirectional LSTM encoder over
/// a phrase of `bars` bars, a latent of `latent` units, a conductor LSTM that gives each bar an embedding, and
/// a bar decoder LSTM started from it. Written to `__metadata__` under `model: music_vae`.
public struct MusicVAEConfig: Sendable, Equatable {
    /// What one step of a phrase is.
    public enum Content: String, Sendable, CaseIterable {
        /// A melody event (EventVocabulary: NO_EVENT, NOTE_OFF, NOTE_ON pitch; 130 classes).
        case melody
        /// The drum classes struck on the step, as one of 2^9 combinations (MusicVAE's nine-class kit).
        case drums
    }

    public static let metadataModel = "music_vae"

    public var content: Content
    /// Classes of one step (its one-hot input and softmax output).
    public var classes: Int
    public var stepsPerBar = 16
    public var bars = 2
    /// Units per direction of the encoder.
    public var encoderHidden = 256
    public var latent = 128
    public var conductorHidden = 256
    public var decoderHidden = 256
    public var decoderLayers = 2
    /// Nats of KL per phrase that cost nothing (free bits), so the latent is used rather than collapsed.
    public var freeBits: Float = 24
    /// The weight of the KL past the free bits, reached by annealing (`betaRate` per update, as MusicVAE's
    /// beta = (1 − rate^step) · beta).
    public var beta: Float = 0.2
    public var betaRate: Float = 0.9999

    public init(content: Content, classes: Int? = nil, stepsPerBar: Int = 16, bars: Int = 2) {
        self.content = content
        self.classes = classes ?? content.classes
        self.stepsPerBar = stepsPerBar
        self.bars = bars
    }

    /// Steps in a phrase.
    public var steps: Int { bars * stepsPerBar }

    /// The annealed KL weight after `updates` optimizer steps.
    public func beta(after updates: Int) -> Float {
        beta * (1 - Float(Foundation.pow(Double(betaRate), Double(updates))))
    }

    public var metadata: [String: String] {
        ["model": Self.metadataModel, "content": content.rawValue, "classes": "\(classes)", "steps_per_bar": "\(stepsPerBar)",
         "bars": "\(bars)", "encoder_hidden": "\(encoderHidden)", "latent": "\(latent)", "conductor_hidden": "\(conductorHidden)",
         "decoder_hidden": "\(decoderHidden)", "decoder_layers": "\(decoderLayers)", "free_bits": "\(freeBits)",
         "beta": "\(beta)", "beta_rate": "\(betaRate)"]
    }

    /// Whether a file's metadata is a MusicVAE's.
    public static func describes(_ metadata: [String: String]) -> Bool { metadata["model"] == metadataModel }

    /// Reads the sizes back, refusing absurd ones before anything is allocated.
    public init(metadata m: [String: String]) throws(WeightsError) {
        guard Self.describes(m) else { throw WeightsError("is not a MusicVAE (metadata model = \(m["model"] ?? "none"))") }
        let fields = MetadataFields(m)
        let int = fields.int
        func float(_ k: String) throws(WeightsError) -> Float { try fields.float(k, 0...1e9) }
        guard let content = Content(rawValue: m["content"] ?? "") else {
            throw WeightsError("metadata content = \(m["content"] ?? "none") is not melody or drums")
        }
        self.init(content: content, classes: try int("classes", 2...4096), stepsPerBar: try int("steps_per_bar", 1...96),
                  bars: try int("bars", 1...16))
        encoderHidden = try int("encoder_hidden", 1...4096)
        latent = try int("latent", 1...4096)
        conductorHidden = try int("conductor_hidden", 1...4096)
        decoderHidden = try int("decoder_hidden", 1...4096)
        decoderLayers = try int("decoder_layers", 1...4)
        freeBits = try float("free_bits")
        beta = try float("beta")
        betaRate = try float("beta_rate")
        let expected = content.classes
        guard classes == expected else {
            throw WeightsError("metadata classes = \(classes); a \(content.rawValue) phrase has \(expected)")
        }
    }
}

extension MusicVAEConfig.Content {
    /// Classes of a step (Music's EventVocabulary and DrumClasses hold what they mean; the network needs the count).
    public var classes: Int { self == .melody ? 130 : 512 }
}

import Foundation
