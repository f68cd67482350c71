import Foundation

/// The sizes of a MidiNet (Yang, Chou and Yang 2017, its model 3): a generator that turns noise, the bar's
/// chord and the previous bar into a bar of melody, through up-sampling layers that each take the chord and
/// the matching layer of a conditioner network over the previous bar; and a discriminator that judges a bar
/// with its chord. Written to `__metadata__` under `model: midinet`.
///
/// A bar is `stepsPerBar` 16th steps, each one class of a melody event in a pitch range: NO_EVENT (the note
/// before goes on, or the rest does), NOTE_OFF, or the strike of one of `pitches` pitches from `lowestPitch`
/// (MidiNet's h × w piano roll, with Melody RNN's events so a held note and a repeated one differ).
/// The chord is 13 numbers: its root's pitch class one-hot, then 1 for a minor chord (MidiNet's condition);
/// all zero for no chord.
public struct MidiNetConfig: Sendable, Equatable {
    public static let metadataModel = "midinet"
    public static let chordSize = 13
    /// Classes before the first pitch: NO_EVENT, NOTE_OFF.
    public static let firstPitchIndex = 2

    public var stepsPerBar = 16
    public var lowestPitch = 48
    public var pitches = 48
    /// Noise numbers per bar.
    public var noise = 100
    /// The generator's fully connected width, and its up-sampling layers' channels.
    public var generatorHidden = 1024
    public var generatorChannels = 128
    /// The conditioner's channels at every layer.
    public var conditionerChannels = 16
    /// The discriminator's two convolutions' channels and its fully connected width.
    public var discriminatorFirst = 14
    public var discriminatorSecond = 77
    public var discriminatorHidden = 1024
    /// Feature matching's weights: on the mean bar, and on the mean of the discriminator's first layer.
    public var matchBars: Float = 0.1
    public var matchFeatures: Float = 1
    /// One-sided label smoothing: the discriminator's target for a real bar.
    public var realLabel: Float = 0.9

    public init(stepsPerBar: Int = 16, lowestPitch: Int = 48, pitches: Int = 48) {
        self.stepsPerBar = stepsPerBar
        self.lowestPitch = lowestPitch
        self.pitches = pitches
    }

    public var classes: Int { Self.firstPitchIndex + pitches }
    /// The up-sampling layers double the steps from 2 to the bar: a bar is 2·2^k steps.
    public var upsamplings: Int { Int(Foundation.log2(Double(stepsPerBar / 2))) }

    /// The class that strikes `pitch`, nil outside the range.
    public func strike(_ pitch: Int) -> Int? {
        (lowestPitch..<(lowestPitch + pitches)).contains(pitch) ? Self.firstPitchIndex + pitch - lowestPitch : nil
    }

    /// The pitch a class strikes, nil for NO_EVENT and NOTE_OFF.
    public func pitch(of index: Int) -> Int? { index >= Self.firstPitchIndex ? lowestPitch + index - Self.firstPitchIndex : nil }

    public var metadata: [String: String] {
        ["model": Self.metadataModel, "steps_per_bar": "\(stepsPerBar)", "lowest_pitch": "\(lowestPitch)", "pitches": "\(pitches)",
         "noise": "\(noise)", "generator_hidden": "\(generatorHidden)", "generator_channels": "\(generatorChannels)",
         "conditioner_channels": "\(conditionerChannels)", "discriminator_first": "\(discriminatorFirst)",
         "discriminator_second": "\(discriminatorSecond)", "discriminator_hidden": "\(discriminatorHidden)",
         "match_bars": "\(matchBars)", "match_features": "\(matchFeatures)", "real_label": "\(realLabel)"]
    }

    /// Whether a file's metadata is a MidiNet's.
    public static func describes(_ metadata: [String: String]) -> Bool { metadata["model"] == metadataModel }

    /// Reads the sizes back, refusing absurd ones before anything is allocated.
    public init(metadata m: [String: String]) throws(WeightsError) {
        guard Self.describes(m) else { throw WeightsError("is not a MidiNet (metadata model = \(m["model"] ?? "none"))") }
        let fields = MetadataFields(m)
        let (int, float) = (fields.int, fields.float)
        self.init(stepsPerBar: try int("steps_per_bar", 4...64), lowestPitch: try int("lowest_pitch", 0...127),
                  pitches: try int("pitches", 1...128))
        guard stepsPerBar & (stepsPerBar - 1) == 0 else {
            throw WeightsError("metadata steps_per_bar = \(stepsPerBar) is not a power of two (the generator doubles steps)")
        }
        guard lowestPitch + pitches <= 128 else { throw WeightsError("metadata lowest_pitch + pitches = \(lowestPitch + pitches) is past MIDI's 128") }
        noise = try int("noise", 1...4096)
        generatorHidden = try int("generator_hidden", 1...8192)
        generatorChannels = try int("generator_channels", 1...4096)
        conditionerChannels = try int("conditioner_channels", 1...4096)
        discriminatorFirst = try int("discriminator_first", 1...4096)
        discriminatorSecond = try int("discriminator_second", 1...4096)
        discriminatorHidden = try int("discriminator_hidden", 1...8192)
        matchBars = try float("match_bars", 0...1000)
        matchFeatures = try float("match_features", 0...1000)
        realLabel = try float("real_label", 0.5...1)
    }
}
