import MIDI
import Music

/// What a message told the listener.
public struct Heard: Equatable, Sendable {
    /// For a note-on: where it went on the grid (nil while the transport is stopped).
    public var placement: NotePlacement? = nil
    public var phraseStarted = false
    public var phraseEnded = false

    public init(placement: NotePlacement? = nil, phraseStarted: Bool = false, phraseEnded: Bool = false) {
        self.placement = placement
        self.phraseStarted = phraseStarted
        self.phraseEnded = phraseEnded
    }
}

/// The listener's reading at a step boundary.
public struct StepReport: Equatable, Sendable {
    public var step: Int64
    public var key: Key?
    public var chord: Chord?
    public var notesPerBeat: Double
    /// Share of recent steps with an onset, 0...1.
    public var density: Double
    public var inPhrase: Bool
    /// The phrase ended at this boundary (enough silent beats).
    public var phraseEnded: Bool
}

/// Listens to the player: places their notes on the grid, keeps per step what they struck and what
/// sounded (what the parts are conditioned on), and reads key, chord, phrases and density from it.
///
/// The keyboard may be split (`listener.chord_input`): then the chord hand's keys give the band its chord
/// and nothing else, and the notes the parts hear (`notes(atStep:)`, `soundingNow`: the melody they
/// harmonise or answer) are the melody hand's. Key, phrases and density hear both hands.
///
/// Driving it, in frame order with the transport: after each boundary the transport reports, call
/// `beginStep`; for each incoming message, `receive` (after the transport has seen it). Memory is
/// bounded — a ring of `historySteps` steps and fixed-size estimators — and nothing allocates after
/// `init`.
public struct Listener: Sendable {
    public let settings: ListenerSettings
    public let sampleRate: Double
    public let meter: Meter
    /// A controller whose press (value >= 64) ends the phrase at once.
    public let phraseEndController: UInt8?
    public let windowFrames: Double
    public let phraseEndSteps: Int64
    public let historySteps: Int

    private var ring: [StepNotes]
    public private(set) var currentStep: Int64? = nil
    private var strikes = InlineArray<128, UInt8>(repeating: 0)
    private var held = PitchSet()
    /// Released while the sustain pedal was down: still sounding.
    private var sustained = PitchSet()
    private var pedalDown = false
    private var lastSoundingStep = Int64.min / 2

    public private(set) var keyEstimator: KeyEstimator
    private var chordReader: ChordReader
    /// Which keys are the chord hand and which the melody hand.
    public let split: KeyboardSplit
    private var densityMeter: DensityMeter
    /// The chord the band follows, read from the chord hand.
    public var chord: Chord? { chordReader.chord }
    public private(set) var inPhrase = false

    public init(
        settings: ListenerSettings, sampleRate: Double, meter: Meter, phraseEndController: UInt8? = nil,
        historySteps: Int = 256, densityWindowBeats: Int = 8, keyHalfLifeSteps: Double = 128,
        keyProfile: KeyProfile = .temperleyKostkaPayne
    ) {
        self.settings = settings
        self.sampleRate = sampleRate
        self.meter = meter
        self.phraseEndController = phraseEndController
        windowFrames = max(0, settings.onStepWindowMilliseconds) * sampleRate / 1000
        phraseEndSteps = max(1, Int64((settings.phraseEndBeats * Double(meter.stepsPerBeat)).rounded()))
        self.historySteps = max(2, historySteps)
        ring = [StepNotes](repeating: StepNotes(step: Int64.min), count: self.historySteps)
        keyEstimator = KeyEstimator(halfLifeSteps: keyHalfLifeSteps, profile: keyProfile)
        chordReader = ChordReader(settings: settings.chordInput, togetherFrames: windowFrames, stepsPerBeat: meter.stepsPerBeat)
        split = KeyboardSplit(settings.chordInput)
        densityMeter = DensityMeter(windowBeats: densityWindowBeats, stepsPerBeat: meter.stepsPerBeat)
    }

