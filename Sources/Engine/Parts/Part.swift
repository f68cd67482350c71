import MIDI
import Music
import Neural

/// One member of the band: its settings, the brain that draws its steps (model, bias, sampling) and the
/// hands that play them (the notes it has sounding, at frames). The engine asks it for a step in two
/// moves, `advance` then `choose` (or `listen`, for a continuation being primed), and has it `render`
/// the choice; mute, mode changes and stop end exactly the notes the hands hold.
public final class Part: @unchecked Sendable {
    // @unchecked: a part is used only by the engine thread that owns its MusicalEngine.
    public let settings: PartSettings
    public let vocabulary: PartVocabulary
    /// Output port index (0 with one port for all parts).
    public let port: Int
    /// What the model takes beside its own previous output (nil: nothing).
    public let conditioning: Conditioning?
    /// The styles the model learned, in its unit order (empty unless style-conditioned).
    public let styles: [String]
    /// The styles' micro-timing its model carries (a style drums model), by style name.
    public var styleTiming: [String: StyleTiming] = [:]
    /// The bar each style was learned in, in 16ths (a style drums model's signatures say), by style name.
    public var styleBars: [String: Int] = [:]
    let brain: PartBrain
    var hands: PartHands
    public var muted = false
    /// Draws a voices step gets before one with parallel fifths or octaves is kept (VoiceLeading).
    public static let voiceLeadingDraws = 8

    public init(
        settings: PartSettings, model: any StreamingModel, conditioning: Conditioning? = nil, styles: [String] = [],
        frameLayout: FrameLayout = .pitches, port: Int, seed: UInt64, sampleRate: Double = 48000, band: BandDecoder? = nil
    ) throws(WeightsError) {
        vocabulary = try PartVocabulary.of(model, layout: frameLayout)
        guard vocabulary.fits(settings.role) else {
            let needed = PartVocabulary.events.fits(settings.role) ? "an events" : settings.role == .drums ? "a note sets" : "a note sets or onset and hold"
            throw WeightsError("is a \(vocabulary.rawValue) model; a \(settings.role.rawValue) part needs \(needed) model")
        }
        let baseInputs = model.readsBars ? LookbackEncoder.inputSize(classes: vocabulary.baseInputSize) : vocabulary.baseInputSize
        let expectedInputs = baseInputs + (conditioning?.size ?? 0)
        guard model.inputSize == expectedInputs else {
            throw WeightsError("takes \(model.inputSize) inputs; a \(vocabulary.rawValue) model "
                + (conditioning.map { "conditioned on the \($0.rawValue) " } ?? "") + "takes \(expectedInputs)")
        }
        guard vocabulary != .ensemble || settings.grid.stepsOfSixteenth == 1 else {
            throw WeightsError("is a band event model, which plays 16th steps; the part's grid is \(settings.grid.rawValue)")
        }
        guard settings.groove == nil else {
            throw WeightsError("is a \(model.family.rawValue) model; a drums part with a groove plays a MusicVAE of drum grooves (sideman train-vae --content drums)")
        }
        guard settings.role != .variation else {
            throw WeightsError("is a \(model.family.rawValue) model; a variation part plays a MusicVAE (sideman train-vae)")
        }
        guard settings.role != .lead else {
            throw WeightsError("is a \(model.family.rawValue) model; a lead part plays a MidiNet (sideman train-midinet)")
        }
        guard conditioning == nil || conditioning == .beat || settings.role != .continuation else {
            throw WeightsError("is conditioned on the \(conditioning!.rawValue); a continuation is primed with the player's phrase instead")
        }
        self.settings = settings
        self.port = port
        muted = settings.startsMuted
        self.conditioning = conditioning
        self.styles = conditioning?.hasStyles == true ? styles : []
        let decoder = vocabulary == .ensemble ? band ?? BandDecoder(model: model, conditioning: conditioning, seed: seed) : nil
        brain = PartBrain(settings: settings, vocabulary: vocabulary, model: model, conditioning: conditioning, seed: seed, band: decoder)
        hands = PartHands(settings: settings, vocabulary: vocabulary.played(by: settings.role), port: port, sampleRate: sampleRate, seed: seed)
        reset()
    }

