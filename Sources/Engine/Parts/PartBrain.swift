import MIDI
import Music
import Neural

/// What a part thinks: its model fed step by step, the context's bias on the model's logits, and the
/// draw of the step from them. It knows nothing of frames or notes sounding; the hands play what it draws.
///
/// A step goes: `advance` feeds the model what happened on the part's previous step and keeps the logits;
/// then either `choose` draws the part's own step (which becomes the next input), or, for a continuation
/// that is listening, `listen` makes the player's event the next input (priming). Buffers are sized at
/// init: nothing here allocates.
final class PartBrain {
    let settings: PartSettings
    let vocabulary: PartVocabulary
    /// The step model (nil for a variation part, whose phrase plays the MusicVAE's answer).
    let model: (any StreamingModel)?
    /// The model when its inputs look back by the player's bars (Lookback features), else nil: read once, so
    /// the step path asks nothing of the model to know.
    let barReader: (any StreamingModel)?
    /// True from a reset until the first step: that step sets the Lookback bar from the grid.
    var barPending = false
    /// What the model takes beside its own previous output (nil: nothing), at input index `conditionOffset`.
    let conditioning: Conditioning?
    let conditionOffset: Int
    /// The model's style unit for each style of the band's bank (-1: a style it did not learn).
    var styleUnits: [Int] = []
    /// The band's style at the latest step: a primer after a reset is heard in it.
    var primerStyle: Int? = nil
    let sampler: Sampler
    /// The model's NADE chain (nade_chain head): it draws the set from the biased [b | c] logits.
    let chain: NADEChain?
    /// The model's logits for the step being decided, and the same after the context's bias.
    let raw: UnsafeMutablePointer<Float>
    let biased: UnsafeMutablePointer<Float>
    let classWeights: UnsafeMutablePointer<Float>
    var rng: SeededRandom
    /// What the model is fed at its next step.
    var input = FeatureList()
    /// A drum step's hits as drawn, before the density control thinned them (what the drummer meant).
    var drumsDrawn = FeatureList()
    /// The drummer's kit, where the preset gives one: the groove is drawn as learned and played on it.
    let kit: DrumKit?
    /// The step drawn (or heard, while listening) last: a reaction compares its redraw with it.
    var lastChoice = FeatureList()
    /// 16th steps since the player last had a melody note (the voices under it rest after a beat of none).
    var stepsWithoutMelody = 0
    /// The voices' latest step with the melody above it, and the step before the one being decided (what
    /// its voice leading is judged against; a reaction redraws the same step against the same one).
    var stepVoices = FourVoices.silent
    var voicesBeforeStep = FourVoices.silent
    /// The decoder of a band model this part plays a share of (vocabulary `ensemble`), shared with the
    /// band's other parts; nil for a part with a model of its own.
    let band: BandDecoder?

    let phrase: PhraseVariation?
    let groove: GrooveMorph?
    let lead: BarLead?
    /// The model's outputs (the logits `raw` and `biased` hold).
    let outputs: Int

    init(settings: PartSettings, vocabulary: PartVocabulary, model: (any StreamingModel)?, conditioning: Conditioning?, seed: UInt64,
         band: BandDecoder? = nil, phrase: PhraseVariation? = nil, groove: GrooveMorph? = nil, lead: BarLead? = nil) {
        precondition((model == nil) == (phrase != nil || groove != nil || lead != nil), "a part plays a step model, a MusicVAE or a MidiNet")
        self.settings = settings
        self.vocabulary = vocabulary
        self.model = model
        self.band = band
        self.phrase = phrase
        self.groove = groove
        self.lead = lead
        kit = settings.kit.map(DrumKit.init)
        band?.seat(settings)
        self.conditioning = conditioning
        conditionOffset = (model?.inputSize ?? vocabulary.baseInputSize) - (conditioning?.size ?? 0)
        barReader = model?.readsBars == true ? model : nil
        let n = model?.outputSize ?? phrase?.classes ?? lead?.classes ?? PartVocabulary.pianoUnits
        outputs = n
        sampler = Sampler(count: n)
        chain = model?.chain
        raw = .allocate(capacity: n)
        raw.initialize(repeating: 0, count: n)
        biased = .allocate(capacity: n)
        biased.initialize(repeating: 0, count: n)
        classWeights = .allocate(capacity: 12)
        classWeights.initialize(repeating: 0, count: 12)
        rng = SeededRandom(seed: seed)
    }

