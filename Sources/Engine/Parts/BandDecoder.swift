import Foundation
import Music
import Neural

/// One model plays the band: a model trained on the whole band's events (`sideman train --part band`,
/// `frame_layout: ensemble`). The drums, bass and chords parts of a preset that name the same model file
/// share one decoder; it decodes each 16th step's events in the order training wrote them (drums, the bass,
/// the keys' releases then strikes, STEP) and each part plays its share, so the bass is drawn hearing this
/// step's drums and the keys hearing both.
///
/// The drummer decides a step ahead of it; the bass and keys may wait for the player's chord (the engine's
/// two lanes). So a step is decoded in two sections: the drums when the drummer decides, with the condition
/// known then; the rest when the bass or keys decide. If the condition has changed in between (the chord
/// arrived), the step's tokens are taken back out of the transformer's KV cache and fed again under the
/// chord as heard — the drums stay as drawn — before the bass and keys are drawn. A section no part plays
/// is still decoded, so the stream stays the one the model learned. Sized at init; nothing allocates.
public final class BandDecoder {
    let model: any StreamingModel
    /// The model as a transformer (read once: no casts on the step path), whose steps can be taken back.
    let transformer: Transformer?
    let conditioning: Conditioning?
    let sampler: Sampler
    let biased: UnsafeMutablePointer<Float>
    let bassWeights: UnsafeMutablePointer<Float>, keysWeights: UnsafeMutablePointer<Float>
    var rng: SeededRandom
    /// The temperature and nucleus of each section, from the parts that play it (the model's own when none).
    var drumsSettings: (temperature: Double, topP: Double) = (1, 1)
    var bassSettings: (temperature: Double, topP: Double) = (1, 1)
    var keysSettings: (temperature: Double, topP: Double) = (1, 1)

    /// The step being decoded, and which of its sections are drawn.
    private(set) var step: Int64 = .min
    private(set) var drumsDrawn = false, restDrawn = false
    /// The step's tokens fed so far (the STEP that opened it first) and the condition they were fed under.
    private var fed = InlineArray<30, Int32>(repeating: 0)
    private var fedCount = 0
    private var condition = FeatureList()
    /// The latest context, to finish a step whose bass and keys no part asked for.
    private var lastContext = PartContext()
    private var lastStyle: Int? = nil
    private var started = false
    /// Steps whose tokens were fed again because the condition changed after the drums were drawn.
    private(set) var refedSteps = 0

    /// The step's draws: GM drum notes, the bass event (0 none, 1 release, 2 + pitch strike), the keys
    /// released and struck, and the keys sounding after the step as the model has them.
    private(set) var drums = FeatureList()
    private(set) var bassEvent = 0
    private(set) var keysReleased = FeatureList()
    private(set) var keysStruck = FeatureList()
    private(set) var keysSounding = PitchSet()
    private(set) var bassSounding: UInt8? = nil

    static let maxDrums = 8
    static let maxKeyEvents = 16
    /// The step's tokens at most: STEP, the drums, a bass event, the keys' events (the `fed` array's size).
    static let capacity = 30
    static let masked: Float = -1e9

    init(model: any StreamingModel, conditioning: Conditioning?, seed: UInt64) {
        self.model = model
        transformer = model as? Transformer
        self.conditioning = conditioning
        let n = model.outputSize
        sampler = Sampler(count: n)
        biased = .allocate(capacity: n)
        biased.initialize(repeating: 0, count: n)
        bassWeights = .allocate(capacity: 12)
        bassWeights.initialize(repeating: 0, count: 12)
        keysWeights = .allocate(capacity: 12)
        keysWeights.initialize(repeating: 0, count: 12)
        rng = SeededRandom(seed: seed)
    }

    deinit {
        biased.deallocate()
        bassWeights.deallocate()
        keysWeights.deallocate()
    }

    /// A part joins: its section is drawn at its temperature and nucleus.
    func seat(_ settings: PartSettings) {
        let s = (settings.temperature, settings.topP)
        switch settings.role {
        case .drums: drumsSettings = s
        case .bass: bassSettings = s
        default: keysSettings = s
        }
    }

    /// Back to the start of a piece. Every part of the band calls it on the same step (a section, a style);
    /// the second call finds nothing to undo.
    func reset() {
        model.reset()
        started = false
        step = .min
        drumsDrawn = false
        restDrawn = false
        fedCount = 0
        keysSounding = PitchSet()
        bassSounding = nil
    }

