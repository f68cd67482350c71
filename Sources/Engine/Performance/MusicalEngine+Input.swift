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
        if isStrike {
            if case .noteOn(_, _, let v) = message { playerVelocity = 0.7 * playerVelocity + 0.3 * Double(v) }
            // The player always wins: the answer stops the moment they play again.
            if continuationLeft > 0 { stopContinuation(at: earliest, output: &output) }
        }
        if heard.phraseStarted { primeContinuation() }
        if heard.phraseEnded { startContinuation() }
        if let placement = heard.placement, placement.isOnStep, isStrike, session.schedule.heardNote(onStep: placement.step) {
            decide(through: placement.step, &session, earliest: earliest, output: &output)
        }
    }

    /// `next`: the step the parts decide next (a fill runs from its bar).
    private mutating func control(_ action: PerformanceControls.Action, next: Int64, earliest: UInt64, output: inout [ScheduledMessage]) {
        switch action {
        case .none, .learning, .learned: break
        case .temperature(let scale): temperatureScale = scale
        case .density(let k): keep = k
        case .mode(let newMode):
            guard newMode != mode else { return }
            mode = newMode
            if !mode.answers, continuationLeft > 0 { stopContinuation(at: earliest, output: &output) }
            if !mode.accompanies {
                for part in parts where part.role != .continuation { part.silence(at: earliest, out: &output) }
            }
        case .panic:
            continuationLeft = 0
            for i in parts.indices {
                parts[i].silence(at: earliest, out: &output)
                listening[i] = true
            }
        case .nextSection: sectionPending = true
        case .fill:
            let meter = preset.transport.meter
            let now = max(next, 0)
            fillUntil = (now / Int64(meter.stepsPerBar) + 2) * Int64(meter.stepsPerBar)
        case .mute(let index, let muted):
            guard parts[index].muted != muted else { return }
            parts[index].muted = muted
            if muted { parts[index].silence(at: earliest, out: &output) }
        }
    }

    // MARK: - Continuation

    private mutating func primeContinuation() {
        for (i, part) in parts.enumerated() where part.role == .continuation {
            part.reset()
            listening[i] = true
        }
        playerWasSounding = false
    }

    mutating func startContinuation() {
        guard mode.answers, parts.contains(where: { $0.role == .continuation }) else { return }
        continuationLeft = preset.performance.continuationBars * preset.transport.meter.stepsPerBar
    }

    private mutating func stopContinuation(at frame: UInt64, output: inout [ScheduledMessage]) {
        continuationLeft = 0
        for part in parts where part.role == .continuation { part.silence(at: frame, out: &output) }
    }

    /// The player's melody event on `step` as the continuation's vocabulary reads it: the highest note
    /// struck, NOTE_OFF when the last note stopped sounding, NO_EVENT otherwise.
    mutating func playerEvent(at step: Int64, heardBy listener: Listener) -> Int {
        guard let notes = listener.notes(atStep: step) else {
            defer { playerWasSounding = false }
            return playerWasSounding ? 1 : 0
        }
        defer { playerWasSounding = !notes.sounding.isEmpty }
        var highest: UInt8? = nil
        var struck = notes.struck
        while let p = struck.lowest {
            struck.remove(p)
            highest = p
        }
        if let highest { return PartVocabulary.firstPitchIndex + Int(highest) }
        return playerWasSounding && notes.sounding.isEmpty ? 1 : 0
    }
}