    deinit {
        raw.deallocate()
        biased.deallocate()
        classWeights.deallocate()
    }

    var role: PartRole { settings.role }

    /// Back to the start of a piece: zero model state, nothing fed yet (NO_EVENT for events, as a melody
    /// starts; an empty frame for note sets, as training feeds before the first frame).
    func reset() {
        if let band {
            band.reset()
            lastChoice = FeatureList()
            return
        }
        if let groove {
            groove.reset()
            input = FeatureList()
            lastChoice = input
            return
        }
        if let phrase {
            phrase.reset()
            input = FeatureList(oneHot: 0)
            lastChoice = input
            return
        }
        if let lead {
            lead.reset()
            input = FeatureList(oneHot: 0)
            lastChoice = input
            return
        }
        model!.reset()
        barPending = true
        input = vocabulary == .events ? FeatureList(oneHot: 0) : FeatureList()
        // The primer bar, fed as if the part had played it (its beat positions included): the model
        // leaves it in that style. Its notes are not played.
        // An onset and hold model hears the primer's notes as struck on their steps.
        for (k, frame) in settings.primer.enumerated() where vocabulary != .events {
            if let conditioning {
                var context = PartContext()
                context.stepInBar = k
                context.conditionUnits(conditioning, style: styleUnit(primerStyle), offset: conditionOffset, into: &input)
            }
            model!.step(input)
            input = FeatureList()
            for pitch in frame {
                let unit = Int(pitch) - PartVocabulary.lowestPianoNote
                if unit >= 0, unit < PartVocabulary.pianoUnits { input.append(unit) }
            }
        }
        lastChoice = input
        stepVoices = .silent
        voicesBeforeStep = .silent
    }

    /// Steps the model on its pending input (with the step's condition from `context`, for a conditioned
    /// model) and keeps the logits for this step.
    func advance(context: PartContext, timer: (any ModelStepTimer)?) {
        voicesBeforeStep = stepVoices
        // A band model's share is decoded when the part chooses (it needs the step's temperature and fill).
        guard band == nil, groove == nil, lead == nil else { return }
        if let phrase {
            phrase.keyClasses = context.keyClasses
            phrase.advance(step: context.step)
            return
        }
        if barPending {
            barPending = false
            // The Lookback features look back by the player's bars, and its step clock counts from their
            // downbeats: the first event fed is the one a grid step before this step.
            barReader?.restart(stepsPerBar: context.stepsPerBar, firstStepInBar: context.stepInBar - settings.grid.stepsOfSixteenth)
        }
        let logits = timer?.time { step(context: context) } ?? step(context: context)
        raw.update(from: logits.baseAddress!, count: logits.count)
    }

    private func step(context: PartContext) -> UnsafeBufferPointer<Float> {
        primerStyle = context.style
        if let conditioning {
            var stepInput = vocabulary == .events ? model!.encode(event: Int(input.indices[0])) : input
            context.conditionUnits(conditioning, style: styleUnit(context.style), offset: conditionOffset, into: &stepInput)
            return model!.step(stepInput)
        }
        return vocabulary == .events ? model!.step(event: Int(input.indices[0])) : model!.step(input)
    }

    /// The model's unit for the bank's style `number`, nil for none or one it did not learn.
    private func styleUnit(_ number: Int?) -> Int? {
        guard let number, number >= 0, number < styleUnits.count, styleUnits[number] >= 0 else { return nil }
        return styleUnits[number]
    }

    /// The player's event becomes the next input (a listening continuation, primed with the phrase).
    func listen(_ playerEvent: Int) {
        phrase?.hear(playerEvent)
        input = FeatureList(oneHot: playerEvent)
        lastChoice = input
    }