    /// Draws the step's drums (once per step; a later call reads them). `scale`: the calling part's
    /// temperature over its own setting (the band's temperature control, main B), applied to every section.
    func drawDrums(step s: Int64, context: PartContext, style: Int?, scale: Double, fill: DrumSection, timer: (any ModelStepTimer)?) {
        open(s, context: context, style: style, timer: timer)
        guard !drumsDrawn else { return }
        drumsDrawn = true
        drums = FeatureList()
        let t = Float(max(0.01, drumsSettings.temperature * scale))
        var lowest = EnsembleVocabulary.firstDrum
        while drums.count < Self.maxDrums {
            let logits = model.logits
            for c in 0..<logits.count { biased[c] = logits[c] }
            // Kit pieces come lowest first; whatever is not a drum says the drums are done.
            for c in EnsembleVocabulary.firstDrum..<EnsembleVocabulary.firstBassOn {
                biased[c] = c < lowest ? Self.masked : biased[c] + fill.pull(on: EnsembleVocabulary.kit.lowerBound + c - EnsembleVocabulary.firstDrum)
            }
            let c = sampler.sampleEvent(biased, temperature: t, topP: Float(drumsSettings.topP), rng: &rng)
            guard c >= lowest, c < EnsembleVocabulary.firstBassOn else { break }
            drums.append(EnsembleVocabulary.kit.lowerBound + c - EnsembleVocabulary.firstDrum)
            feed(c, timer: timer)
            lowest = c + 1
        }
    }

    /// Draws the step's bass and keys (once per step), after its drums, under the condition `context` gives.
    func drawRest(step s: Int64, context: PartContext, style: Int?, scale: Double, timer: (any ModelStepTimer)?) {
        if step != s || !drumsDrawn { drawDrums(step: s, context: context, style: style, scale: scale, fill: .mainA, timer: timer) }
        guard !restDrawn else { return }
        restDrawn = true
        lastContext = context
        lastStyle = style
        let now = conditionUnits(context, style: style)
        if now != condition, let transformer, fedCount <= Transformer.rewindable {
            // The chord came after the drums were drawn: the step's tokens again, under it.
            transformer.rewind(fedCount)
            refedSteps += 1
            condition = now
            let tokens = fedCount
            fedCount = 0
            for k in 0..<tokens { feed(Int(fed[k]), timer: timer) }
        }
        drawBass(context: context, scale: scale, timer: timer)
        drawKeys(context: context, scale: scale, timer: timer)
    }

    /// Opens step `s`: finishes the step before (its bass and keys, if no part drew them), then feeds the
    /// STEP that closes it under this step's condition, as training fed it.
    private func open(_ s: Int64, context: PartContext, style: Int?, timer: (any ModelStepTimer)?) {
        guard step != s else { return }
        if started, !restDrawn { drawRest(step: step, context: lastContext, style: lastStyle, scale: 1, timer: timer) }
        step = s
        drumsDrawn = false
        restDrawn = false
        lastContext = context
        lastStyle = style
        condition = conditionUnits(context, style: style)
        fedCount = 0
        started = true
        feed(EnsembleVocabulary.step, timer: timer)
    }

    private func conditionUnits(_ context: PartContext, style: Int?) -> FeatureList {
        var units = FeatureList()
        if let conditioning { context.conditionUnits(conditioning, style: style, offset: 0, into: &units) }
        return units
    }

    private func feed(_ token: Int, timer: (any ModelStepTimer)?) {
        var input = FeatureList(oneHot: token)
        for k in 0..<condition.count { input.append(EnsembleVocabulary.classes + Int(condition.indices[k])) }
        _ = timer?.time { model.step(input) } ?? model.step(input)
        if fedCount < Self.capacity {
            fed[fedCount] = Int32(token)
            fedCount += 1
        }
    }

