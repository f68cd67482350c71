import MIDI
import Music
import Neural
import Service

#if canImport(Glibc)
    import Glibc
#endif

/// One member of the band: its settings, its model and sampler, and the notes it has sounding.
///
/// A step goes: `advance()` feeds the model what happened on the part's previous step and keeps the
/// logits; then either `choose` draws the part's own step (its output becomes the next input), or, for a
/// continuation that is listening, `listen` makes the player's event the next input (priming). `render`
/// turns a choice into note-ons and note-offs at frames; the part remembers what it has sounding, so mute,
/// mode changes and stop end exactly those notes. Buffers are sized at init: nothing here allocates.
public final class Part: @unchecked Sendable {
    // @unchecked: a part is used only by the engine thread that owns its MusicalEngine.
    public let settings: PartSettings
    public let vocabulary: PartVocabulary
    /// Output port index (0 with one port for all parts).
    public let port: Int
    let model: any StreamingModel
    /// The model as a Lookback RNN (read once: no casts on the step path), whose bars follow the meter.
    let lookback: LookbackRNN?
    /// True from a reset until the first step: that step sets the Lookback bar from the grid.
    var barPending = false
    /// What the model takes beside its own previous output (nil: nothing), at input index `conditionOffset`.
    public let conditioning: Conditioning?
    let conditionOffset: Int
    let sampler: Sampler
    /// The model's NADE chain (nade_chain head): it draws the set from the biased [b | c] logits.
    let chain: NADEChain?
    /// The model's logits for the step being decided, and the same after the context's bias.
    let raw: UnsafeMutablePointer<Float>
    let biased: UnsafeMutablePointer<Float>
    let classWeights: UnsafeMutablePointer<Float>
    /// Frame of each sounding pitch's note-on: a note-off is never written at or before it.
    let onFrames: UnsafeMutablePointer<UInt64>
    /// Frame of each pitch's latest note-off: its next note-on comes after it, whatever order a scheduler
    /// keeps for messages at one frame.
    let offFrames: UnsafeMutablePointer<UInt64>
    let seed: UInt64
    var rng: SeededRandom
    var humanizer: Humanizer
    /// What the model is fed at its next step.
    var input = FeatureList()
    public var muted = false
    /// 16th steps since the player last had a melody note (the voices under it rest after a beat of none).
    var stepsWithoutMelody = 0
    /// The voices' latest step with the melody above it, and the step before the one being decided (what
    /// its voice leading is judged against; a reaction redraws the same step against the same one).
    var stepVoices = FourVoices.silent
    var voicesBeforeStep = FourVoices.silent
    /// Draws a voices step gets before one with parallel fifths or octaves is kept (VoiceLeading).
    public static let voiceLeadingDraws = 8
    public private(set) var sounding = PitchSet()
    /// The part's output on its latest step, and on the one before (what the other parts hear).
    public private(set) var output = PitchSet()
    public private(set) var previousOutput = PitchSet()
    /// Notes started on the latest step (a reaction may take them back).
    var startedOnStep = PitchSet()
    public private(set) var lastChoice = FeatureList()

    public init(
        settings: PartSettings, model: any StreamingModel, conditioning: Conditioning? = nil, port: Int, seed: UInt64,
        sampleRate: Double = 48000
    ) throws(WeightsError) {
        vocabulary = try PartVocabulary.of(model)
        let needed = PartVocabulary.required(by: settings.role)
        guard vocabulary == needed else {
            throw WeightsError("is a \(vocabulary.rawValue) model; a \(settings.role.rawValue) part needs a \(needed.rawValue) model")
        }
        let expectedInputs = vocabulary.baseInputSize + (conditioning?.size ?? 0)
        guard model.family == .lookback || model.inputSize == expectedInputs else {
            throw WeightsError("takes \(model.inputSize) inputs; a \(vocabulary.rawValue) model "
                + (conditioning.map { "conditioned on the \($0.rawValue) " } ?? "") + "takes \(expectedInputs)")
        }
        guard conditioning == nil || settings.role != .continuation else {
            throw WeightsError("is conditioned on the \(conditioning!.rawValue); a continuation is primed with the player's phrase instead")
        }
        self.conditioning = conditioning
        conditionOffset = vocabulary.baseInputSize
        lookback = model as? LookbackRNN
        self.settings = settings
        self.model = model
        self.port = port
        self.seed = seed
        let n = model.outputSize
        sampler = Sampler(count: n)
        chain = model.chain
        raw = .allocate(capacity: n)
        raw.initialize(repeating: 0, count: n)
        biased = .allocate(capacity: n)
        biased.initialize(repeating: 0, count: n)
        classWeights = .allocate(capacity: 12)
        classWeights.initialize(repeating: 0, count: 12)
        onFrames = .allocate(capacity: 128)
        onFrames.initialize(repeating: 0, count: 128)
        offFrames = .allocate(capacity: 128)
        offFrames.initialize(repeating: 0, count: 128)
        rng = SeededRandom(seed: seed)
        humanizer = Humanizer(settings: settings.humanize, grid: settings.grid, sampleRate: sampleRate, seed: seed)
        reset()
    }

