import MIDI

/// A sounding note in a track: when it starts and stops (in ticks), its pitch, velocity and channel.
public struct NoteSpan: Hashable, Sendable {
    public var start: Int
    public var end: Int
    public var pitch: UInt8
    public var velocity: UInt8
    public var channel: MIDIChannel
}

extension MIDITrack {
    /// Pairs every note-on with its note-off (first on, first off, per channel and key). A note still
    /// sounding at the end of the track ends at the track's last tick; a note-off with no note-on is ignored.
    public func noteSpans() -> [NoteSpan] {
        NoteSpan.pairing(events.lazy.compactMap { e in e.message.map { (e.tick, $0) } }, end: endTick)
    }
}

extension NoteSpan {
    /// Notes from messages in time order, at times in any unit (ticks, frames): each note-on is paired with
    /// its note-off, first on first off per channel and key. A note still sounding at `end` ends there (or
    /// where it started, if later); a note-off with no note-on is ignored.
    public static func pairing<S: Sequence>(_ messages: S, end: Int) -> [NoteSpan] where S.Element == (Int, MIDIMessage) {
        var open: [Int: [(tick: Int, velocity: UInt8)]] = [:]
        var spans: [NoteSpan] = []
        for (time, message) in messages {
            switch message {
            case .noteOn(let c, let n, let v) where v > 0:
                open[Int(c) << 7 | Int(n), default: []].append((time, v))
            case .noteOn(let c, let n, _), .noteOff(let c, let n, _):
                let key = Int(c) << 7 | Int(n)
                guard var started = open[key], !started.isEmpty else { continue }
                let first = started.removeFirst()
                open[key] = started
                spans.append(NoteSpan(start: first.tick, end: time, pitch: n, velocity: first.velocity, channel: c))
            default:
                continue
            }
        }
        for (key, started) in open {
            for s in started {
                spans.append(NoteSpan(start: s.tick, end: max(end, s.tick), pitch: UInt8(key & 0x7F), velocity: s.velocity, channel: MIDIChannel(key >> 7)))
            }
        }
        return spans.sorted { ($0.start, $0.pitch) < ($1.start, $1.pitch) }
    }
}

/// Puts note spans on a grid of steps, `ticksPerStep` ticks each, rounding onsets and ends to the nearest
/// step (humanised onsets a few ticks off the grid land on it). A note always lasts at least one step.
public struct StepQuantizer: Sendable {
    public var ticksPerStep: Int

    public init(ticksPerQuarter: Int, stepsPerQuarter: Int = 4) {
        ticksPerStep = max(1, ticksPerQuarter / stepsPerQuarter)
    }

    public func step(_ tick: Int) -> Int { (tick + ticksPerStep / 2) / ticksPerStep }

    /// Onset step and length in steps.
    public func place(_ span: NoteSpan) -> (onset: Int, duration: Int) {
        let onset = step(span.start)
        return (onset, max(1, step(span.end) - onset))
    }

    /// A monophonic line: at each onset keep the lowest note (bass) or the highest (melody), and cut a
    /// note short where the next one starts.
    public func melody(_ spans: [NoteSpan], keepLowest: Bool, stepsPerBar: Int?) -> Melody {
        var byOnset: [Int: (pitch: UInt8, duration: Int)] = [:]
        for span in spans {
            let (onset, duration) = place(span)
            if let kept = byOnset[onset], keepLowest ? kept.pitch <= span.pitch : kept.pitch >= span.pitch { continue }
            byOnset[onset] = (span.pitch, duration)
        }
        let onsets = byOnset.keys.sorted()
        var notes: [(onset: Int, duration: Int, pitch: UInt8)] = []
        for (i, onset) in onsets.enumerated() {
            let note = byOnset[onset]!
            let limit = i + 1 < onsets.count ? onsets[i + 1] - onset : note.duration
            notes.append((onset, min(note.duration, limit), note.pitch))
        }
        return Melody(notes: notes, stepsPerBar: stepsPerBar)
    }

    /// Pitches sounding on each step, through `steps` steps.
    public func soundingFrames(_ spans: [NoteSpan], steps: Int) -> PianoRoll {
        var frames = [[UInt8]](repeating: [], count: steps)
        for span in spans {
            let (onset, duration) = place(span)
            for s in onset..<min(steps, onset + duration) where s >= 0 { frames[s].append(span.pitch) }
        }
        return PianoRoll(frames: frames)
    }

    /// Pitches struck on each step and pitches held on it from an earlier onset, through `steps` steps: the
    /// same notes as `soundingFrames`, split where each starts. A note struck on a step where the same pitch
    /// still sounds is struck there (a re-strike), not held.
    public func onsetHoldFrames(_ spans: [NoteSpan], steps: Int) -> OnsetHoldRoll {
        var struck = [[UInt8]](repeating: [], count: steps)
        var held = [[UInt8]](repeating: [], count: steps)
        for span in spans {
            let (onset, duration) = place(span)
            if onset >= 0 && onset < steps { struck[onset].append(span.pitch) }
            let end = min(steps, onset + duration)
            if onset + 1 < end { for s in max(0, onset + 1)..<end { held[s].append(span.pitch) } }
        }
        for s in 0..<steps where !struck[s].isEmpty { held[s].removeAll { struck[s].contains($0) } }
        return OnsetHoldRoll(struck: PianoRoll(frames: struck), held: PianoRoll(frames: held))
    }

    /// Pitches struck on each step (drums: a hit has no meaningful length).
    public func onsetFrames(_ spans: [NoteSpan], steps: Int) -> PianoRoll {
        var frames = [[UInt8]](repeating: [], count: steps)
        for span in spans {
            let onset = step(span.start)
            if onset >= 0 && onset < steps { frames[onset].append(span.pitch) }
        }
        return PianoRoll(frames: frames)
    }
}
