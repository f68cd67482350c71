import MIDI
import Music

/// What the player does: notes and controllers heard, and the continuation they prime and stop.
extension MusicalEngine {
    mutating func hear(_ event: TimedMIDIMessage, _ session: inout Session, earliest: UInt64, output: inout [ScheduledMessage]) {
        let message = event.message
        let isStrike = message.isSoundingNoteOn && (preset.listener.inputChannel == nil || message.channel == preset.listener.inputChannel)
        if isStrike, session.transport.source == .fixed, !session.transport.isRunning { startGrid(at: event.time, &session) }
        session.transport.receive(message, at: event.time)
        drainBoundaries(&session, through: event.time, earliest: earliest, output: &output)
        let heard = session.listener.receive(message, at: event.time, transport: session.transport)
        if case .controlChange(_, let controller, let value) = message, controller != preset.controls.phraseEnd {
            control(controls.handle(controller: controller, value: value), next: session.schedule.next, earliest: earliest, output: &output)
        }
        if case .programChange(_, let program) = message, picksStyle(message) {
            control(.style(Int(program)), next: session.schedule.next, earliest: earliest, output: &output)
        }
        if isStrike {
            if case .noteOn(_, _, let v) = message { playerVelocity = 0.7 * playerVelocity + 0.3 * Double(v) }
            // The player always wins: the answer stops the moment they play again.
            if answer.stepsLeft > 0 { stopContinuation(at: earliest, output: &output) }
        }
        if heard.phraseStarted { primeContinuation() }
        if heard.phraseEnded { startContinuation() }
        // The player's own chord overrules what their loop led the band to expect, unless every key struck
        // on the step belongs to the expected chord.
        if isStrike, let expected = expectedChord, let placement = heard.placement,
            let struck = session.listener.chordNotes(atStep: placement.step)?.struck.pitchClasses, !expected.contains(pitchClasses: struck)
        {
            expectedChord = nil
        }
        if let placement = heard.placement, placement.isOnStep, isStrike {
            if session.schedule.heardNote(onStep: placement.step) {
                decide(through: placement.step, &session, earliest: earliest, output: &output)
            }
            // A harmony step held back for this note is due once the chord is whole (end of the cycle). A split
            // keyboard's melody hand strikes no chord (unless the harmony follows the melody note).
            if case .noteOn(_, let note, _) = message, session.schedule.heldHarmony == placement.step,
                session.listener.split.chordHand.contains(note & 0x7F) || session.schedule.harmony?.everyStep == true
            {
                let struck = session.listener.chordNotes(atStep: placement.step)?.struck.count ?? 1
                session.schedule.heardStrike(
                    onStep: placement.step, at: event.time, struckOnStep: struck, wholeChord: wholeChord(before: placement.step, session.listener))
            }
        }
    }

    /// `next`: the step the parts decide next (a fill runs from its bar).
    private mutating func control(_ action: PerformanceControls.Action, next: Int64, earliest: UInt64, output: inout [ScheduledMessage]) {
        switch action {
        case .none: break
        case .learning(let on): learnObserver?.learning(on)
        case .learned(let function, let controller): learnObserver?.learned(function, controller: controller)
        case .temperature(let scale): directions.temperatureScale = scale
        case .density(let k): directions.keep = k
        case .mode(let newMode):
            guard newMode != mode else { return }
            mode = newMode
            if !mode.answers, answer.stepsLeft > 0 { stopContinuation(at: earliest, output: &output) }
            if !mode.accompanies {
                for part in parts where !part.role.answersPhrases { part.silence(at: earliest, out: &output) }
            }
        case .panic:
            answer.stepsLeft = 0
            for i in parts.indices {
                parts[i].silence(at: earliest, out: &output)
                answer.listening[i] = true
            }
        // As an arranger's buttons: a fill to the end of this bar, or of the next when less than half of this
        // one is left, the drums landing on the downbeat after it with a crash; there the next section
        // (main A and B in turn) begins, or the ending rings and stops.
        case .nextSection:
            directions.fillUntil = landing(after: next)
            directions.sectionAt = directions.fillUntil
        case .fill: directions.fillUntil = landing(after: next)
        case .ending:
            directions.fillUntil = landing(after: next)
            directions.endingAt = directions.fillUntil
        case .intro: directions.introArmed.toggle()
        case .groove(let target): directions.grooveTarget = target
        case .style(let number):
            guard let style = styleBank.style(number: number) else { return }
            directions.choose(style: style, from: nextDownbeat(from: next))
        case .mute(let index, let muted):
            guard parts[index].muted != muted else { return }
            parts[index].muted = muted
            if muted { parts[index].silence(at: earliest, out: &output) }
        }
    }