    deinit {
        raw.deallocate()
        biased.deallocate()
        classWeights.deallocate()
        onFrames.deallocate()
        offFrames.deallocate()
    }

    public func use(sampleRate: Double) { humanizer.use(sampleRate: sampleRate) }

    public var role: PartRole { settings.role }
    public var channel: MIDIChannel { settings.channel }
    /// True for the parts that follow the player's harmony (they react to an on-step note).
    public var followsPlayer: Bool { role != .continuation && role != .drums }

    /// Back to the start of a piece: zero model state, nothing fed yet (NO_EVENT for events, as a melody
    /// starts; an empty frame for note sets, as training feeds before the first frame). Does not end notes.
    public func reset() {
        model.reset()
        barPending = true
        input = vocabulary == .events ? FeatureList(oneHot: 0) : FeatureList()
        // The primer bar, fed as if the part had played it (its beat positions included): the model
        // leaves it in that style. Its notes are not played.
        for (k, frame) in settings.primer.enumerated() where vocabulary == .noteSets {
            if let conditioning {
                var context = PartContext()
                context.stepInBar = k
                context.conditionUnits(conditioning, offset: conditionOffset, into: &input)
            }
            model.step(input)
            input = FeatureList()
            for pitch in frame {
                let unit = Int(pitch) - PartVocabulary.lowestPianoNote
                if unit >= 0, unit < PartVocabulary.pianoUnits { input.append(unit) }
            }
        }
        lastChoice = input
        output = PitchSet()
        previousOutput = PitchSet()
        stepVoices = .silent
        voicesBeforeStep = .silent
    }

    /// Steps the model on its pending input (with the step's condition from `context`, for a conditioned
    /// model) and keeps the logits for this step.
    func advance(context: PartContext = PartContext()) {
        voicesBeforeStep = stepVoices
        if barPending {
            barPending = false
            // The Lookback features look back by the player's bars, and its step clock counts from their
            // downbeats: the first event fed is the one a grid step before this step.
            lookback?.restart(stepsPerBar: context.stepsPerBar, firstStepInBar: context.stepInBar - settings.grid.stepsOfSixteenth)
        }
        let started = monotonicNanoseconds()
        let logits: UnsafeBufferPointer<Float>
        if let conditioning {
            var stepInput = input
            context.conditionUnits(conditioning, offset: conditionOffset, into: &stepInput)
            logits = model.step(stepInput)
        } else {
            logits = vocabulary == .events ? model.step(event: Int(input.indices[0])) : model.step(input)
        }
        // The metrics' latency histogram: preallocated atomic buckets, so recording here stays real-time safe.
        ServiceMetrics.shared.recordModelStep(nanoseconds: monotonicNanoseconds() &- started)
        raw.update(from: logits.baseAddress!, count: logits.count)
        previousOutput = output
    }

    /// The player's event becomes the next input (a listening continuation, primed with the phrase).
    func listen(_ playerEvent: Int) {
        input = FeatureList(oneHot: playerEvent)
        lastChoice = input
        output = playerEvent >= PartVocabulary.firstPitchIndex ? Self.single(playerEvent - PartVocabulary.firstPitchIndex) : PitchSet()
    }

