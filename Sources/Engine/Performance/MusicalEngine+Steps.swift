import MIDI
import Music
import Neural

/// What a decided step does: the parts hear the band and the player, step their models and play.
extension MusicalEngine {
    /// Decides every step not decided yet through `last`. Decided late (past a wait), a step's new notes
    /// start at the first writable frame. The parts that follow the harmony, when they commit late, hold
    /// back the steps the player is expected to strike on (`commitHeldHarmony` decides those).
    mutating func decide(through last: Int64, _ session: inout Session, earliest: UInt64, output: inout [ScheduledMessage]) {
        // A pending reaction belongs to the step decided before these.
        reactIfPending(&session, earliest: earliest, output: &output)
        while session.schedule.next <= last {
            // The harmony's held step comes before the band's next: each part steps in order.
            if let held = session.schedule.takeHeldHarmony(before: 0, force: true) {
                decide(step: held, session, lane: .harmony, earliest: earliest, output: &output)
            }
            guard let step = session.schedule.takeStep(through: last) else { break }
            guard session.schedule.harmony != nil else {
                decide(step: step, session, lane: .all, earliest: earliest, output: &output)
                continue
            }
            decide(step: step, session, lane: .rhythm, earliest: earliest, output: &output)
            if harmonyWaits(on: step, session) {
                session.schedule.holdHarmony(step, boundary: session.transport.frame(ofStep: step))
                // Notes of the player's already heard on the step (early, inside its window) count.
                let struck = session.listener.chordNotes(atStep: step)?.struck.count ?? 0
                if struck > 0 {
                    session.schedule.heardStrike(
                        onStep: step, at: earliest, struckOnStep: struck, wholeChord: wholeChord(before: step, session.listener))
                }
            } else {
                decide(step: step, session, lane: .harmony, earliest: earliest, output: &output)
            }
        }
    }

    /// Decides the harmony's held step once it is due before `limit`: the player's chord on it heard, or
    /// the horizon passed.
    mutating func commitHeldHarmony(_ session: inout Session, before limit: UInt64, earliest: UInt64, output: inout [ScheduledMessage]) {
        guard let step = session.schedule.takeHeldHarmony(before: limit) else { return }
        decide(step: step, session, lane: .harmony, earliest: earliest, output: &output)
    }

    /// Whether the harmony holds `step` back for the player's strike: on every step for a part harmonising
    /// the melody note, else on downbeats and on the steps of the bar the player has been striking on.
    private func harmonyWaits(on step: Int64, _ session: Session) -> Bool {
        guard let harmony = session.schedule.harmony else { return false }
        guard parts.contains(where: { $0.followsPlayer && !$0.muted && step % Int64($0.settings.grid.stepsOfSixteenth) == 0 }) else {
            return false
        }
        if harmony.everyStep { return true }
        let bar = Int64(preset.transport.meter.stepsPerBar)
        let downbeat = step % bar == 0
        var struck = 0
        for k in 1...HarmonyCommit.habitBars {
            let earlier = step - Int64(k) * bar
            // Before the grid began there is no habit yet: a downbeat is where a chord is expected.
            if earlier < 0, downbeat { return true }
            if let notes = session.listener.chordNotes(atStep: earlier), !notes.struck.isEmpty { struck += 1 }
        }
        return struck >= (downbeat ? 1 : HarmonyCommit.habitStrikes)
    }

    /// How many notes make the player's chord whole on a step after `step`: as many as they struck on
    /// their latest strike within the bar before it (one for a melody, three at most).
    func wholeChord(before step: Int64, _ listener: Listener) -> Int {
        let bar = Int64(preset.transport.meter.stepsPerBar)
        var k: Int64 = 1
        while k <= bar {
            if let notes = listener.chordNotes(atStep: step - k), notes.struck.count > 0 { return min(HarmonyCommit.triad, notes.struck.count) }
            k += 1
        }
        return HarmonyCommit.triad
    }

    /// Which of the band decides in one call: everyone, or (committing late) the parts that keep time
    /// (drums, the continuation) apart from the ones that follow the harmony.
    enum Lane {
        case all, rhythm, harmony

        func includes(_ part: Part) -> Bool {
            switch self {
            case .all: return true
            case .rhythm: return !part.followsPlayer
            case .harmony: return part.followsPlayer
            }
        }
    }

