import MIDI

/// Keeps the grid: turns sample frames into 16th-note steps, beats and bars, and says when each step
/// begins. Time comes in only as frames — JACK frames live, a simulated clock offline — so the same
/// code runs in both, and nothing here reads a system clock or allocates.
///
/// Driving it: feed every incoming message in frame order with `receive(_:at:)` (clock, start/stop,
/// song position, the player's notes and the tap controller; others are ignored), and before each
/// event and at the end of each period drain `nextBoundary(through:)`. Tempo is the quarter-note bpm.
///
/// - fixed: the preset tempo; `setTempo` takes effect at the next step boundary, so the position
///   never jumps. `start(at:)` begins a count-in of `countInBars` bars (negative steps) if asked.
/// - clock: position is counted in incoming clock ticks (6 per step) and a boundary is reported at the
///   very tick that starts a step, so it cannot drift from the master; the tempo estimate only predicts
///   the next boundary. Start (FA) goes to position 0 at the next tick, continue (FB) resumes, stop (FC)
///   halts, song position (F2) sets where continue resumes. `start(at:)` is not used.
/// - follow: the player's onsets (and taps) steer tempo and phase (`BeatTracker`); the grid starts at
///   the first onset or tap unless `start(at:)` started it before, at the preset tempo. The follower
///   moves within an octave centred on the preset tempo (√½ to √2 times it, inside `tempoRange`), so it
///   never lands on half or double time; taps and `setTempo` move that octave.
public struct Transport: Sendable {
    public let sampleRate: Double
    public let meter: Meter
    public let source: TempoSource
    public let countInBars: Int
    /// Controller whose presses (value >= 64) are taps, in follow mode.
    public let tapController: UInt8?
    /// The player's channel for follow mode, nil for all.
    public let followChannel: MIDIChannelNumber?

    public private(set) var isRunning = false
    public private(set) var timeline: Timeline
    /// The boundary most recently reported by `nextBoundary(through:)`.
    public private(set) var lastBoundary: StepBoundary?
    private var nextStepIndex: Int64 = 0
    private var pendingStep: Int64 = 0
    private var pendingFramesPerStep: Double? = nil
    /// Latest frame at which the follower moved the grid: boundaries are not reported before it.
    private var floorFrame: UInt64 = 0

    private var clock: ClockFollower
    private var clockNextTick: Int64 = 0
    private var lastTick: (index: Int64, frame: UInt64)? = nil
    private var clockSteps = InlineArray<8, Int64>(repeating: 0)
    private var clockFrames = InlineArray<8, UInt64>(repeating: 0)
    private var clockQueued = 0
    private var clockHead = 0

    private var tracker: BeatTracker

    public init(
        settings: TransportSettings, sampleRate: Double, tapController: UInt8? = nil,
        followChannel: MIDIChannelNumber? = nil, tempoRange: ClosedRange<Double> = 40...240
    ) {
        self.sampleRate = sampleRate
        meter = settings.meter
        source = settings.source
        countInBars = max(0, settings.countInBars)
        self.tapController = tapController
        self.followChannel = followChannel
        let bpm = min(max(settings.bpm, tempoRange.lowerBound), tempoRange.upperBound)
        let fps = Timeline.framesPerStep(bpm: bpm, sampleRate: sampleRate)
        timeline = Timeline(anchorFrame: 0, anchorPosition: 0, framesPerStep: fps)
        clock = ClockFollower(initialFramesPerTick: fps / 6)
        // The follower's range is in beats of the meter (dotted quarters in 6/8).
        let beatsPerQuarter = 4 / Double(settings.meter.stepsPerBeat)
        tracker = BeatTracker(
            sampleRate: sampleRate, stepsPerBeat: settings.meter.stepsPerBeat,
            tempoRange: (tempoRange.lowerBound * beatsPerQuarter)...(tempoRange.upperBound * beatsPerQuarter),
            expectedFramesPerBeat: fps * Double(settings.meter.stepsPerBeat))
    }

    // MARK: - Reading the grid

    /// Current quarter-note tempo (the estimate, for clock and follow).
    public var bpm: Double { Timeline(anchorFrame: 0, anchorPosition: 0, framesPerStep: framesPerStep).bpm(sampleRate: sampleRate) }