    /// The first downbeat the parts have not decided yet.
    private func nextDownbeat(from next: Int64) -> Int64 {
        let bar = Int64(preset.transport.meter.stepsPerBar)
        return (max(next, 0) + bar - 1) / bar * bar
    }

    /// The downbeat a fill asked for at `next` lands on.
    private func landing(after next: Int64) -> Int64 {
        let bar = Int64(preset.transport.meter.stepsPerBar)
        let now = max(next, 0)
        return (now / bar + (now % bar < bar / 2 ? 1 : 2)) * bar
    }

    // MARK: - Continuation

    private mutating func primeContinuation() {
        for (i, part) in parts.enumerated() where part.role.answersPhrases {
            part.reset()
            answer.listening[i] = true
        }
        answer.playerWasSounding = false
    }

    mutating func startContinuation() {
        guard mode.answers, parts.contains(where: { $0.role.answersPhrases }) else { return }
        answer.stepsLeft = preset.performance.continuationBars * preset.transport.meter.stepsPerBar
    }

    private mutating func stopContinuation(at frame: UInt64, output: inout [ScheduledMessage]) {
        answer.stepsLeft = 0
        for part in parts where part.role.answersPhrases { part.silence(at: frame, out: &output) }
    }
}

/// What the player asks of the band through the performance controllers, besides mode, mutes and panic.
struct Directions {
    /// Scales every part's temperature: how far the band strays from its likeliest notes.
    var temperatureScale = 1.0
    /// Where the groove drummers head (0: their `from` groove, 1: their `to`); nil until the controller
    /// moves, while each glides from one to the other once.
    var grooveTarget: Double? = nil
    /// The chance a new note survives the draw: how dense the band plays.
    var keep = 1.0
    /// The drums fill until this step (the end of the bar asked in, or of the next), and land on it.
    var fillUntil: Int64 = .min

    /// What the drums play at `step`: a fill, its landing, the intro (its last half bar a fill into the
    /// groove), or the groove of the section (A or B).
    func section(at step: Int64, stepsPerBar: Int) -> DrumSection {
        if step == fillUntil || step == introUntil { return .landing }
        if step < fillUntil { return .fill }
        if step < introUntil { return step >= introUntil - Int64(stepsPerBar / 2) ? .fill : .intro }
        return mainB ? .mainB : .mainA
    }
    /// The intro runs until this downbeat (from the first bar the band plays after it starts).
    var introUntil: Int64 = .min
    /// The band has (re)started and its first step is still to come: that step's bar opens the intro.
    var songStarting = true
    /// The intro button: the band opens with its intro (performance.intro_bars) when it starts.
    var introArmed = true
    /// The downbeat the next section begins on (after its fill), and whether the band plays main B.
    var sectionAt: Int64 = .max
    var mainB = false
    /// Main B's temperature, against main A's, for the parts that are not drums.
    static let mainBTemperature = 1.15
    /// The ending's landing: the band plays nothing new after it, and stops half a bar later.
    var endingAt: Int64 = .max

    /// The band's style (StyleBank number) from step `styleFrom` on, and the one it played before.
    var style: Int? = nil
    var styleFrom: Int64 = .min
    var earlierStyle: Int? = nil

    /// The style the parts play at `step`.
    func style(at step: Int64) -> Int? { step >= styleFrom ? style : earlierStyle }

    /// The band plays `style` from the downbeat `step` on (as an arranger switches at the bar line).
    mutating func choose(style newStyle: Int, from step: Int64) {
        if step > styleFrom { earlierStyle = style }
        style = newStyle
        styleFrom = step
    }
}