    /// One step, decided for the parts of `lane`. Programs go out with the first; a pending section change
    /// lands on a downbeat. Every part hears the others as they were before this step (all contexts are
    /// read before any part changes); then each part on its grid steps its model and plays its draw, or, as
    /// a continuation, listens to the player or ends its answer.
    private mutating func decide(step: Int64, _ session: Session, lane: Lane, earliest: UInt64, output: inout [ScheduledMessage]) {
        let stepFrame = session.transport.frame(ofStep: step)
        let framesPerStep = session.transport.framesPerStep
        if lane != .harmony {
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
            if directions.songStarting {
                // The band starts: its first bar opens the intro, when there is one.
                directions.songStarting = false
                let bar = Int64(preset.transport.meter.stepsPerBar)
                let intro = directions.introArmed ? Int64(preset.performance.introBars) : 0
                directions.introUntil = intro > 0 ? (step - ((step % bar) + bar) % bar) + intro * bar : .min
                // A style picked while the band was stopped (or late in the last song, whose steps may lie
                // ahead of this one's) is the style it starts in.
                if directions.styleFrom > step { directions.styleFrom = .min }
            }
            if step == directions.sectionAt {
                // A new section: main A and B take turns, and the band starts it afresh.
                directions.sectionAt = .max
                directions.mainB.toggle()
                for part in parts where part.role == .bass || part.role == .chords || part.role == .drums { part.reset() }
            }
            if step == directions.styleFrom {
                // A new style: the parts that play one start its groove afresh on this downbeat; a part the
                // style has none of ends its notes.
                for part in parts where !part.styles.isEmpty {
                    part.reset()
                    if !part.plays(style: directions.style) { part.silence(at: max(stepFrame, earliest), out: &output) }
                }
            }
            if answer.stepsLeft > 0 { answer.stepsLeft -= 1 }
        }
        if lane != .rhythm { followTheLoop(step: step, session.listener) }
        var contexts = InlineArray<16, PartContext>(repeating: PartContext())
        for i in parts.indices.prefix(16) where lane.includes(parts[i]) {
            contexts[i] = context(for: step, excluding: i, heardBy: session.listener)
        }
        if lane != .rhythm { chordOnLastHarmonyStep = session.listener.chord }
        let stepFeel = feel(at: step)
        // After an ending's landing the band lets it ring: nothing new until it stops.
        let ringing = step > directions.endingAt
        for (i, part) in parts.enumerated().prefix(16) where lane.includes(part) && !(ringing && !part.role.answersPhrases) {
            let grid = Int64(part.settings.grid.stepsOfSixteenth)
            guard step % grid == 0 else { continue }
            let playing: Bool
            if part.role.answersPhrases {
                playing = answer.stepsLeft > 0 && mode.answers && !part.muted
                if answer.listening[i] { part.listen(answer.playerEvent(at: step - grid, heardBy: session.listener)) }
            } else {
                // A style the part's model never learned has no such part (the data's grooves without drums).
                playing = mode.accompanies && !part.muted && part.plays(style: directions.style(at: step))
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
            let section = directions.section(at: step, stepsPerBar: preset.transport.meter.stepsPerBar)
            let fill = part.role == .drums ? section : .mainA
            // Main B: the drums ride, bass and keys play a little freer.
            let freer = section == .mainB && part.role != .drums ? Directions.mainBTemperature : 1
            let choice = part.choose(
                context: contexts[i], temperature: part.settings.temperature * directions.temperatureScale * freer,
                keep: fill == .fill || fill == .landing ? 1 : directions.keep, fill: fill, timer: modelStepTimer)
            // A step that is already over is decided (the model stays in time) but not played.
            guard Double(stepFrame) + framesPerStep * Double(grid) > Double(earliest) else { continue }
            // The style's feel: a swing's off-beats a third of a step early (as late as now allows).
            let felt = Double(stepFrame) + stepFeel * framesPerStep
            part.render(
                choice, step: step, stepFrame: max(UInt64(max(0, felt)), earliest), earliest: earliest, framesPerStep: framesPerStep,
                velocity: velocity(for: part, step: step), out: &output)
        }
    }

    /// Keeps the player's chord of each bar (heard at the end of its first beat, or of its second when the
    /// change came late) and, on a downbeat, expects the chord their loop opens the bar with
    /// (HarmonicLoop) unless the player has struck something else there.
    private mutating func followTheLoop(step: Int64, _ listener: Listener) {
        let meter = preset.transport.meter
        let bar = Int64(meter.stepsPerBar)
        let inBar = ((step % bar) + bar) % bar
        let thisBar = (step - inBar) / bar
        let heard = expectedChord ?? listener.chord
        if inBar == Int64(meter.stepsPerBeat) { harmonicLoop.record(heard, bar: thisBar) }
        // A change struck late (a skank's chord on the and of 2, a swing comper's on 2) is the bar's own
        // chord: kept as heard at the end of beat 1, the loop would learn every change a bar late and
        // expect the old root. Two chords to a bar change on beat 3, after this.
        if meter.beatsPerBar >= 3, inBar == 2 * Int64(meter.stepsPerBeat) - 1, let heard {
            let opened = harmonicLoop.chord(ofBar: thisBar)
            if opened == nil || (opened != heard && opened == harmonicLoop.chord(ofBar: thisBar - 1)) {
                harmonicLoop.record(heard, bar: thisBar)
            }
        }
        if inBar == bar - 4 {
            // Once per bar, for every part that plans the next bar (a lead): the loop's chord, else the one now.
            nextBarChord = harmonicLoop.expected(bar: thisBar + 1) ?? heard
            nextBarChordStep = step
        }
        guard inBar == 0 else { return }
        // Keys struck on the downbeat that all belong to the expected chord confirm it: a strum that has
        // not reached the root yet, an oom-pah's two upper notes (C and E for A minor).
        let struck = listener.chordNotes(atStep: step)?.struck.pitchClasses ?? 0
        let expected = harmonicLoop.expected(bar: thisBar).flatMap { $0.contains(pitchClasses: struck) ? $0 : nil }
        expectedChord = expected == listener.chord ? nil : expected
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
            let choice = part.choose(context: c, temperature: part.settings.temperature * directions.temperatureScale, keep: directions.keep)
            let after = part.pitches(of: choice)
            guard after != before else { continue }
            part.takeBackStep(at: earliest, keeping: after, out: &output)
            part.render(
                choice, step: step, stepFrame: earliest, earliest: earliest, framesPerStep: framesPerStep,
                velocity: velocity(for: part, step: step), out: &output)
        }
    }

