import MIDI
import Music
import Neural

/// The band: transport and listener driven by the input frames, and the preset's parts deciding their
/// steps and scheduling notes at exact frames. The same code runs live (the daemon's engine thread) and
/// offline (a virtual backend with a simulated clock).
///
/// The engine waits for the first cycle's sample rate, then plays a `Session` (grid, listener, count-in,
/// step schedule); a clock that went back sends it back to waiting. When a step is decided is the
/// `StepSchedule`'s to say; what a decided step does is `decide(step:)`.
///
/// Modes: the continuation part listens while the player plays (its model is primed with the phrase) and
/// answers for `continuationBars` bars when the phrase ends (silence or the phrase controller); the
/// player's next note stops it at once. The other parts accompany all along. Notes each part starts are
/// ended by that part (its grid, mute, mode change, panic, stop), so the daemon's tracker never has to.
/// After the first step nothing here allocates: parts own their buffers, lists are fixed-size values.
public struct MusicalEngine: PerformanceEngine {
    public let preset: Preset
    public private(set) var parts: [Part]
    public internal(set) var controls: PerformanceControls
    public internal(set) var mode: PerformanceMode
    var thru: ThruEngine
    /// Times the parts' model steps (the daemon's metrics); nil: untimed.
    let modelStepTimer: (any ModelStepTimer)?
    /// Told what MIDI learn does (the daemon logs it and keeps it per preset); nil: nobody listens.
    public var learnObserver: (any LearnObserver)? = nil
    var stage = EngineStage.waitingForRate
    /// MIDI clock out (preset transport.clock_out, not in clock mode). It outlives a change of sample
    /// rate; only a clock that went back starts it afresh.
    var clockOut = ClockOut()
    /// Program changes sent (with the first step).
    var started = false
    var answer: Answer
    /// The player's touch, smoothed over their notes: the parts that follow it lean toward it.
    var playerVelocity: Double
    var directions = Directions()
    /// Steps with nothing from the player and no answer playing (the band stops after `idleBars` of them).
    var idleSteps = 0
    /// The start of the cycle seen last, to notice a clock that went back.
    var lastCycleStart: UInt64? = nil
    /// Counts of reactions and decided steps, for tests and metrics.
    /// The player's chord when the harmony parts last decided a step (a change is a chord other than it).
    var chordOnLastHarmonyStep: Chord? = nil
    /// The player's chords bar by bar, and the chord their loop expects in this bar until the player
    /// strikes one (what the harmony parts follow meanwhile).
    var harmonicLoop = HarmonicLoop()
    var expectedChord: Chord? = nil
    /// On a bar's last beat (step `nextBarChordStep`): the chord the next bar is expected to open with.
    var nextBarChord: Chord? = nil
    var nextBarChordStep: Int64 = .min
    /// Every style the parts learned; a program change or the style controller picks one by number.
    public let styleBank: StyleBank
    public internal(set) var reactions = 0
    public internal(set) var decidedSteps = 0
    /// The next step whose models were read into cache ahead of it, and how many steps were (tests, metrics).
    var warmedStep: Int64 = .min
    public internal(set) var warmedSteps = 0

    /// `parts` in the order of `preset.parts`.
    public init(preset: Preset, parts: [Part], modelStepTimer: (any ModelStepTimer)? = nil) {
        self.preset = preset
        self.modelStepTimer = modelStepTimer
        self.parts = parts
        controls = PerformanceControls(map: preset.controls, muteControllers: parts.map(\.settings.muteCC))
        mode = preset.performance.mode
        thru = ThruEngine(preset: preset)
        answer = Answer(parts: parts.count)
        playerVelocity = 90
        styleBank = StyleBank(parts: parts.map(\.styles), timing: parts.reduce(into: [:]) { $0.merge($1.styleTiming) { a, _ in a } })
        for part in parts { part.join(styleBank) }
        directions.style = preset.performance.style.flatMap { styleBank.number(of: $0) }
    }

    /// A program change that picks the band's style is the style button's, not the player's sound: it is
    /// not passed through (an arranger's style buttons leave the voice alone).
    func picksStyle(_ message: MIDIMessage) -> Bool {
        guard case .programChange(let channel, _) = message, preset.controls.styleByProgramChange, !styleBank.isEmpty else { return false }
        return preset.listener.inputChannel == nil || channel == preset.listener.inputChannel
    }

