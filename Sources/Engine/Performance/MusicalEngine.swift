import MIDI
import Music
import Neural

/// The band: transport and listener driven by the input frames, and the preset's parts deciding their
/// steps and scheduling notes at exact frames. The same code runs live (the daemon's engine thread) and
/// offline (a virtual backend with a simulated clock).
///
/// When a step is decided (DESIGN §4):
/// - anticipation: a step is decided in the last cycle whose output can still land exactly on its
///   boundary, with the player as heard so far (a note early inside the on-step window counts for it);
/// - reaction: a player's note heard inside the on-step window of a step not decided yet decides it at
///   once; one heard just after its step was decided makes the parts that follow the player draw the step
///   again from the same logits with the note in their context, and replace what they started if the draw
///   differs — written at the first writable frame, so within one period of the note;
/// - waiting: when a part harmonises the player's melody note itself (a soprano-conditioned model, the
///   chorale), it cannot decide a step before that note: steps wait up to the on-step window past their
///   boundary, decided the moment the player's note on them is heard, or after the window with the melody
///   as it is (held or resting);
/// - a step whose boundary the transport reports before it was decided (clock mode, or a late engine) is
///   decided then and written at the first writable frame.
///
/// Modes: the continuation part listens while the player plays (its model is primed with the phrase) and
/// answers for `continuationBars` bars when the phrase ends (silence or the phrase controller); the
/// player's next note stops it at once. The other parts accompany all along. Notes each part starts are
/// ended by that part (its grid, mute, mode change, panic, stop), so the daemon's tracker never has to.
/// After the first step nothing here allocates: parts own their buffers, lists are fixed-size values.
public struct MusicalEngine: PerformanceEngine {
    public let preset: Preset
    /// Times the parts' model steps (the daemon's metrics); nil: untimed.
    let modelStepTimer: (any ModelStepTimer)?
    public private(set) var parts: [Part]
    public private(set) var controls: PerformanceControls
    public private(set) var mode: PerformanceMode
    var thru: ThruEngine
    var transport: Transport?
    var listener: Listener?
    /// MIDI clock out (preset transport.clock_out, not in clock mode) and the count-in clicks.
    var clockOut = ClockOut()
    var metronome: Metronome?
    /// The next step the parts decide, and the last decided one with its frame.
    var nextStep: Int64 = 0
    var decidedStep: Int64 = .min
    var decidedFrame: UInt64 = 0
    /// Program changes sent (with the first step).
    var started = false
    /// Steps of continuation left to play; 0 while it listens.
    public private(set) var continuationLeft = 0
    var listening: [Bool]
    var playerWasSounding = false
    var playerVelocity: Double
    var temperatureScale = 1.0
    var keep = 1.0
    var fillUntil: Int64 = .min
    var sectionPending = false
    /// Steps with nothing from the player and no answer playing (the band stops after `idleBars` of them).
    var idleSteps = 0
    /// Frames a step waits past its boundary for the player's note when a part sings under the player's
    /// melody (a soprano-conditioned model needs the note it harmonises); 0 otherwise: steps are decided ahead.
    var waitFrames: UInt64 = 0
    /// A decided step that a player's on-step note asked to be drawn again. It is drawn once the cycle's
    /// input is all heard (a chord's notes arriving together count as one), and a step is drawn again at
    /// most once: each redraw of a sounding step is a note struck and taken back.
    var reactionPending: Int64? = nil
    var reactedStep: Int64 = .min
    /// Counts of reactions and decided steps, for tests and metrics.
    /// The start of the cycle seen last, to notice a clock that went back.
    var lastCycleStart: UInt64? = nil
    public private(set) var reactions = 0
    public private(set) var decidedSteps = 0

    /// `parts` in the order of `preset.parts`.
    public init(preset: Preset, parts: [Part], modelStepTimer: (any ModelStepTimer)? = nil) {
        self.preset = preset
        self.modelStepTimer = modelStepTimer
        self.parts = parts
        controls = PerformanceControls(map: preset.controls, muteControllers: parts.map(\.settings.muteCC))
        mode = preset.performance.mode
        thru = ThruEngine(
            enabled: preset.thru.enabled, inputChannel: preset.listener.inputChannel, channel: preset.thru.channel,
            transpose: preset.thru.transpose)
        listening = Array(repeating: true, count: parts.count)
        playerVelocity = 90
    }

    public var tempoBPM: Double? { transport?.bpm }