    private func context(for step: Int64, excluding index: Int, heardBy listener: Listener) -> PartContext {
        var c = PartContext()
        c.step = step
        let barLength = Int64(preset.transport.meter.stepsPerBar)
        c.stepInBar = Int(((step % barLength) + barLength) % barLength)
        c.stepsPerBar = Int(barLength)
        c.style = directions.style(at: step)
        c.grooveTarget = directions.grooveTarget
        if let notes = listener.notes(atStep: step) { c.playerStruck = notes.struck }
        if let notes = listener.chordNotes(atStep: step - 1) { c.playerStruckBefore = !notes.struck.isEmpty }
        c.playerSounding = listener.soundingNow
        if let chord = expectedChord ?? listener.chord {
            c.chordClasses = chord.pitchClasses
            c.chordBass = chord.bass
            c.chordRoot = chord.root
            c.chordChanged = chord != chordOnLastHarmonyStep
        }
        if nextBarChordStep == step, let next = nextBarChord {
            c.nextBarChordRoot = next.root
            c.nextBarChordClasses = next.pitchClasses
        }
        if let key = listener.key { c.keyClasses = PartContext.scaleClasses(key) }
        for (j, part) in parts.enumerated() where j != index { c.bandPrevious = c.bandPrevious.union(part.output) }
        return c
    }

    /// The part's velocity on `step`: its base leaning toward the player's touch, plus its accent on that
    /// step of the bar.
    private func velocity(for part: Part, step: Int64) -> Double {
        let f = part.settings.velocityFollow
        let accents = part.settings.velocityAccents
        let bar = Int64(preset.transport.meter.stepsPerBar)
        let accent = accents.count == Int(bar) ? Double(accents[Int(((step % bar) + bar) % bar)]) : 0
        return Double(part.settings.velocity) * (1 - f) + playerVelocity * f + accent
    }
}
