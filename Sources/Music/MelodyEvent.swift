/// What a monophonic line does on one grid step, as Melody RNN encodes it: nothing new (the previous
/// note keeps sounding, or the rest continues), the sounding note stops, or a new note starts.
public enum MelodyEvent: Hashable, Sendable {
    case noEvent
    case noteOff
    case noteOn(UInt8)
}

/// A monophonic line on a grid of steps, with what is known of its meter.
public struct Melody: Equatable, Sendable {
    public var events: [MelodyEvent]
    /// Steps per bar, when the source gives a meter.
    public var stepsPerBar: Int?
    /// Steps from the first event to the first downbeat (the anacrusis), 0 when it starts on one.
    public var pickupSteps: Int

    public init(events: [MelodyEvent], stepsPerBar: Int? = nil, pickupSteps: Int = 0) {
        self.events = events
        self.stepsPerBar = stepsPerBar
        self.pickupSteps = pickupSteps
    }

    /// Builds the event line from notes as (onset step, duration in steps, pitch). A note-off is written
    /// only where a note ends into silence; a note followed at once by the next gets no off of its own,
    /// since the new note-on ends it.
    public init(notes: [(onset: Int, duration: Int, pitch: UInt8)], stepsPerBar: Int? = nil, pickupSteps: Int = 0) {
        let length = notes.map { $0.onset + max($0.duration, 1) }.max() ?? 0
        var events = [MelodyEvent](repeating: .noEvent, count: length)
        for (i, note) in notes.enumerated() {
            events[note.onset] = .noteOn(note.pitch)
            let end = note.onset + max(note.duration, 1)
            let nextOnset = i + 1 < notes.count ? notes[i + 1].onset : Int.max
            if end < length, end < nextOnset { events[end] = .noteOff }
        }
        // The last note ends the line: close it so the model learns where tunes stop.
        events.append(.noteOff)
        self.init(events: events, stepsPerBar: stepsPerBar, pickupSteps: pickupSteps)
    }

    /// Builds the event line from a pitch per step (nil = silent), as chorale voices are stored. A change
    /// of pitch is a new note; an unchanged pitch is held (the 16th-step source cannot tell a repeated
    /// note from a held one).
    public init(pitchPerStep: [UInt8?], stepsPerBar: Int? = nil) {
        var events: [MelodyEvent] = []
        events.reserveCapacity(pitchPerStep.count + 1)
        var sounding: UInt8? = nil
        for pitch in pitchPerStep {
            switch (sounding, pitch) {
            case (nil, nil): events.append(.noEvent)
            case (.some, nil): events.append(.noteOff)
            case (let a, .some(let b)) where a == b: events.append(.noEvent)
            case (_, .some(let b)): events.append(.noteOn(b))
            }
            sounding = pitch
        }
        if sounding != nil { events.append(.noteOff) }
        self.init(events: events, stepsPerBar: stepsPerBar, pickupSteps: 0)
    }

    /// The pitch sounding at each step (nil in rests): the inverse of `init(pitchPerStep:)`.
    public var pitchPerStep: [UInt8?] {
        var result: [UInt8?] = []
        result.reserveCapacity(events.count)
        var sounding: UInt8? = nil
        for event in events {
            switch event {
            case .noEvent: break
            case .noteOff: sounding = nil
            case .noteOn(let p): sounding = p
            }
            result.append(sounding)
        }
        return result
    }

    /// The same line moved by `semitones`, or nil when a note would leave `range`.
    public func transposed(by semitones: Int, within range: ClosedRange<Int> = 0...127) -> Melody? {
        var moved = self
        for (i, event) in events.enumerated() {
            if case .noteOn(let p) = event {
                let q = Int(p) + semitones
                guard range.contains(q) else { return nil }
                moved.events[i] = .noteOn(UInt8(q))
            }
        }
        return moved
    }
}