    /// The band's style at `step` (its name), nil for none.
    public func styleName(at step: Int64) -> String? { directions.style(at: step).map { styleBank.names[$0] } }

    /// Steps of continuation left to play; 0 while it listens.
    public var continuationLeft: Int { answer.stepsLeft }
    public var tempoBPM: Double? { stage.transport?.bpm }

    public func forEachSetupMessage(port: Int, _ body: (MIDIMessage) -> Void) {
        for part in parts where part.port == port { part.settings.forEachSetupMessage(channel: part.channel, body) }
    }
    /// Where the grid starts when the transport is fixed: nil to start at the player's first note; offline,
    /// the file's first frame (so its bars are the grid's).
    public var startFrame: UInt64? = nil
    public var isRunning: Bool { stage.transport?.isRunning ?? false }

    public mutating func process(_ input: [TimedMIDIMessage], clock: EngineClock, output: inout [ScheduledMessage]) {
        let earliest = clock.nextWritable
        if let last = lastCycleStart, clock.cycleStart.frames(since: last) < -Int64(max(1, clock.sampleRate)) {
            startAfterClockWentBack(earliest: earliest, output: &output)
        }
        lastCycleStart = clock.cycleStart
        var session = openSession(clock)
        skipStall(&session, earliest: earliest, output: &output)
        for event in input {
            drainBoundaries(&session, through: event.time, earliest: earliest, output: &output)
            if thru.enabled, !picksStyle(event.message), let echoed = thru.mapped(event.message) {
                output.append(ScheduledMessage(frame: event.time + UInt64(clock.cycleLength), port: preset.sharedPort, message: echoed))
            }
            hear(event, &session, earliest: earliest, output: &output)
        }
        reactIfPending(&session, earliest: earliest, output: &output)
        drainBoundaries(&session, through: clock.cycleStart + UInt64(clock.cycleLength) - 1, earliest: earliest, output: &output)
        anticipate(&session, before: earliest + UInt64(clock.cycleLength), earliest: earliest, output: &output)
        warmBeforeNextStep(session, before: earliest + 3 * UInt64(clock.cycleLength))
        commitHeldHarmony(&session, before: earliest + UInt64(clock.cycleLength), earliest: earliest, output: &output)
        tick(&session, before: earliest + UInt64(clock.cycleLength), earliest: earliest, output: &output)
        stage = .playing(session)
    }

    /// Controllers MIDI learn assigned earlier (the daemon's saved file), over the preset's.
    public mutating func applyLearned(_ learned: [(function: PerformanceControls.Function, controller: UInt8)]) {
        controls.assign(learned: learned)
    }

    /// The session for this cycle, taken out of `stage` so the cycle owns it alone (its listener's ring is
    /// then mutated in place, never copied); a new one when the engine was waiting or the rate changed.
    private mutating func openSession(_ clock: EngineClock) -> Session {
        let rate = Double(clock.sampleRate)
        if case .playing(let session) = stage, session.sampleRate == rate {
            stage = .waitingForRate
            return session
        }
        stage = .waitingForRate
        var session = Session(preset: preset, parts: parts, sampleRate: rate)
        for part in parts { part.use(sampleRate: rate) }
        if let startFrame, preset.transport.source == .fixed {
            startGrid(at: startFrame, &session)
        } else if preset.transport.countInBars > 0, preset.transport.source == .fixed {
            // A count-in is played at once: the player comes in on its downbeat.
            startGrid(at: clock.nextWritable, &session)
        }
        return session
    }

    /// Starts the fixed grid at `frame` (after its count-in, if the preset has one).
    mutating func startGrid(at frame: UInt64, _ session: inout Session) {
        session.transport.start(at: frame)
        session.schedule.start(at: session.transport.upcomingStep)
        // The band comes in fresh, as at the top of a song.
        for part in parts where !part.role.answersPhrases { part.reset() }
        harmonicLoop.reset()
        expectedChord = nil
        // A fill or an ending asked for before the band stopped belongs to that song.
        directions.fillUntil = .min
        directions.endingAt = .max
        directions.sectionAt = .max
        directions.songStarting = true
        if preset.transport.clockOut { clockOut.begin(at: frame, transport: session.transport) }
        session.metronome?.begin(transport: session.transport)
    }