    public func forEachSetupMessage(port: Int, _ body: (MIDIMessage) -> Void) {
        for part in parts where part.port == port { part.settings.forEachSetupMessage(channel: part.channel, body) }
    }
    /// Where the grid starts when the transport is fixed: nil to start at the player's first note; offline,
    /// the file's first frame (so its bars are the grid's).
    public var startFrame: UInt64? = nil
    public var isRunning: Bool { transport?.isRunning ?? false }

    /// Transport and listener are built at the first cycle, when the sample rate is known.
    private mutating func prepare(_ clock: EngineClock) {
        if let transport, transport.sampleRate == Double(clock.sampleRate) { return }
        let rate = Double(clock.sampleRate)
        transport = Transport(
            settings: preset.transport, sampleRate: rate, tapController: preset.controls.tap,
            followChannel: preset.listener.inputChannel)
        listener = Listener(
            settings: preset.listener, sampleRate: rate, meter: preset.transport.meter,
            phraseEndController: preset.controls.phraseEnd)
        nextStep = 0
        decidedStep = .min
        (reactionPending, reactedStep) = (nil, .min)
        for part in parts { part.use(sampleRate: rate) }
        waitFrames = parts.contains(where: { $0.conditioning == .soprano }) && preset.transport.source != .clock
            ? UInt64(max(0, preset.listener.onStepWindowMilliseconds) * rate / 1000) : 0
        metronome = preset.transport.countInBars > 0 ? Metronome(sampleRate: rate) : nil
        if let startFrame, preset.transport.source == .fixed {
            startGrid(at: startFrame)
        } else if preset.transport.countInBars > 0, preset.transport.source == .fixed {
            // A count-in is played at once: the player comes in on its downbeat.
            startGrid(at: clock.nextWritable)
        }
    }

    /// Starts the fixed grid at `frame` (after its count-in, if the preset has one).
    private mutating func startGrid(at frame: UInt64) {
        transport!.start(at: frame)
        nextStep = transport!.upcomingStep
        // The band comes in fresh, as at the top of a song.
        for part in parts where part.role != .continuation { part.reset() }
        if preset.transport.clockOut { clockOut.begin(at: frame, transport: transport!) }
        metronome?.begin(transport: transport!)
    }

    /// Clock ticks and count-in clicks due before `end`, at their frames (never before `earliest`).
    private mutating func tick(before end: UInt64, earliest: UInt64, output: inout [ScheduledMessage]) {
        guard let transport else { return }
        if preset.transport.clockOut, transport.source != .clock {
            while let m = clockOut.next(before: end, transport: transport) {
                output.append(ScheduledMessage(frame: max(m.time, earliest), port: 0, message: m.message))
            }
        }
        if metronome != nil {
            while let m = metronome!.next(before: end, transport: transport) {
                output.append(ScheduledMessage(frame: max(m.time, earliest), port: 0, message: m.message))
            }
        }
    }

    /// Takes over from the engine a reload replaces: parts whose settings did not change keep playing as
    /// they were (same model state, same sounding notes), and so do the grid and the listener when the
    /// transport and listener settings are the same. Returns the messages that end the notes of the old
    /// engine's parts that are gone or changed, at `frame`: only those are silenced.
    public mutating func takeOver(from old: MusicalEngine, at frame: UInt64) -> [ScheduledMessage] {
        var kept = Set<ObjectIdentifier>()
        for (k, part) in parts.enumerated() {
            // A continuation is always restarted: its answer belongs to the old engine's phrase.
            if part.role != .continuation,
                let same = old.parts.first(where: { $0.settings == part.settings && !kept.contains(ObjectIdentifier($0)) })
            {
                parts[k] = same
                kept.insert(ObjectIdentifier(same))
            }
        }
        var messages: [ScheduledMessage] = []
        for part in old.parts where !kept.contains(ObjectIdentifier(part)) { part.silence(at: frame, out: &messages) }
        if old.preset.transport == preset.transport, old.preset.listener == preset.listener {
            transport = old.transport
            listener = old.listener
            clockOut = old.clockOut
            metronome = old.metronome
            idleSteps = old.idleSteps
            nextStep = old.nextStep
            decidedStep = old.decidedStep
            decidedFrame = old.decidedFrame
            playerVelocity = old.playerVelocity
            playerWasSounding = old.playerWasSounding
        }
        started = false
        return messages
    }