    public var framesPerStep: Double { pendingFramesPerStep ?? timeline.framesPerStep }

    /// The step the next reported boundary will begin.
    public var upcomingStep: Int64 {
        source.countsTicks ? (clockNextTick + 5) / 6 : nextStepIndex
    }

    /// Position in steps at `frame` (fractional between boundaries). In clock mode it never runs past
    /// the tick that has not come yet.
    public func position(at frame: UInt64) -> Double {
        switch source {
        case .clock, .jack, .link:
            guard isRunning, let tick = lastTick else { return Double(clockNextTick) / 6 }
            let ticks = Double(frame.frames(since: tick.frame)) / clock.framesPerTick
            return (Double(tick.index) + min(ticks, 0.999)) / 6
        default:
            return segment(forFrame: frame).position(at: frame)
        }
    }

    /// The frame at which `step` begins (predicted, for steps not reached yet).
    public func frame(ofStep step: Int64) -> UInt64 {
        segment(forPosition: Double(step)).frame(at: Double(step))
    }

    /// The frame of MIDI clock tick `tick` (24 per quarter; tick 0 is position 0).
    public func frame(ofTick tick: Int64) -> UInt64 {
        segment(forPosition: Double(tick) / 6).frame(atTick: tick)
    }

    /// Where the next boundary is expected, nil when stopped (or in clock mode before the first tick).
    public var predictedNextBoundaryFrame: UInt64? {
        guard isRunning else { return nil }
        if source.countsTicks, lastTick == nil { return nil }
        return max(frame(ofStep: upcomingStep), lastBoundary?.frame ?? 0)
    }

    /// Frames per beat of the meter at the current tempo.
    public var framesPerBeat: Double { framesPerStep * Double(meter.stepsPerBeat) }

    private func segment(forFrame frame: UInt64) -> Timeline {
        guard let fps = pendingFramesPerStep else { return timeline }
        let switchFrame = timeline.frame(at: Double(pendingStep))
        return frame >= switchFrame
            ? Timeline(anchorFrame: switchFrame, anchorPosition: Double(pendingStep), framesPerStep: fps) : timeline
    }

    private func segment(forPosition position: Double) -> Timeline {
        guard let fps = pendingFramesPerStep, position >= Double(pendingStep) else { return timeline }
        return Timeline(
            anchorFrame: timeline.frame(at: Double(pendingStep)), anchorPosition: Double(pendingStep), framesPerStep: fps)
    }

    // MARK: - Control

    /// Starts the grid at `frame` (fixed and follow). Position 0 is `countInBars` bars later in fixed
    /// mode; the steps before it are the count-in.
    public mutating func start(at frame: UInt64) {
        guard !source.countsTicks else { return }
        let countIn = source == .fixed ? Int64(countInBars * meter.stepsPerBar) : 0
        begin(at: frame, step: -countIn)
    }

    private mutating func begin(at frame: UInt64, step: Int64) {
        if let fps = pendingFramesPerStep { timeline.framesPerStep = fps }
        pendingFramesPerStep = nil
        timeline = Timeline(anchorFrame: frame, anchorPosition: Double(step), framesPerStep: timeline.framesPerStep)
        nextStepIndex = step
        lastBoundary = nil
        floorFrame = frame
        isRunning = true
        tracker.reset()
    }

    /// Moves the next reported boundary forward to `step` without reporting the steps between: after a
    /// stall (a frozen server, a suspended machine) the grid goes on from where the music is now instead
    /// of replaying every missed step. Fixed and follow only: clock mode is the master's to move.
    public mutating func skip(to step: Int64) {
        guard !source.countsTicks, isRunning, step > nextStepIndex else { return }
        if let fps = pendingFramesPerStep, step > pendingStep {
            timeline = Timeline(anchorFrame: frame(ofStep: pendingStep), anchorPosition: Double(pendingStep), framesPerStep: fps)
            pendingFramesPerStep = nil
        }
        nextStepIndex = step
        lastBoundary = nil
    }

    public mutating func stop(at frame: UInt64) {
        isRunning = false
    }