    /// Clock ticks and count-in clicks due before `end`, at their frames (never before `earliest`).
    private mutating func tick(_ session: inout Session, before end: UInt64, earliest: UInt64, output: inout [ScheduledMessage]) {
        if preset.transport.clockOut, !session.transport.source.countsTicks {
            while let m = clockOut.next(before: end, transport: session.transport) {
                output.append(ScheduledMessage(frame: max(m.time, earliest), port: preset.sharedPort, message: m.message))
            }
        }
        while let m = session.metronome?.next(before: end, transport: session.transport) {
            output.append(ScheduledMessage(frame: max(m.time, earliest), port: preset.sharedPort, message: m.message))
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
            if !part.role.answersPhrases,
                let same = old.parts.first(where: { $0.settings == part.settings && !kept.contains(ObjectIdentifier($0)) })
            {
                parts[k] = same
                kept.insert(ObjectIdentifier(same))
            }
        }
        var messages: [ScheduledMessage] = []
        for part in old.parts where !kept.contains(ObjectIdentifier(part)) { part.silence(at: frame, out: &messages) }
        if old.preset.transport == preset.transport, old.preset.listener == preset.listener {
            if case .playing(var session) = old.stage {
                // The old timeline goes on as it was, committing as the new parts do; no redraw or held
                // step carries over to them.
                session.schedule.harmony = HarmonyCommit(preset: preset, parts: parts, rate: session.sampleRate)
                session.schedule.forgetReaction()
                stage = .playing(session)
            }
            clockOut = old.clockOut
            idleSteps = old.idleSteps
            playerVelocity = old.playerVelocity
            answer.playerWasSounding = old.answer.playerWasSounding
        }
        started = false
        return messages
    }

    /// The ports give the engine a monotonic clock; should frames still go back by more than a second
    /// (another backend, a restarted server seen raw), every frame the grid and the listener hold is from
    /// the old clock. A short step back is harmless (frame arithmetic here is order-safe; things wait a
    /// little); a long one would leave the band waiting hours for its next boundary. So the parts end
    /// their notes now and the grid and the listener start again, as at launch.
    private mutating func startAfterClockWentBack(earliest: UInt64, output: inout [ScheduledMessage]) {
        for part in parts { part.clockWentBack(to: earliest, out: &output) }
        if preset.transport.clockOut, isRunning {
            output.append(ScheduledMessage(frame: earliest, port: preset.sharedPort, message: .stop))
        }
        stage = .waitingForRate
        clockOut = ClockOut()
        answer.stepsLeft = 0
        answer.listenAgain()
        started = false
    }

    /// Steps more than this many bars behind the cycle are skipped, not decided one by one.
    static let stallBars = 2.0

    /// After a stall the grid may be many steps behind the clock; deciding each would be a burst of model
    /// steps (hours of them after a suspend) for notes that could no longer sound. The parts stop what they
    /// play and the grid resumes at the current step.
    private mutating func skipStall(_ session: inout Session, earliest: UInt64, output: inout [ScheduledMessage]) {
        guard session.transport.isRunning, !session.transport.source.countsTicks else { return }
        let now = session.transport.position(at: earliest)
        guard now - Double(session.transport.upcomingStep) > Self.stallBars * Double(preset.transport.meter.stepsPerBar) else { return }
        let resume = Int64(saturating: now.rounded(.down))
        session.transport.skip(to: resume)
        session.schedule.skip(to: resume)
        for part in parts { part.silence(at: earliest, out: &output) }
    }