    /// Draws the step from the kept logits, biased by the context; thins new notes (`keep` = probability a
    /// new note survives; a note already `sounding` is not new), folds pitches into the part's range, and
    /// makes the result the next input.
    func choose(
        context: PartContext, temperature: Double, keep: Double, fill: DrumSection, sounding: PitchSet, timer: (any ModelStepTimer)? = nil
    ) -> FeatureList {
        if band != nil {
            lastChoice = bandShare(context: context, temperature: temperature, keep: keep, fill: fill, sounding: sounding, timer: timer)
            return lastChoice
        }
        if let groove {
            // The groove's hits, thinned by the density control as any drummer's new notes are.
            var choice = FeatureList()
            let hits = groove.combination(at: context.step, target: context.grooveTarget)
            var taken = PitchSet()
            for k in DrumClasses.byNote where hits & 1 << k != 0 && (keep >= 1 || Double(rng.nextUnit()) < keep) {
                guard let note = onKit(Int(DrumClasses.notes[k])), !taken.contains(UInt8(note)) else { continue }
                taken.insert(UInt8(note))
                choice.append(note - PartVocabulary.lowestPianoNote)
            }
            lastChoice = choice
            return choice
        }
        if role == .voices {
            // Voices under the player's melody rest when the melody does: after a beat without a note (a
            // shorter gap is a breath between notes, and the voices hold through it).
            stepsWithoutMelody = context.melodyNote == nil ? stepsWithoutMelody + settings.grid.stepsOfSixteenth : 0
            if stepsWithoutMelody >= 4 {
                input = FeatureList()
                lastChoice = input
                stepVoices = .silent
                return input
            }
        }
        if let phrase {
            // The answer's event as certain logits: the part's range, density and hands apply as to any line.
            raw.update(repeating: -30, count: outputs)
            raw[phrase.answer(at: context.step)] = 0
        }
        if let lead {
            raw.update(repeating: -30, count: outputs)
            lead.keyClasses = context.keyClasses
            raw[lead.event(at: context.step, chord: context.midiNetChord, upcoming: context.nextBarMidiNetChord)] = 0
        }
        bias(context: context, fill: fill, sounding: sounding)
        let low = Int(settings.lowestNote), high = Int(settings.highestNote)
        var choice = FeatureList()
        let t = Float(max(0.01, temperature))
        switch vocabulary {
        case .events:
            var event = sampler.sampleEvent(biased, temperature: t, topP: Float(settings.topP), rng: &rng)
            if event >= PartVocabulary.firstPitchIndex {
                if keep < 1, Double(rng.nextUnit()) >= keep {
                    event = 0
                } else {
                    event = PartVocabulary.firstPitchIndex + Self.fold(event - PartVocabulary.firstPitchIndex, low, high)
                }
            }
            choice.append(event)
        case .noteSets where role == .voices, .onsetHold where role == .voices:
            // Under the player's melody, a chord that moves in parallel fifths or octaves is drawn again.
            let soprano = context.melodyNote.map(Int.init) ?? -1
            let picked = VoiceLeading.draw(
                attempts: Part.voiceLeadingDraws, after: voicesBeforeStep,
                { drawNoteSet(temperature: t, keep: keep, low: low, high: high, sounding: sounding) },
                voicing: { drawn in
                    var voices = FourVoices(soprano: soprano)
                    for k in 0..<drawn.count { voices.include(PartVocabulary.pitch(ofUnit: Int(drawn.indices[k]))) }
                    return voices
                })
            choice = picked.step
            stepVoices = picked.voices
        case .noteSets, .onsetHold:
            choice = drawNoteSet(temperature: t, keep: keep, low: low, high: high, sounding: sounding)
        case .ensemble:
            break
        }
        // The drummer keeps the groove in its head: the model hears the whole draw, the hands play what the
        // density control leaves of it. Fed the thinned hits, the groove decayed to a hi-hat, and stayed so
        // after the knob came back up, until the next section.
        input = role == .drums ? drumsDrawn : choice
        lastChoice = choice
        return choice
    }

