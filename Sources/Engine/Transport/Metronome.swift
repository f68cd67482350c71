import MIDI

/// The count-in and metronome: a click on every beat of the meter (dotted quarters in 6/8) on the
/// General MIDI drum channel — high wood block (76) on downbeats, low wood block (77) on the other
/// beats — at the exact frame of the beat, each followed by its note-off a short moment later.
public struct Metronome: Sendable {
    public static let drumChannel: MIDIChannel = 9
    public static let downbeatNote: UInt8 = 76
    public static let beatNote: UInt8 = 77

    /// Keep clicking after the count-in (a metronome), or only during the negative steps.
    public var clicksAfterCountIn: Bool
    public var velocity: UInt8 = 100
    public let clickFrames: UInt64

    private var nextBeatStep: Int64? = nil
    private var offFrame: UInt64? = nil
    private var offNote: UInt8 = 0

    public init(sampleRate: Double, clicksAfterCountIn: Bool = false, clickMilliseconds: Double = 30) {
        self.clicksAfterCountIn = clicksAfterCountIn
        clickFrames = UInt64(max(1, (clickMilliseconds * sampleRate / 1000).rounded()))
    }

    /// Starts clicking from the first beat at or after the transport's next step.
    public mutating func begin(transport: Transport) {
        let perBeat = Int64(transport.meter.stepsPerBeat)
        let step = transport.upcomingStep
        // Integer division truncates towards zero: a ceiling for negative steps already.
        var beat = step / perBeat
        if beat * perBeat < step { beat += 1 }
        nextBeatStep = beat * perBeat
    }

    public mutating func end() {
        nextBeatStep = nil
    }

    /// The next click note-on or note-off before `end`, in frame order, or nil.
    public mutating func next(before end: UInt64, transport: Transport) -> TimedMIDIMessage? {
        var clickFrame: UInt64? = nil
        if let step = nextBeatStep, transport.isRunning, step < 0 || clicksAfterCountIn {
            clickFrame = transport.frame(ofStep: step)
        }
        if let off = offFrame, off < end, off <= (clickFrame ?? .max) {
            offFrame = nil
            return TimedMIDIMessage(time: off, message: .noteOff(channel: Self.drumChannel, note: offNote, velocity: 0))
        }
        guard let at = clickFrame, let step = nextBeatStep, at < end else { return nil }
        let perBar = Int64(transport.meter.stepsPerBar)
        let downbeat = ((step % perBar) + perBar) % perBar == 0
        let note = downbeat ? Self.downbeatNote : Self.beatNote
        nextBeatStep = step + Int64(transport.meter.stepsPerBeat)
        offFrame = at + clickFrames
        offNote = note
        return TimedMIDIMessage(time: at, message: .noteOn(channel: Self.drumChannel, note: note, velocity: velocity))
    }
}