    /// Steps whose boundaries the grid passes through `frame`: the listener closes each, the band stops
    /// after its idle bars, and a step not decided yet (nor waiting for the melody) is decided now.
    mutating func drainBoundaries(_ session: inout Session, through frame: UInt64, earliest: UInt64, output: inout [ScheduledMessage]) {
        while let boundary = session.transport.nextBoundary(through: frame) {
            let report = session.listener.beginStep(boundary)
            if report.phraseEnded { startContinuation() }
            // Idle from the player's last note (either hand), not from the end of their phrase (which comes
            // phrase_end_beats later): the band stops idle_bars after the player did.
            let played = session.listener.allNotes(atStep: boundary.step - 1).map { !$0.sounding.isEmpty } ?? false
            idleSteps = played || answer.stepsLeft > 0 || !session.listener.keysDown.isEmpty ? 0 : idleSteps + 1
            let idleLimit = preset.performance.idleBars * preset.transport.meter.stepsPerBar
            // An ending stops the band half a bar after its landing.
            let ended = directions.endingAt != .max && boundary.step >= directions.endingAt + Int64(preset.transport.meter.stepsPerBar / 2)
            if ended || (idleLimit > 0 && idleSteps >= idleLimit), !session.transport.source.countsTicks {
                // The song has ended, or nobody has played for a while: the band stops (its notes end below)
                // and waits for the player.
                session.transport.stop(at: boundary.frame)
                clockOut.end(at: max(boundary.frame, earliest))
                session.metronome?.end()
                session.schedule.forgetReaction()
                idleSteps = 0
                directions.songStarting = true
                break
            }
            if session.schedule.boundaryPassed(boundary.step) {
                decide(through: boundary.step, &session, earliest: earliest, output: &output)
            }
        }
        if !session.transport.isRunning, parts.contains(where: { !$0.sounding.isEmpty }) {
            for part in parts { part.silence(at: earliest, out: &output) }
        }
    }

    /// Decides every step due before `limit` (the steps this cycle is the last to write on time); a step
    /// the style plays early (a swing's off-beat) is due that much sooner.
    private mutating func anticipate(_ session: inout Session, before limit: UInt64, earliest: UInt64, output: inout [ScheduledMessage]) {
        guard session.transport.isRunning, !session.transport.source.countsTicks else { return }
        while true {
            let next = session.schedule.next
            let lead = UInt64(max(0, -feel(at: next)) * session.transport.framesPerStep)
            guard session.schedule.nextIsDue(before: limit + lead, on: session.transport) else { return }
            decide(through: next, &session, earliest: earliest, output: &output)
        }
    }

    /// Between 16ths the engine sleeps for a hundred milliseconds and more, and whatever else runs evicts the
    /// models' weights: a step then reads them from memory, several times slower than from cache (the bench's
    /// cold steps). So one or two cycles before the next step is due, every part's model is readied: what its
    /// step reads read, and a step rehearsed and taken back, three times over (`StreamingModel.prefetch`).
    /// A clock-following transport is placed on the grid by its ticks, which the frame estimate tracks.
    private mutating func warmBeforeNextStep(_ session: Session, before limit: UInt64) {
        guard session.transport.isRunning else { return }
        let next = session.schedule.next
        guard next != warmedStep, session.schedule.nextIsDue(before: limit, on: session.transport) else { return }
        warmedStep = next
        warmedSteps += 1
        // Once per model: the band model's shares are three parts on one model, and readying it costs a step.
        for (k, part) in parts.enumerated() {
            guard let model = part.stepModel, !parts[..<k].contains(where: { $0.stepModel === model }) else { continue }
            model.prefetch()
        }
    }

    /// Where the band's style plays `step`'s notes against the grid, in steps (StyleBank.offset).
    func feel(at step: Int64) -> Double {
        let bar = Int64(preset.transport.meter.stepsPerBar)
        return styleBank.offset(style: directions.style(at: step), stepInBar: Int(((step % bar) + bar) % bar), stepsPerBar: Int(bar))
    }

    /// Ends every part's notes (the daemon calls this on stop and reload through its own tracker as well).
    public mutating func silence(at frame: UInt64, output: inout [ScheduledMessage]) {
        for part in parts { part.silence(at: frame, out: &output) }
        answer.stepsLeft = 0
    }
}

extension MusicalEngine {
    /// Only a musical engine's parts and grid can be carried on; from anything else nothing is taken over.
    public mutating func takeOver(from old: any PerformanceEngine, at frame: UInt64) -> [ScheduledMessage]? {
        guard let old = old as? MusicalEngine else { return nil }
        let ending: [ScheduledMessage] = takeOver(from: old, at: frame)
        return ending
    }
}