    /// The kept logits plus the context's pull toward the chord, key and band (and a drum fill's colour).
    private func bias(context: PartContext, fill: DrumSection, sounding: PitchSet) {
        let n = outputs
        context.classWeights(for: role, into: classWeights)
        switch vocabulary {
        case .events:
            biased[0] = raw[0]
            biased[1] = raw[1]
            for i in PartVocabulary.firstPitchIndex..<n {
                let pitch = i - PartVocabulary.firstPitchIndex
                var b = classWeights[pitch % 12]
                if role == .counterMelody, context.playerSounding.contains(UInt8(pitch)) || context.bandPrevious.contains(UInt8(pitch)) {
                    b -= 3
                }
                biased[i] = raw[i] + b
            }
            // At a change a bass player moves: holding a note that is not the new chord's root (NO_EVENT
            // keeps it sounding) is what left the old root under the new chord at a third of the changes.
            if role == .bass, context.chordChanged, let held = sounding.lowest, let root = context.chordRoot, Int(held) % 12 != root {
                biased[0] -= 3
            }
        case .ensemble:
            break
        case .noteSets, .onsetHold:
            let units = model!.headUnits
            // Voices under the player's melody stay under it: a crossing above the soprano is rare in the
            // chorales and sounds like a wrong note against a player who leads.
            let ceiling = role == .voices ? Int(context.melodyNote ?? 127) : 127
            // Both halves of an onset and hold frame get their pitch's pull: striking a pitch outside the
            // chord and holding one are alike wrong.
            for u in 0..<units {
                let pitch = PartVocabulary.pitch(ofUnit: u)
                biased[u] = raw[u] + classWeights[pitch % 12] + fill.pull(on: pitch) + (pitch > ceiling ? -6 : 0)
            }
            // A chain's END logit (and a NADE chain's hidden inputs) stay as the model made them.
            for u in units..<n { biased[u] = raw[u] }
        }
    }

    /// One draw of a note-set step from the biased logits: folded into the part's range (drums kept
    /// within it), new notes thinned by `keep`, each pitch once (onset and hold frames: `onsetHoldFrame`).
    private func drawNoteSet(temperature t: Float, keep: Double, low: Int, high: Int, sounding: PitchSet) -> FeatureList {
        let drawn: FeatureList
        switch model!.head {
        case .nadeChain: drawn = chain!.sample(biased, temperature: t, topP: Float(settings.topP), rng: &rng)
        case .pitchChain: drawn = sampler.sampleChain(biased, temperature: t, topP: Float(settings.topP), rng: &rng)
        case .softmax, .multiHot: drawn = sampler.sampleSet(biased, temperature: t, rng: &rng)
        }
        if vocabulary == .onsetHold { return onsetHoldFrame(drawn, keep: keep, low: low, high: high, sounding: sounding) }
        var choice = FeatureList()
        var taken = PitchSet()
        drumsDrawn = FeatureList()
        for k in 0..<drawn.count {
            var pitch = Int(drawn.indices[k]) + PartVocabulary.lowestPianoNote
            if role == .drums {
                guard pitch >= low, pitch <= high else { continue }
                drumsDrawn.append(Int(drawn.indices[k]))
                guard let piece = onKit(pitch) else { continue }
                pitch = piece
            } else {
                pitch = Self.fold(pitch, low, high)
            }
            let isNew = role == .drums || !sounding.contains(UInt8(pitch))
            if isNew, keep < 1, Double(rng.nextUnit()) >= keep { continue }
            let unit = pitch - PartVocabulary.lowestPianoNote
            guard unit >= 0, unit < PartVocabulary.pianoUnits, !taken.contains(UInt8(pitch)) else { continue }
            taken.insert(UInt8(pitch))
            choice.append(unit)
        }
        return choice
    }