    public mutating func reset() {
        for i in 0..<historySteps { ring[i] = StepNotes(step: Int64.min) }
        currentStep = nil
        for i in 0..<128 { strikes[i] = 0 }
        held = PitchSet()
        sustained = PitchSet()
        pedalDown = false
        lastSoundingStep = Int64.min / 2
        keyEstimator.reset()
        chordReader.reset()
        densityMeter.reset()
        inPhrase = false
    }

    // MARK: - Readings

    public var key: Key? { keyEstimator.key }
    /// The pitch classes of the key heard (0 while none is).
    private var scale: UInt16 { key.map(PartContext.scaleClasses) ?? 0 }
    public var notesPerBeat: Double { densityMeter.notesPerBeat }
    public var density: Double { densityMeter.normalized }
    /// The melody hand's pitches down now (held keys and those the pedal holds): every key's unless the
    /// keyboard is split.
    public var soundingNow: PitchSet { keysDown.intersection(split.melodyHand) }
    /// Every key down now, both hands (and those the pedal holds).
    public var keysDown: PitchSet { held.union(sustained) }

    /// The player's notes on `step` as the parts hear them — the melody hand's, when the keyboard is split
    /// (velocity and onsets count both hands) — if the step is still in the history.
    public func notes(atStep step: Int64) -> StepNotes? { notes(atStep: step, of: split.melodyHand) }

    /// The chord hand's notes on `step` (every key's unless the keyboard is split): what tells that the
    /// player's chord on a step has been struck, and their comping rhythm.
    public func chordNotes(atStep step: Int64) -> StepNotes? { notes(atStep: step, of: split.chordHand) }

    private func notes(atStep step: Int64, of hand: PitchSet) -> StepNotes? {
        guard var r = allNotes(atStep: step) else { return nil }
        r.struck = r.struck.intersection(hand)
        r.sounding = r.sounding.intersection(hand)
        return r
    }

    /// Both hands' notes on `step`, if it is still in the history.
    public func allNotes(atStep step: Int64) -> StepNotes? {
        let r = ring[slot(step)]
        return r.step == step ? r : nil
    }

    private func slot(_ step: Int64) -> Int {
        let n = Int64(historySteps)
        return Int(((step % n) + n) % n)
    }

    /// The record for `step`, started empty if the slot held an older step.
    private mutating func record(_ step: Int64) -> Int {
        let i = slot(step)
        if ring[i].step != step { ring[i] = StepNotes(step: step) }
        return i
    }

    // MARK: - Driving

    /// Takes one of the player's messages at its frame.
    public mutating func receive(_ message: MIDIMessage, at frame: UInt64, transport: Transport) -> Heard {
        if let channel = settings.inputChannel, let c = message.channel, c != channel { return Heard() }
        switch message {
        case .noteOn(_, let note, let velocity) where velocity > 0:
            return strike(note, velocity: velocity, at: frame, transport: transport)
        case .noteOn(_, let note, _), .noteOff(_, let note, _):
            release(note, at: frame, transport: transport)
        case .controlChange(_, let controller, let value):
            return control(controller, value: value, at: frame, transport: transport)
        default:
            break
        }
        return Heard()
    }

    private mutating func strike(_ note: UInt8, velocity: UInt8, at frame: UInt64, transport: Transport) -> Heard {
        let pitch = note & 0x7F
        var heard = Heard()
        if strikes[Int(pitch)] < 255 { strikes[Int(pitch)] += 1 }
        held.insert(pitch)
        sustained.remove(pitch)
        if !inPhrase {
            inPhrase = true
            heard.phraseStarted = true
        }
        let placement = NotePlacement.place(frame: frame, on: transport, windowFrames: windowFrames)
        chordReader.struck(pitch, at: frame, placed: placement != nil, held: held, sustained: sustained, scale: scale)
        guard let placement else { return heard }
        heard.placement = placement
        let i = record(placement.step)
        ring[i].struck.insert(pitch)
        ring[i].velocity = max(ring[i].velocity, velocity)
        ring[i].onsets &+= 1
        lastSoundingStep = max(lastSoundingStep, placement.step)
        if let current = currentStep, placement.step <= current {
            // The step has begun already: the note sounds in it from here on.
            ring[i].sounding.insert(pitch)
        }
        return heard
    }