    /// One bass event or none. At a chord change a bass still holding a note off the new root is pushed to
    /// move (holding it left the old root under the new chord).
    private func drawBass(context: PartContext, scale: Double, timer: (any ModelStepTimer)?) {
        context.classWeights(for: .bass, into: bassWeights)
        let logits = model.logits
        let stuck = context.chordChanged && context.chordRoot != nil && bassSounding.map { Int($0) % 12 != context.chordRoot! } == true
        for c in 0..<logits.count {
            switch c {
            case EnsembleVocabulary.bassOff: biased[c] = logits[c]
            case EnsembleVocabulary.firstDrum..<EnsembleVocabulary.firstBassOn: biased[c] = Self.masked
            case EnsembleVocabulary.firstBassOn..<EnsembleVocabulary.firstKeysOn:
                biased[c] = logits[c] + bassWeights[(c - EnsembleVocabulary.firstBassOn + 21) % 12]
            case EnsembleVocabulary.firstKeysOff..<EnsembleVocabulary.classes
                where !keysSounding.contains(UInt8(c - EnsembleVocabulary.firstKeysOff + 21)):
                biased[c] = Self.masked
            default: biased[c] = logits[c] - (stuck ? 3 : 0)
            }
        }
        keepMass(of: EnsembleVocabulary.firstBassOn..<EnsembleVocabulary.firstKeysOn, logits)
        let t = Float(max(0.01, bassSettings.temperature * scale))
        let c = sampler.sampleEvent(biased, temperature: t, topP: Float(bassSettings.topP), rng: &rng)
        switch EnsembleVocabulary.event(at: c) {
        case .bassOff:
            bassEvent = 1
            bassSounding = nil
            feed(c, timer: timer)
        case .bassOn(let p):
            bassEvent = PartVocabulary.firstPitchIndex + Int(p)
            bassSounding = p
            feed(c, timer: timer)
        default:
            bassEvent = 0
        }
    }

    /// Shifts the biased logits of `classes` by one amount so that together they are as likely as the model
    /// made them: the context's pull chooses which pitch, not whether one is struck. A pull added to every
    /// chord tone over five octaves made "one more key" e times likelier than STEP at each draw, and the keys
    /// struck 8 or 9 notes at a time where the data strikes 2.6.
    private func keepMass(of classes: Range<Int>, _ logits: UnsafeBufferPointer<Float>) {
        guard !classes.isEmpty else { return }
        var peak = -Float.infinity
        for c in classes where biased[c] > Self.masked / 2 { peak = max(peak, logits[c], biased[c]) }
        guard peak > -Float.infinity else { return }
        var before: Float = 0, after: Float = 0
        for c in classes where biased[c] > Self.masked / 2 {
            before += expf(logits[c] - peak)
            after += expf(biased[c] - peak)
        }
        guard before > 0, after > 0 else { return }
        let shift = logf(after / before)
        for c in classes where biased[c] > Self.masked / 2 { biased[c] -= shift }
    }

    /// The keys' releases (of keys sounding, lowest first), then their strikes (lowest first), until STEP.
    private func drawKeys(context: PartContext, scale: Double, timer: (any ModelStepTimer)?) {
        context.classWeights(for: .chords, into: keysWeights)
        keysReleased = FeatureList()
        keysStruck = FeatureList()
        let t = Float(max(0.01, keysSettings.temperature * scale))
        var lowestRelease = EnsembleVocabulary.firstKeysOff, lowestStrike = EnsembleVocabulary.firstKeysOn
        var releasing = true
        for _ in 0..<Self.maxKeyEvents {
            let logits = model.logits
            for c in 0..<EnsembleVocabulary.firstKeysOn { biased[c] = c == EnsembleVocabulary.step ? logits[c] : Self.masked }
            for c in EnsembleVocabulary.firstKeysOn..<EnsembleVocabulary.firstKeysOff {
                let pitch = c - EnsembleVocabulary.firstKeysOn + 21
                biased[c] = c < lowestStrike ? Self.masked : logits[c] + keysWeights[pitch % 12]
            }
            for c in EnsembleVocabulary.firstKeysOff..<EnsembleVocabulary.classes {
                let pitch = UInt8(c - EnsembleVocabulary.firstKeysOff + 21)
                biased[c] = releasing && c >= lowestRelease && keysSounding.contains(pitch) ? logits[c] : Self.masked
            }
            keepMass(of: lowestStrike..<EnsembleVocabulary.firstKeysOff, logits)
            let c = sampler.sampleEvent(biased, temperature: t, topP: Float(keysSettings.topP), rng: &rng)
            switch EnsembleVocabulary.event(at: c) {
            case .keysOff(let p) where releasing && c >= lowestRelease && keysSounding.contains(p):
                keysReleased.append(Int(p))
                keysSounding.remove(p)
                lowestRelease = c + 1
            case .keysOn(let p) where c >= lowestStrike:
                keysStruck.append(Int(p))
                keysSounding.insert(p)
                releasing = false
                lowestStrike = c + 1
            default:
                return
            }
            feed(c, timer: timer)
        }
    }
}