    /// An onset and hold draw as played: each unit folded into the range; a struck pitch is thinned by
    /// `keep` (a thinned re-strike of a sounding pitch holds it instead); a held pitch that is not sounding
    /// is dropped, so the model hears what sounds; each pitch once, struck before held (the chain draws
    /// units in ascending order, so the struck half comes first).
    private func onsetHoldFrame(_ drawn: FeatureList, keep: Double, low: Int, high: Int, sounding: PitchSet) -> FeatureList {
        var choice = FeatureList()
        var taken = PitchSet()
        for k in 0..<drawn.count {
            let unit = Int(drawn.indices[k])
            let pitch = Self.fold(PartVocabulary.pitch(ofUnit: unit), low, high)
            let p = UInt8(pitch)
            let key = pitch - PartVocabulary.lowestPianoNote
            guard key >= 0, key < PartVocabulary.pianoUnits, !taken.contains(p) else { continue }
            var held = PartVocabulary.isHeld(unit: unit)
            if !held, keep < 1, Double(rng.nextUnit()) >= keep {
                guard sounding.contains(p) else { continue }
                held = true
            }
            if held, !sounding.contains(p) { continue }
            taken.insert(p)
            choice.append(held ? PartVocabulary.pianoUnits + key : key)
        }
        return choice
    }

    /// This part's share of the band model's step, in the vocabulary its hands play: the drums' hits within
    /// the part's range, the bass event, the keys as an onset and hold set. New notes are thinned by `keep`
    /// (the model has heard them all, as the drummer's whole draw is heard), pitches folded into the range.
    private func bandShare(
        context: PartContext, temperature: Double, keep: Double, fill: DrumSection, sounding: PitchSet, timer: (any ModelStepTimer)?
    ) -> FeatureList {
        let band = band!
        let scale = settings.temperature > 0 ? temperature / settings.temperature : 1
        let style = styleUnit(context.style)
        let low = Int(settings.lowestNote), high = Int(settings.highestNote)
        var choice = FeatureList()
        switch role {
        case .drums:
            band.drawDrums(step: context.step, context: context, style: style, scale: scale, fill: fill, timer: timer)
            var taken = PitchSet()
            for k in 0..<band.drums.count {
                let drawn = Int(band.drums.indices[k])
                guard drawn >= low, drawn <= high, let note = onKit(drawn), !taken.contains(UInt8(note)) else { continue }
                if keep < 1, Double(rng.nextUnit()) >= keep { continue }
                taken.insert(UInt8(note))
                choice.append(note - PartVocabulary.lowestPianoNote)
            }
        case .bass:
            band.drawRest(step: context.step, context: context, style: style, scale: scale, timer: timer)
            var event = band.bassEvent
            if event >= PartVocabulary.firstPitchIndex {
                event = keep < 1 && Double(rng.nextUnit()) >= keep
                    ? 0 : PartVocabulary.firstPitchIndex + Self.fold(event - PartVocabulary.firstPitchIndex, low, high)
            }
            choice.append(event)
        default:
            band.drawRest(step: context.step, context: context, style: style, scale: scale, timer: timer)
            var taken = PitchSet()
            for k in 0..<band.keysStruck.count {
                let pitch = UInt8(Self.fold(Int(band.keysStruck.indices[k]), low, high))
                guard !taken.contains(pitch) else { continue }
                let kept = keep >= 1 || Double(rng.nextUnit()) < keep
                // A thinned strike of a sounding key holds it instead.
                guard kept || sounding.contains(pitch) else { continue }
                taken.insert(pitch)
                choice.append(Int(pitch) - PartVocabulary.lowestPianoNote + (kept ? 0 : PartVocabulary.pianoUnits))
            }
            var held = band.keysSounding
            while let p = held.lowest {
                held.remove(p)
                let pitch = UInt8(Self.fold(Int(p), low, high))
                guard !taken.contains(pitch), sounding.contains(pitch) else { continue }
                taken.insert(pitch)
                choice.append(PartVocabulary.pianoUnits + Int(pitch) - PartVocabulary.lowestPianoNote)
            }
        }
        return choice
    }

    /// The note a drawn drum is played on: itself, or with a kit the kit's like piece (nil: none alike).
    private func onKit(_ note: Int) -> Int? {
        guard let kit else { return note }
        return kit.piece(for: UInt8(note)).map(Int.init)
    }

    /// A pitch moved by octaves into low...high (clamped when the range is under an octave).
    static func fold(_ pitch: Int, _ low: Int, _ high: Int) -> Int {
        var p = pitch
        while p < low { p += 12 }
        while p > high { p -= 12 }
        return max(low, min(high, p))
    }
}