    public mutating func process(_ input: [TimedMIDIMessage], clock: EngineClock, output: inout [ScheduledMessage]) {
        let earliest = clock.nextWritable
        if let last = lastCycleStart, clock.cycleStart.frames(since: last) < -Int64(max(1, clock.sampleRate)) {
            startAfterClockWentBack(earliest: earliest, output: &output)
        }
        lastCycleStart = clock.cycleStart
        prepare(clock)
        skipStall(earliest: earliest, output: &output)
        for event in input {
            drainBoundaries(through: event.time, earliest: earliest, output: &output)
            if thru.enabled, let echoed = thru.mapped(event.message) {
                output.append(ScheduledMessage(frame: event.time + UInt64(clock.cycleLength), port: 0, message: echoed))
            }
            hear(event, earliest: earliest, output: &output)
        }
        reactIfPending(earliest: earliest, output: &output)
        drainBoundaries(through: clock.cycleStart + UInt64(clock.cycleLength) - 1, earliest: earliest, output: &output)
        anticipate(before: earliest + UInt64(clock.cycleLength), earliest: earliest, output: &output)
        tick(before: earliest + UInt64(clock.cycleLength), earliest: earliest, output: &output)
    }

    // MARK: - Input

    private mutating func hear(_ event: TimedMIDIMessage, earliest: UInt64, output: inout [ScheduledMessage]) {
        let message = event.message
        let isStrike = message.isSoundingNoteOn && (preset.listener.inputChannel == nil || message.channel == preset.listener.inputChannel)
        if isStrike, transport!.source == .fixed, !transport!.isRunning { startGrid(at: event.time) }
        transport!.receive(message, at: event.time)
        drainBoundaries(through: event.time, earliest: earliest, output: &output)
        let heard = listener!.receive(message, at: event.time, transport: transport!)
        if case .controlChange(_, let controller, let value) = message, controller != preset.controls.phraseEnd {
            control(controls.handle(controller: controller, value: value), earliest: earliest, output: &output)
        }
        if isStrike {
            if case .noteOn(_, _, let v) = message { playerVelocity = 0.7 * playerVelocity + 0.3 * Double(v) }
            // The player always wins: the answer stops the moment they play again.
            if continuationLeft > 0 { stopContinuation(at: earliest, output: &output) }
        }
        if heard.phraseStarted { primeContinuation() }
        if heard.phraseEnded { startContinuation() }
        if let placement = heard.placement, placement.isOnStep, isStrike {
            if placement.step == nextStep {
                decide(through: placement.step, earliest: earliest, output: &output)
            } else if placement.step == decidedStep, placement.step != reactedStep {
                reactionPending = placement.step
            }
        }
    }