    private mutating func release(_ note: UInt8, at frame: UInt64, transport: Transport) {
        let pitch = note & 0x7F
        guard strikes[Int(pitch)] > 0 else { return }
        strikes[Int(pitch)] -= 1
        guard strikes[Int(pitch)] == 0 else { return }
        held.remove(pitch)
        if pedalDown {
            sustained.insert(pitch)
        } else {
            ended(pitch, at: frame, transport: transport)
        }
    }

    /// A note stopped sounding. It sounds up to the step its release is placed on (by the same window
    /// rule as onsets), but always in the step it was struck on.
    private mutating func ended(_ pitch: UInt8, at frame: UInt64, transport: Transport) {
        guard let end = NotePlacement.place(frame: frame, on: transport, windowFrames: windowFrames)?.step,
            let current = currentStep
        else { return }
        lastSoundingStep = max(lastSoundingStep, end - 1)
        guard end <= current else { return }
        var step = end
        while step <= current {
            let i = slot(step)
            if ring[i].step == step, !ring[i].struck.contains(pitch) { ring[i].sounding.remove(pitch) }
            step += 1
        }
    }

    private mutating func control(_ controller: UInt8, value: UInt8, at frame: UInt64, transport: Transport) -> Heard {
        var heard = Heard()
        if controller == phraseEndController, value >= 64, inPhrase {
            inPhrase = false
            heard.phraseEnded = true
        }
        switch controller {
        case ControllerNumber.sustainPedal:
            let down = value >= 64
            if pedalDown, !down { releaseSustained(at: frame, transport: transport) }
            pedalDown = down
        case ControllerNumber.allSoundOff, ControllerNumber.allNotesOff:
            for p in 0..<128 where strikes[p] > 0 {
                strikes[p] = 0
                held.remove(UInt8(p))
                if pedalDown && controller == ControllerNumber.allNotesOff {
                    sustained.insert(UInt8(p))
                } else {
                    ended(UInt8(p), at: frame, transport: transport)
                }
            }
            if controller == ControllerNumber.allSoundOff { releaseSustained(at: frame, transport: transport) }
        default:
            break
        }
        return heard
    }

    private mutating func releaseSustained(at frame: UInt64, transport: Transport) {
        var left = sustained
        while let p = left.lowest {
            left.remove(p)
            ended(p, at: frame, transport: transport)
        }
        sustained = PitchSet()
    }

    /// Moves to the step whose boundary the transport has just reported: the step before it is closed
    /// (into the key, chord and density estimates) and the new one starts with every note still down.
    public mutating func beginStep(_ boundary: StepBoundary) -> StepReport {
        let step = boundary.step
        if let current = currentStep {
            if let previous = allNotes(atStep: current) {
                keyEstimator.advance(sounding: previous.sounding.pitchClasses)
                densityMeter.advance(onsets: previous.onsets)
            }
            if step <= current {
                // The grid went back (a restart, a song position): the old steps are another timeline.
                for i in 0..<historySteps { ring[i] = StepNotes(step: Int64.min) }
                lastSoundingStep = Int64.min / 2
            }
        }
        let i = record(step)
        ring[i].sounding = ring[i].struck.union(held).union(sustained)
        currentStep = step
        if !ring[i].sounding.isEmpty { lastSoundingStep = max(lastSoundingStep, step) }
        var ended = false
        if inPhrase, ring[i].sounding.isEmpty, step - (lastSoundingStep + 1) >= phraseEndSteps {
            inPhrase = false
            ended = true
        }
        chordReader.beginStep(struckOnStep: ring[i].struck, held: held, sustained: sustained, scale: scale)
        return StepReport(
            step: step, key: keyEstimator.key, chord: chord, notesPerBeat: densityMeter.notesPerBeat,
            density: densityMeter.normalized, inPhrase: inPhrase, phraseEnded: ended)
    }
}