    /// A variation part: its MusicVAE answers the player's phrase with a variation of it (PhraseVariation).
    public convenience init(settings: PartSettings, variation vae: MusicVAE, port: Int, seed: UInt64, sampleRate: Double = 48000)
        throws(WeightsError)
    {
        guard settings.role == .variation else {
            throw WeightsError("is a MusicVAE; only a variation part plays one (this is a \(settings.role.rawValue) part)")
        }
        guard vae.config.content == .melody else { throw WeightsError("is a MusicVAE of drum grooves; a variation part answers a melody") }
        let phrase = PhraseVariation(vae: vae, amount: settings.amount, temperature: settings.temperature, seed: seed)
        try self.init(settings: settings, vocabulary: .events, port: port, seed: seed, sampleRate: sampleRate,
                      brain: PartBrain(settings: settings, vocabulary: .events, model: nil, conditioning: nil, seed: seed, phrase: phrase))
    }

    /// A groove drummer: a MusicVAE of grooves moves it between two grooves (GrooveMorph).
    public convenience init(settings: PartSettings, groove vae: MusicVAE, from: [Float], to: [Float], port: Int, seed: UInt64,
                            sampleRate: Double = 48000) throws(WeightsError) {
        guard settings.role == .drums, let groove = settings.groove else {
            throw WeightsError("is a MusicVAE of drum grooves; a drums part with a groove (from, to) plays one")
        }
        guard vae.config.content == .drums else { throw WeightsError("is a MusicVAE of melodies; a groove drummer needs one of drum grooves") }
        let morph = GrooveMorph(vae: vae, from: from, to: to, bars: groove.bars, temperature: settings.temperature, seed: seed)
        try self.init(settings: settings, vocabulary: .noteSets, port: port, seed: seed, sampleRate: sampleRate,
                      brain: PartBrain(settings: settings, vocabulary: .noteSets, model: nil, conditioning: nil, seed: seed, groove: morph))
    }

    /// A lead part: MidiNet plays a melody bar by bar over the player's chords (BarLead).
    public convenience init(settings: PartSettings, lead net: MidiNet, port: Int, seed: UInt64, sampleRate: Double = 48000) throws(WeightsError) {
        guard settings.role == .lead else {
            throw WeightsError("is a MidiNet; only a lead part plays one (this is a \(settings.role.rawValue) part)")
        }
        let lead = BarLead(net: net, temperature: settings.temperature, seed: seed)
        try self.init(settings: settings, vocabulary: .events, port: port, seed: seed, sampleRate: sampleRate,
                      brain: PartBrain(settings: settings, vocabulary: .events, model: nil, conditioning: nil, seed: seed, lead: lead))
    }

    /// A part whose MusicVAE or MidiNet plays whole phrases or bars (no step model, no condition inputs, no styles).
    private init(settings: PartSettings, vocabulary: PartVocabulary, port: Int, seed: UInt64, sampleRate: Double, brain: PartBrain)
        throws(WeightsError)
    {
        guard settings.grid == .sixteenth else {
            throw WeightsError("is a \(brain.lead == nil ? "MusicVAE" : "MidiNet"), which plays 16th steps; the part's grid is \(settings.grid.rawValue)")
        }
        self.settings = settings
        self.port = port
        muted = settings.startsMuted
        conditioning = nil
        styles = []
        self.vocabulary = vocabulary
        self.brain = brain
        hands = PartHands(settings: settings, vocabulary: vocabulary, port: port, sampleRate: sampleRate, seed: seed)
        reset()
    }

    /// A groove drummer's place between its grooves (0: from, 1: to), nil for other parts.
    public var groovePosition: Double? { brain.groove?.position }

    /// A variation part's decodes asked for, answers that missed their first downbeat, and the last decode's
    /// time (zeros for other parts).
    public var variationFigures: (decodes: Int, lateDownbeats: Int, lastDecode: Duration) {
        (brain.phrase?.decodes ?? 0, brain.phrase?.lateDownbeats ?? 0, brain.phrase?.lastDecode ?? .zero)
    }

    /// A lead part's bars generated, those generated again over a chord its plan did not foresee, and the
    /// last bar's time (zeros for other parts).
    public var leadFigures: (bars: Int, regenerated: Int, lastBar: Duration) {
        (brain.lead?.generated ?? 0, brain.lead?.regenerated ?? 0, brain.lead?.lastDecode ?? .zero)
    }