    /// A new tempo (fixed mode, or a hint in follow mode, which also re-centres the band the follower
    /// may move in). While running it takes effect at the next step boundary, so that step still falls
    /// where it was announced and the position stays continuous.
    public mutating func setTempo(bpm: Double) {
        let fps = Timeline.framesPerStep(bpm: min(max(bpm, 20), 400), sampleRate: sampleRate)
        guard !source.countsTicks else { return }
        if source == .follow { tracker.expect(framesPerBeat: fps * Double(meter.stepsPerBeat)) }
        if isRunning {
            if pendingFramesPerStep == nil { pendingStep = nextStepIndex }
            pendingFramesPerStep = fps
        } else {
            timeline.framesPerStep = fps
        }
    }

    /// Takes one incoming message at its frame. Messages that do not concern the transport are ignored.
    public mutating func receive(_ message: MIDIMessage, at frame: UInt64) {
        switch source {
        case .clock, .jack, .link: receiveClock(message, at: frame)
        case .follow: receiveFollow(message, at: frame)
        case .fixed: break
        }
    }

    private mutating func receiveFollow(_ message: MIDIMessage, at frame: UInt64) {
        switch message {
        case .noteOn(let channel, _, let velocity) where velocity > 0:
            if let c = followChannel, c != channel { return }
            if !isRunning {
                begin(at: frame, step: 0)
            }
            tracker.onset(at: frame, timeline: &timeline)
            floorFrame = max(floorFrame, frame)
        case .controlChange(_, let controller, let value) where controller == tapController && value >= 64:
            if !isRunning { begin(at: frame, step: 0) }
            tracker.tap(at: frame, timeline: &timeline)
            floorFrame = max(floorFrame, frame)
        default:
            break
        }
    }

    private mutating func receiveClock(_ message: MIDIMessage, at frame: UInt64) {
        switch message {
        case .clock:
            clock.tick(at: frame)
            timeline.framesPerStep = clock.framesPerTick * 6
            guard isRunning else { return }
            let index = clockNextTick
            clockNextTick += 1
            lastTick = (index, frame)
            timeline = Timeline(anchorFrame: frame, anchorPosition: Double(index) / 6, framesPerStep: clock.framesPerTick * 6)
            if index % 6 == 0 { queueClockBoundary(step: index / 6, frame: frame) }
        case .start:
            isRunning = true
            clockNextTick = 0
            lastTick = nil
            lastBoundary = nil
            clockQueued = 0
        case .continue:
            isRunning = true
            lastTick = nil
        case .stop:
            isRunning = false
        case .songPosition(let sixteenths):
            // Song position counts MIDI beats: 16ths, the same as our steps.
            guard !isRunning else { return }
            clockNextTick = Int64(sixteenths) * 6
            lastTick = nil
            clockQueued = 0
        default:
            break
        }
    }

    private mutating func queueClockBoundary(step: Int64, frame: UInt64) {
        if clockQueued == 8 {
            clockHead = (clockHead + 1) % 8
            clockQueued -= 1
        }
        let slot = (clockHead + clockQueued) % 8
        clockSteps[slot] = step
        clockFrames[slot] = frame
        clockQueued += 1
    }

    // MARK: - Boundaries

    /// The next step boundary at or before `frame` not yet reported, or nil. Steps are reported one by
    /// one, never skipped, in increasing frame order.
    public mutating func nextBoundary(through frame: UInt64) -> StepBoundary? {
        if source.countsTicks {
            guard clockQueued > 0, clockFrames[clockHead] <= frame else { return nil }
            let step = clockSteps[clockHead]
            let at = clockFrames[clockHead]
            clockHead = (clockHead + 1) % 8
            clockQueued -= 1
            let b = meter.boundary(step: step, frame: at, framesPerStep: clock.framesPerTick * 6)
            lastBoundary = b
            return b
        }
        guard isRunning else { return nil }
        let step = nextStepIndex
        let predicted = self.frame(ofStep: step)
        let at = max(predicted, floorFrame, lastBoundary?.frame ?? 0)
        guard at <= frame else { return nil }
        if let fps = pendingFramesPerStep, step >= pendingStep {
            timeline = Timeline(anchorFrame: predicted, anchorPosition: Double(step), framesPerStep: fps)
            pendingFramesPerStep = nil
        }
        nextStepIndex += 1
        let b = meter.boundary(step: step, frame: at, framesPerStep: timeline.framesPerStep)
        lastBoundary = b
        return b
    }
}