    private mutating func control(_ action: PerformanceControls.Action, earliest: UInt64, output: inout [ScheduledMessage]) {
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
            let now = max(nextStep, 0)
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

    private mutating func startContinuation() {
        guard mode.answers, parts.contains(where: { $0.role == .continuation }) else { return }
        continuationLeft = preset.performance.continuationBars * preset.transport.meter.stepsPerBar
    }

    private mutating func stopContinuation(at frame: UInt64, output: inout [ScheduledMessage]) {
        continuationLeft = 0
        for part in parts where part.role == .continuation { part.silence(at: frame, out: &output) }
    }

    /// The player's melody event on `step` as the continuation's vocabulary reads it: the highest note
    /// struck, NOTE_OFF when the last note stopped sounding, NO_EVENT otherwise.
    private mutating func playerEvent(at step: Int64) -> Int {
        guard let notes = listener!.notes(atStep: step) else {
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

    // MARK: - Steps

    /// The ports give the engine a monotonic clock; should frames still go back by more than a second
    /// (another backend, a restarted server seen raw), every frame the grid and the listener hold is from
    /// the old clock. A short step back is harmless (frame arithmetic here is order-safe; things wait a
    /// little); a long one would leave the band waiting hours for its next boundary. So the parts end
    /// their notes now and the grid and the listener start again, as at launch.
    private mutating func startAfterClockWentBack(earliest: UInt64, output: inout [ScheduledMessage]) {
        for part in parts { part.clockWentBack(to: earliest, out: &output) }
        if preset.transport.clockOut, transport?.isRunning == true {
            output.append(ScheduledMessage(frame: earliest, port: 0, message: .stop))
        }
        transport = nil
        clockOut = ClockOut()
        continuationLeft = 0
        for i in listening.indices { listening[i] = true }
        started = false
    }

    /// Steps more than this many bars behind the cycle are skipped, not decided one by one.
    static let stallBars = 2.0

    /// After a stall the grid may be many steps behind the clock; deciding each would be a burst of model
    /// steps (hours of them after a suspend) for notes that could no longer sound. The parts stop what they
    /// play and the grid resumes at the current step.
    private mutating func skipStall(earliest: UInt64, output: inout [ScheduledMessage]) {
        guard let transport, transport.isRunning, transport.source != .clock else { return }
        let now = transport.position(at: earliest)
        guard now - Double(transport.upcomingStep) > Self.stallBars * Double(preset.transport.meter.stepsPerBar) else { return }
        let resume = Int64(saturating: now.rounded(.down))
        self.transport!.skip(to: resume)
        nextStep = max(nextStep, resume)
        (reactionPending, reactedStep) = (nil, .min)
        for part in parts { part.silence(at: earliest, out: &output) }
    }

    private mutating func drainBoundaries(through frame: UInt64, earliest: UInt64, output: inout [ScheduledMessage]) {
        while let boundary = transport!.nextBoundary(through: frame) {
            let report = listener!.beginStep(boundary)
            if report.phraseEnded { startContinuation() }
            idleSteps = report.inPhrase || continuationLeft > 0 || !listener!.soundingNow.isEmpty ? 0 : idleSteps + 1
            let idleLimit = preset.performance.idleBars * preset.transport.meter.stepsPerBar
            if idleLimit > 0, idleSteps >= idleLimit, transport!.source != .clock {
                // Nobody has played for a while: the band stops (its notes end below) and waits.
                transport!.stop(at: boundary.frame)
                clockOut.end(at: max(boundary.frame, earliest))
                metronome?.end()
                idleSteps = 0
                break
            }
            if boundary.step < decidedStep {
                // The grid went back (restart, song position): the parts follow from here.
                nextStep = boundary.step
                decidedStep = .min
                (reactionPending, reactedStep) = (nil, .min)
            }
            // Waiting steps are decided by the player's note or, failing one, by `anticipate` after the wait.
            if boundary.step >= nextStep, waitFrames == 0 { decide(through: boundary.step, earliest: earliest, output: &output) }
        }
        if !transport!.isRunning, parts.contains(where: { !$0.sounding.isEmpty }) {
            for part in parts { part.silence(at: earliest, out: &output) }
        }
    }

    private mutating func anticipate(before limit: UInt64, earliest: UInt64, output: inout [ScheduledMessage]) {
        guard let transport, transport.isRunning, transport.source != .clock else { return }
        while transport.frame(ofStep: nextStep) + waitFrames < limit {
            decide(through: nextStep, earliest: earliest, output: &output)
        }
    }

    /// Decides every step from `nextStep` through `last`. Decided late (past a wait), a step's new notes
    /// start at the first writable frame.
    private mutating func decide(through last: Int64, earliest: UInt64, output: inout [ScheduledMessage]) {
        // A pending reaction belongs to the step decided before these.
        reactIfPending(earliest: earliest, output: &output)
        while nextStep <= last {
            let step = nextStep
            nextStep += 1
            guard step >= 0 else { continue }
            decide(step: step, earliest: earliest, output: &output)
        }
    }

    private func context(for step: Int64, excluding index: Int) -> PartContext {
        var c = PartContext()
        let barLength = Int64(preset.transport.meter.stepsPerBar)
        c.stepInBar = Int(((step % barLength) + barLength) % barLength)
        c.stepsPerBar = Int(barLength)
        if let notes = listener!.notes(atStep: step) { c.playerStruck = notes.struck }
        c.playerSounding = listener!.soundingNow
        if let chord = listener!.chord {
            c.chordClasses = chord.pitchClasses
            c.chordBass = chord.bass
        }
        if let key = listener!.key { c.keyClasses = PartContext.scaleClasses(key) }
        for (j, part) in parts.enumerated() where j != index { c.bandPrevious = c.bandPrevious.union(part.output) }
        return c
    }

    private func velocity(for part: Part) -> Double {
        let f = part.settings.velocityFollow
        return Double(part.settings.velocity) * (1 - f) + playerVelocity * f
    }

    private mutating func decide(step: Int64, earliest: UInt64, output: inout [ScheduledMessage]) {
        let transport = self.transport!
        let stepFrame = transport.frame(ofStep: step)
        let fps = transport.framesPerStep
        let meter = preset.transport.meter
        let downbeat = step % Int64(meter.stepsPerBar) == 0
        if !started {
            // Programs go out with the first step, not at launch: a synth connected meanwhile hears them.
            started = true
            for part in parts {
                part.settings.forEachSetupMessage(channel: part.channel) {
                    output.append(ScheduledMessage(frame: earliest, port: part.port, message: $0))
                }
            }
        }
        decidedStep = step
        decidedFrame = max(stepFrame, earliest)
        decidedSteps += 1
        if sectionPending, downbeat {
            sectionPending = false
            for part in parts where part.role == .bass || part.role == .chords || part.role == .drums { part.reset() }
        }
        if continuationLeft > 0 { continuationLeft -= 1 }
        // Every part hears the others as they were before this step: outputs are read before any changes.
        var contexts = InlineArray<16, PartContext>(repeating: PartContext())
        for i in parts.indices.prefix(16) { contexts[i] = context(for: step, excluding: i) }
        for (i, part) in parts.enumerated().prefix(16) {
            let grid = Int64(part.settings.grid.stepsOfSixteenth)
            guard step % grid == 0 else { continue }
            let playing: Bool
            if part.role == .continuation {
                playing = continuationLeft > 0 && mode.answers && !part.muted
                if listening[i] { part.listen(playerEvent(at: step - grid)) }
            } else {
                playing = mode.accompanies && !part.muted
                guard playing else { continue }
            }
            part.advance(context: contexts[i], timer: modelStepTimer)
            guard playing else {
                // An answer that has run its bars ends on the grid.
                if !listening[i] { part.silence(at: max(stepFrame, earliest), out: &output) }
                listening[i] = true
                continue
            }
            listening[i] = false
            let boost: Float = part.role == .drums && step < fillUntil ? 1.5 : 0
            let choice = part.choose(
                context: contexts[i], temperature: part.settings.temperature * temperatureScale, keep: keep, boost: boost)
            // A step that is already over is decided (the model stays in time) but not played.
            guard Double(stepFrame) + fps * Double(grid) > Double(earliest) else { continue }
            part.render(
                choice, step: step, stepFrame: max(stepFrame, earliest), earliest: earliest, framesPerStep: fps,
                velocity: velocity(for: part), out: &output)
        }
    }

    private mutating func reactIfPending(earliest: UInt64, output: inout [ScheduledMessage]) {
        guard let step = reactionPending else { return }
        reactionPending = nil
        reactedStep = step
        react(step: step, earliest: earliest, output: &output)
    }

    /// A player's on-step note heard after its step was decided: the parts that follow the player and
    /// play notes outside what the player now plays draw that step again with the note in their context.
    /// A part whose notes fit keeps them: drawing again could only strike a note twice.
    private mutating func react(step: Int64, earliest: UInt64, output: inout [ScheduledMessage]) {
        guard mode.accompanies, let transport else { return }
        reactions += 1
        let fps = transport.framesPerStep
        for (i, part) in parts.enumerated() where part.followsPlayer && !part.muted {
            let grid = Int64(part.settings.grid.stepsOfSixteenth)
            guard step % grid == 0 else { continue }
            let before = part.pitches(of: part.lastChoice)
            var c = context(for: step, excluding: i)
            let heard = c.chordClasses != 0 ? c.chordClasses : c.playerStruck.union(c.playerSounding).pitchClasses
            guard heard == 0 || before.pitchClasses & ~heard != 0 else { continue }
            c.bandPrevious = PitchSet()
            for (j, other) in parts.enumerated() where j != i { c.bandPrevious = c.bandPrevious.union(other.previousOutput) }
            let choice = part.choose(context: c, temperature: part.settings.temperature * temperatureScale, keep: keep, boost: 0)
            let after = part.pitches(of: choice)
            guard after != before else { continue }
            part.takeBackStep(at: earliest, keeping: after, out: &output)
            part.render(
                choice, step: step, stepFrame: earliest, earliest: earliest, framesPerStep: fps,
                velocity: velocity(for: part), out: &output)
        }
    }

    /// Ends every part's notes (the daemon calls this on stop and reload through its own tracker as well).
    public mutating func silence(at frame: UInt64, output: inout [ScheduledMessage]) {
        for part in parts { part.silence(at: frame, out: &output) }
        continuationLeft = 0
    }
}
