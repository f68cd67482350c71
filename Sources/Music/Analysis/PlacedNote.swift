/// A note on the step grid: where it starts, how many steps it sounds, its pitch. What the key
/// measures read, whether the notes come from a corpus or from a model's sampled events.
public struct PlacedNote: Hashable, Sendable {
    public var onset: Int
    public var duration: Int
    public var pitch: UInt8

    public init(onset: Int, duration: Int, pitch: UInt8) {
        self.onset = onset
        self.duration = duration
        self.pitch = pitch
    }
}

extension Melody {
    /// The line's notes: each NOTE_ON starts one, which sounds until the next NOTE_ON or NOTE_OFF (or the
    /// end of the line).
    public var placedNotes: [PlacedNote] {
        var notes: [PlacedNote] = []
        var open: (onset: Int, pitch: UInt8)? = nil
        func close(at step: Int) {
            if let o = open { notes.append(PlacedNote(onset: o.onset, duration: max(1, step - o.onset), pitch: o.pitch)) }
            open = nil
        }
        for (step, event) in events.enumerated() {
            switch event {
            case .noEvent: continue
            case .noteOff: close(at: step)
            case .noteOn(let p):
                close(at: step)
                open = (step, p)
            }
        }
        close(at: events.count)
        return notes
    }
}