    /// A part with a model off the step path (MusicVAE, MidiNet) decodes on the engine thread (rendering
    /// faster than real time); others ignore it.
    public func decodeVariationsInline() {
        brain.phrase?.decodesInline = true
        brain.groove?.decodesInline = true
        brain.lead?.decodesInline = true
    }

    public func use(sampleRate: Double) { hands.humanizer.use(sampleRate: sampleRate) }

    /// Whether the part plays in the bank's style `number`: a part that learned styles has none in a style
    /// its model never heard (a groove family without drums has no drummer); any part plays with no style.
    public func plays(style number: Int?) -> Bool {
        guard !styles.isEmpty, let number, number >= 0, number < brain.styleUnits.count else { return true }
        return brain.styleUnits[number] >= 0
    }

    /// Learns which of its model's style units each style of the band's bank is (once, before playing).
    public func join(_ bank: StyleBank) { brain.styleUnits = bank.units(in: styles) }

    public var role: PartRole { settings.role }
    public var channel: MIDIChannel { settings.channel }
    /// True for the parts that follow the player's harmony (they react to an on-step note).
    public var followsPlayer: Bool { !role.answersPhrases && role != .drums }
    public var sounding: PitchSet { hands.sounding }
    /// The part's output on its latest step, and on the one before (what the other parts hear).
    public var output: PitchSet { hands.output }
    public var previousOutput: PitchSet { hands.previousOutput }
    public var lastChoice: FeatureList { brain.lastChoice }
    var barReader: (any StreamingModel)? { brain.barReader }

    /// Back to the start of a piece (the model's state and what the part played). Does not end notes.
    public func reset() {
        brain.reset()
        hands.forgetSteps()
    }

    /// Steps the model for the step being decided; `timer`, when given, times the model step.
    func advance(context: PartContext = PartContext(), timer: (any ModelStepTimer)? = nil) {
        brain.advance(context: context, timer: timer)
        hands.beginStep()
    }

    /// The player's event becomes the next input (a listening continuation, primed with the phrase).
    func listen(_ playerEvent: Int) {
        brain.listen(playerEvent)
        hands.echo(playerEvent: playerEvent)
    }

    func choose(
        context: PartContext, temperature: Double, keep: Double, fill: DrumSection = .mainA, timer: (any ModelStepTimer)? = nil
    ) -> FeatureList {
        brain.choose(context: context, temperature: temperature, keep: keep, fill: fill, sounding: hands.sounding, timer: timer)
    }

    func pitches(of choice: FeatureList) -> PitchSet { hands.pitches(of: choice) }

    func render(
        _ choice: FeatureList, step: Int64, stepFrame: UInt64, earliest: UInt64, framesPerStep: Double,
        velocity: Double, out: inout [ScheduledMessage]
    ) {
        hands.render(
            choice, step: step, stepFrame: stepFrame, earliest: earliest, framesPerStep: framesPerStep, velocity: velocity,
            out: &out)
    }

    func takeBackStep(at frame: UInt64, keeping kept: PitchSet, out: inout [ScheduledMessage]) {
        hands.takeBackStep(at: frame, keeping: kept, out: &out)
    }

    public func clockWentBack(to frame: UInt64, out: inout [ScheduledMessage]) { hands.clockWentBack(to: frame, out: &out) }

    /// Ends every note the part has sounding, at `frame` or later.
    public func silence(at frame: UInt64, out: inout [ScheduledMessage]) { hands.silence(at: frame, out: &out) }

    /// The model the part steps: its own, or the band's shared model for a share of it.
    var stepModel: (any StreamingModel)? { brain.model ?? brain.band?.model }
}

extension PartSettings {
    /// Bank select (MSB, then LSB) and program change for the part's sound, on `channel`, in that order:
    /// a synth applies a bank only at the next program change.
    public func forEachSetupMessage(channel: MIDIChannel, _ body: (MIDIMessage) -> Void) {
        guard let program else { return }
        if let bank {
            body(.controlChange(channel: channel, controller: 0, value: UInt8(bank >> 7)))
            body(.controlChange(channel: channel, controller: 32, value: UInt8(bank & 127)))
        }
        body(.programChange(channel: channel, program: program))
    }
}
