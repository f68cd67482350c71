import MIDI
import Music
import Neural

/// What a decided step does: the parts hear the band and the player, step their models and play.
extension MusicalEngine {
    /// Decides every step not decided yet through `last`. Decided late (past a wait), a step's new notes
    /// start at the first writable frame.
    mutating func decide(through last: Int64, _ session: inout Session, earliest: UInt64, output: inout [ScheduledMessage]) {
        // A pending reaction belongs to the step decided before these.
        reactIfPending(&session, earliest: earliest, output: &output)
        while let step = session.schedule.takeStep(through: last) {
            decide(step: step, session, earliest: earliest, output: &output)
        }
    }

    /// One step, decided. Programs go out with the first; a pending section change lands on a downbeat.
    /// Every part hears the others as they were before this step (all contexts are read before any part
    /// changes); then each part on its grid steps its model and plays its draw, or, as a continuation,
    /// listens to the player or ends its answer.
    private mutating func decide(step: Int64, _ session: Session, earliest: UInt64, output: inout [ScheduledMessage]) {
        let stepFrame = session.transport.frame(ofStep: step)
        let framesPerStep = session.transport.framesPerStep
        let downbeat = step % Int64(preset.transport.meter.stepsPerBar) == 0
        if !started {
            // Programs go out with the first step, not at launch: a synth connected meanwhile hears them.
            started = true
            for part in parts {
                part.settings.forEachSetupMessage(channel: part.channel) {
                    output.append(ScheduledMessage(frame: earliest, port: part.port, message: $0))
                }
            }
        }
        decidedSteps += 1
        if directions.sectionPending, downbeat {
            directions.sectionPending = false
            for part in parts where part.role == .bass || part.role == .chords || part.role == .drums { part.reset() }
        }
        if answer.stepsLeft > 0 { answer.stepsLeft -= 1 }
        var contexts = InlineArray<16, PartContext>(repeating: PartContext())
        for i in parts.indices.prefix(16) { contexts[i] = context(for: step, excluding: i, heardBy: session.listener) }
        for (i, part) in parts.enumerated().prefix(16) {
            let grid = Int64(part.settings.grid.stepsOfSixteenth)
            guard step % grid == 0 else { continue }
            let playing: Bool
            if part.role == .continuation {
                playing = answer.stepsLeft > 0 && mode.answers && !part.muted
                if answer.listening[i] { part.listen(answer.playerEvent(at: step - grid, heardBy: session.listener)) }
            } else {
                playing = mode.accompanies && !part.muted
                guard playing else { continue }
            }
            part.advance(context: contexts[i], timer: modelStepTimer)
            guard playing else {
                // An answer that has run its bars ends on the grid.
                if !answer.listening[i] { part.silence(at: max(stepFrame, earliest), out: &output) }
                answer.listening[i] = true
                continue
            }
            answer.listening[i] = false
            let boost: Float = part.role == .drums && step < directions.fillUntil ? 1.5 : 0
            let choice = part.choose(
                context: contexts[i], temperature: part.settings.temperature * directions.temperatureScale, keep: directions.keep, boost: boost)
            // A step that is already over is decided (the model stays in time) but not played.
            guard Double(stepFrame) + framesPerStep * Double(grid) > Double(earliest) else { continue }
            part.render(
                choice, step: step, stepFrame: max(stepFrame, earliest), earliest: earliest, framesPerStep: framesPerStep,
                velocity: velocity(for: part), out: &output)
        }
    }

    mutating func reactIfPending(_ session: inout Session, earliest: UInt64, output: inout [ScheduledMessage]) {
        guard let step = session.schedule.takeReaction() else { return }
        react(step: step, session, earliest: earliest, output: &output)
    }

    /// A player's on-step note heard after its step was decided: the parts that follow the player and
    /// play notes outside what the player now plays draw that step again with the note in their context.
    /// A part whose notes fit keeps them: drawing again could only strike a note twice.
    private mutating func react(step: Int64, _ session: Session, earliest: UInt64, output: inout [ScheduledMessage]) {
        guard mode.accompanies else { return }
        reactions += 1
        let framesPerStep = session.transport.framesPerStep
        for (i, part) in parts.enumerated() where part.followsPlayer && !part.muted {
            let grid = Int64(part.settings.grid.stepsOfSixteenth)
            guard step % grid == 0 else { continue }
            let before = part.pitches(of: part.lastChoice)
            var c = context(for: step, excluding: i, heardBy: session.listener)
            let heard = c.chordClasses != 0 ? c.chordClasses : c.playerStruck.union(c.playerSounding).pitchClasses
            guard heard == 0 || before.pitchClasses & ~heard != 0 else { continue }
            // Against the band as it was before the step, as the first draw was.
            c.bandPrevious = PitchSet()
            for (j, other) in parts.enumerated() where j != i { c.bandPrevious = c.bandPrevious.union(other.previousOutput) }
            let choice = part.choose(context: c, temperature: part.settings.temperature * directions.temperatureScale, keep: directions.keep, boost: 0)
            let after = part.pitches(of: choice)
            guard after != before else { continue }
            part.takeBackStep(at: earliest, keeping: after, out: &output)
            part.render(
                choice, step: step, stepFrame: earliest, earliest: earliest, framesPerStep: framesPerStep,
                velocity: velocity(for: part), out: &output)
        }
    }

    private func context(for step: Int64, excluding index: Int, heardBy listener: Listener) -> PartContext {
        var c = PartContext()
        let barLength = Int64(preset.transport.meter.stepsPerBar)
        c.stepInBar = Int(((step % barLength) + barLength) % barLength)
        c.stepsPerBar = Int(barLength)
        if let notes = listener.notes(atStep: step) { c.playerStruck = notes.struck }
        c.playerSounding = listener.soundingNow
        if let chord = listener.chord {
            c.chordClasses = chord.pitchClasses
            c.chordBass = chord.bass
        }
        if let key = listener.key { c.keyClasses = PartContext.scaleClasses(key) }
        for (j, part) in parts.enumerated() where j != index { c.bandPrevious = c.bandPrevious.union(part.output) }
        return c
    }

    private func velocity(for part: Part) -> Double {
        let f = part.settings.velocityFollow
        return Double(part.settings.velocity) * (1 - f) + playerVelocity * f
    }
}