    /// Draws the step from the kept logits, biased by the context; thins new notes (`keep` = probability a
    /// new note survives), folds pitches into the part's range, and makes the result the next input.
    func choose(context: PartContext, temperature: Double, keep: Double, boost: Float) -> FeatureList {
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
        let n = model.outputSize
        context.classWeights(for: role, into: classWeights)
        let low = Int(settings.lowestNote), high = Int(settings.highestNote)
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
        case .noteSets:
            let units = model.headUnits
            // Voices under the player's melody stay under it: a crossing above the soprano is rare in the
            // chorales and sounds like a wrong note against a player who leads.
            let ceiling = role == .voices ? Int(context.melodyNote ?? 127) : 127
            for u in 0..<units {
                let pitch = u + PartVocabulary.lowestPianoNote
                biased[u] = raw[u] + classWeights[pitch % 12] + boost + (pitch > ceiling ? -6 : 0)
            }
            // A chain's END logit (and a NADE chain's hidden inputs) stay as the model made them.
            for u in units..<n { biased[u] = raw[u] }
        }
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
        case .noteSets where role == .voices:
            // Under the player's melody, a chord that moves in parallel fifths or octaves is drawn again.
            let soprano = context.melodyNote.map(Int.init) ?? -1
            let picked = VoiceLeading.draw(
                attempts: Self.voiceLeadingDraws, after: voicesBeforeStep,
                { drawNoteSet(temperature: t, keep: keep, low: low, high: high) },
                voicing: { drawn in
                    var voices = FourVoices(soprano: soprano)
                    for k in 0..<drawn.count { voices.include(Int(drawn.indices[k]) + PartVocabulary.lowestPianoNote) }
                    return voices
                })
            choice = picked.step
            stepVoices = picked.voices
        case .noteSets:
            choice = drawNoteSet(temperature: t, keep: keep, low: low, high: high)
        }
        input = choice
        lastChoice = choice
        return choice
    }

    /// One draw of a note-set step from the biased logits: folded into the part's range (drums kept
    /// within it), new notes thinned by `keep`, each pitch once.
    private func drawNoteSet(temperature t: Float, keep: Double, low: Int, high: Int) -> FeatureList {
        var choice = FeatureList()
        let drawn: FeatureList
        switch model.head {
        case .nadeChain: drawn = chain!.sample(biased, temperature: t, topP: Float(settings.topP), rng: &rng)
        case .pitchChain: drawn = sampler.sampleChain(biased, temperature: t, topP: Float(settings.topP), rng: &rng)
        case .softmax, .multiHot: drawn = sampler.sampleSet(biased, temperature: t, rng: &rng)
        }
        var taken = PitchSet()
        for k in 0..<drawn.count {
            var pitch = Int(drawn.indices[k]) + PartVocabulary.lowestPianoNote
            if role == .drums {
                guard pitch >= low, pitch <= high else { continue }
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

    /// A set of one pitch, built without an array (this runs on every step).
    static func single(_ pitch: Int) -> PitchSet {
        var set = PitchSet()
        set.insert(UInt8(pitch & 0x7F))
        return set
    }

    /// A pitch moved by octaves into low...high (clamped when the range is under an octave).
    static func fold(_ pitch: Int, _ low: Int, _ high: Int) -> Int {
        var p = pitch
        while p < low { p += 12 }
        while p > high { p -= 12 }
        return max(low, min(high, p))
    }

    /// The pitches a choice sounds from this step on (events: the note struck, the note held, or none).
    func pitches(of choice: FeatureList) -> PitchSet {
        switch vocabulary {
        case .events:
            let e = Int(choice.indices[0])
            if e == 0 { return sounding }
            if e == 1 { return PitchSet() }
            return Self.single(e - PartVocabulary.firstPitchIndex)
        case .noteSets:
            var set = PitchSet()
            for k in 0..<choice.count { set.insert(UInt8(Int(choice.indices[k]) + PartVocabulary.lowestPianoNote)) }
            return set
        }
    }

    /// Writes a choice as notes: what stops sounding ends at the step (one frame before it, so a pitch
    /// struck again cannot lose its new note to its old note-off), new notes start at the humanized frame.
    /// Drums are hits: each ends half a step later. `stepFrame` is the grid frame, `earliest` the first frame
    /// that can still be written.
    func render(
        _ choice: FeatureList, step: Int64, stepFrame: UInt64, earliest: UInt64, framesPerStep: Double,
        velocity: Double, out: inout [ScheduledMessage]
    ) {
        let next = pitches(of: choice)
        var struck = PitchSet()
        if vocabulary == .events {
            let e = Int(choice.indices[0])
            if e >= PartVocabulary.firstPitchIndex { struck = next }
        } else if role == .drums {
            struck = next
        } else {
            struck = next.subtracting(sounding)
        }
        let offFrame = max(earliest, stepFrame > 0 ? stepFrame - 1 : 0)
        // What ends: notes not in the next set, and notes struck again.
        var ending = sounding
        while let p = ending.lowest {
            ending.remove(p)
            if !next.contains(p) || struck.contains(p) { end(p, at: offFrame, out: &out) }
        }
        startedOnStep = PitchSet()
        var starting = struck
        while let p = starting.lowest {
            starting.remove(p)
            var at = humanizer.onFrame(step: step, frame: stepFrame, framesPerStep: framesPerStep, earliest: earliest)
            if offFrames[Int(p)] >= at { at = offFrames[Int(p)] + 1 }
            let v = humanizer.velocity(velocity)
            out.append(ScheduledMessage(frame: at, port: port, message: .noteOn(channel: channel, note: p, velocity: v)))
            onFrames[Int(p)] = at
            if role == .drums {
                let length = max(1, UInt64(saturating: framesPerStep * Double(settings.grid.stepsOfSixteenth) / 2))
                out.append(ScheduledMessage(frame: at + length, port: port, message: .noteOff(channel: channel, note: p, velocity: 0)))
                offFrames[Int(p)] = at + length
            } else {
                sounding.insert(p)
                startedOnStep.insert(p)
            }
        }
        output = role == .drums ? next : sounding
    }

    private func end(_ pitch: UInt8, at frame: UInt64, out: inout [ScheduledMessage]) {
        guard sounding.contains(pitch) else { return }
        let at = max(frame, onFrames[Int(pitch)] + 1)
        out.append(ScheduledMessage(frame: at, port: port, message: .noteOff(channel: channel, note: pitch, velocity: 0)))
        offFrames[Int(pitch)] = at
        sounding.remove(pitch)
    }

    /// Ends the notes the latest step started that a reaction's redraw does not keep: a kept pitch sounds on
    /// rather than being struck twice.
    func takeBackStep(at frame: UInt64, keeping kept: PitchSet, out: inout [ScheduledMessage]) {
        var started = startedOnStep.subtracting(kept)
        while let p = started.lowest {
            started.remove(p)
            end(p, at: frame, out: &out)
        }
        startedOnStep = PitchSet()
    }

    /// Ends every note the part has sounding, at `frame` or later.
    /// The clock went back (a restarted server seen without the ports' monotonic clock): frames from
    /// before mean nothing now. Ends every sounding note at `frame` itself, not after when it started,
    /// and forgets when notes started and ended, so no note-off waits for a frame of the old clock.
    public func clockWentBack(to frame: UInt64, out: inout [ScheduledMessage]) {
        var left = sounding
        while let p = left.lowest {
            left.remove(p)
            out.append(ScheduledMessage(frame: frame, port: port, message: .noteOff(channel: channel, note: p, velocity: 0)))
        }
        sounding = PitchSet()
        output = PitchSet()
        onFrames.update(repeating: 0, count: 128)
        offFrames.update(repeating: 0, count: 128)
    }

    public func silence(at frame: UInt64, out: inout [ScheduledMessage]) {
        var left = sounding
        while let p = left.lowest {
            left.remove(p)
            end(p, at: frame, out: &out)
        }
        output = PitchSet()
    }
}

extension PitchSet {
    /// Pitches in self and not in `other`, as a set (no array).
    func subtracting(_ other: PitchSet) -> PitchSet {
        var result = PitchSet()
        result.low = low & ~other.low
        result.high = high & ~other.high
        return result
    }
}

/// CLOCK_MONOTONIC in nanoseconds (a vDSO call: no syscall, no allocation).
@inline(__always)
func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
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
