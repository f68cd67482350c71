import MIDI
import Music
import Neural

/// What a part plays: the steps its brain draws, written as note-ons and note-offs at exact frames. The
/// hands remember every note they have sounding, so each note a part starts the part also ends (its grid,
/// a mute, a mode change, panic, stop), and they keep the note frames that let messages at one frame come
/// out in any order. Fixed-size values: nothing here allocates.
struct PartHands {
    let role: PartRole
    let vocabulary: PartVocabulary
    let port: Int
    let channel: MIDIChannel
    let stepsOfSixteenth: Int
    var humanizer: Humanizer
    /// Frame of each sounding pitch's note-on: a note-off is never written at or before it.
    var onFrames = InlineArray<128, UInt64>(repeating: 0)
    /// Frame of each pitch's latest note-off: its next note-on comes after it, whatever order a scheduler
    /// keeps for messages at one frame.
    var offFrames = InlineArray<128, UInt64>(repeating: 0)
    private(set) var sounding = PitchSet()
    /// The part's output on its latest step, and on the one before (what the other parts hear).
    private(set) var output = PitchSet()
    private(set) var previousOutput = PitchSet()
    /// Notes started on the latest step (a reaction may take them back).
    var startedOnStep = PitchSet()
    /// True between a reaction's take-back and its redraw's render: the notes the step started and the
    /// redraw keeps sound on (`startedOnStep`) rather than being struck twice.
    var redrawing = false

    init(settings: PartSettings, vocabulary: PartVocabulary, port: Int, sampleRate: Double, seed: UInt64) {
        role = settings.role
        self.vocabulary = vocabulary
        self.port = port
        channel = settings.channel
        stepsOfSixteenth = settings.grid.stepsOfSixteenth
        humanizer = Humanizer(settings: settings.humanize, grid: settings.grid, sampleRate: sampleRate, seed: seed)
    }

    /// A new step is being decided: what the part played so far becomes what it played before.
    mutating func beginStep() {
        previousOutput = output
        redrawing = false
    }

    /// A listening continuation sounds nothing, but the band hears the player's melody note as its output.
    mutating func echo(playerEvent: Int) {
        output = playerEvent >= PartVocabulary.firstPitchIndex ? Self.single(playerEvent - PartVocabulary.firstPitchIndex) : PitchSet()
    }

    /// Back to the start of a piece: nothing played yet (sounding notes are ended by `silence`, not here).
    mutating func forgetSteps() {
        output = PitchSet()
        previousOutput = PitchSet()
    }

    /// The pitches a choice sounds from this step on (events: the note struck, the note held, or none).
    func pitches(of choice: FeatureList) -> PitchSet {
        switch vocabulary {
        case .events:
            let e = Int(choice.indices[0])
            if e == 0 { return sounding }
            if e == 1 { return PitchSet() }
            return Self.single(e - PartVocabulary.firstPitchIndex)
        case .noteSets:
            var set = PitchSet()
            for k in 0..<choice.count { set.insert(UInt8(Int(choice.indices[k]) + PartVocabulary.lowestPianoNote)) }
            return set
        case .onsetHold:
            let (struck, held) = halves(of: choice)
            return struck.union(held.intersection(sounding))
        case .ensemble:
            // Hands play a band model's share in their role's vocabulary (PartVocabulary.played(by:)).
            return PitchSet()
        }
    }

    /// The pitches an onset and hold choice strikes, and those it holds (sounding or not).
    func halves(of choice: FeatureList) -> (struck: PitchSet, held: PitchSet) {
        var struck = PitchSet(), held = PitchSet()
        for k in 0..<choice.count {
            let unit = Int(choice.indices[k])
            let pitch = UInt8(PartVocabulary.pitch(ofUnit: unit))
            if PartVocabulary.isHeld(unit: unit) { held.insert(pitch) } else { struck.insert(pitch) }
        }
        return (struck, held)
    }

    /// Writes a choice as notes: what stops sounding ends at the step (one frame before it, so a pitch
    /// struck again cannot lose its new note to its old note-off), new notes start at the humanized frame.
    /// Drums are hits: each ends half a step later. An onset and hold choice strikes its struck pitches
    /// (ending a sounding one first), keeps its held pitches that sound (one that does not is not started),
    /// and ends every other sounding pitch. `stepFrame` is the grid frame, `earliest` the first frame that
    /// can still be written.
    mutating func render(
        _ choice: FeatureList, step: Int64, stepFrame: UInt64, earliest: UInt64, framesPerStep: Double,
        velocity: Double, out: inout [ScheduledMessage]
    ) {
        // A redraw's notes that the first draw of the step already started sound on.
        let startedEarlier = redrawing ? startedOnStep : PitchSet()
        redrawing = false
        let next = pitches(of: choice)
        var struck = PitchSet()
        switch vocabulary {
        case .events:
            let e = Int(choice.indices[0])
            if e >= PartVocabulary.firstPitchIndex { struck = next }
        case .noteSets where role == .drums:
            struck = next
        case .noteSets:
            struck = next.subtracting(sounding)
        case .onsetHold:
            struck = halves(of: choice).struck.subtracting(startedEarlier)
        case .ensemble:
            break
        }
        let offFrame = max(earliest, stepFrame > 0 ? stepFrame - 1 : 0)
        // What ends: notes not in the next set, and notes struck again.
        var ending = sounding
        while let p = ending.lowest {
            ending.remove(p)
            if !next.contains(p) || struck.contains(p) { end(p, at: offFrame, out: &out) }
        }
        startedOnStep = startedEarlier
        var starting = struck
        while let p = starting.lowest {
            starting.remove(p)
            var at = humanizer.onFrame(step: step, frame: stepFrame, framesPerStep: framesPerStep, earliest: earliest)
            if offFrames[Int(p)] >= at { at = offFrames[Int(p)] + 1 }
            let v = humanizer.velocity(velocity)
            out.append(ScheduledMessage(frame: at, port: port, message: .noteOn(channel: channel, note: p, velocity: v)))
            onFrames[Int(p)] = at
            if role == .drums {
                let length = max(1, UInt64(saturating: framesPerStep * Double(stepsOfSixteenth) / 2))
                out.append(ScheduledMessage(frame: at + length, port: port, message: .noteOff(channel: channel, note: p, velocity: 0)))
                offFrames[Int(p)] = at + length
            } else {
                sounding.insert(p)
                startedOnStep.insert(p)
            }
        }
        output = role == .drums ? next : sounding
    }

    private mutating func end(_ pitch: UInt8, at frame: UInt64, out: inout [ScheduledMessage]) {
        guard sounding.contains(pitch) else { return }
        let at = max(frame, onFrames[Int(pitch)] + 1)
        out.append(ScheduledMessage(frame: at, port: port, message: .noteOff(channel: channel, note: pitch, velocity: 0)))
        offFrames[Int(pitch)] = at
        sounding.remove(pitch)
    }

    /// Ends the notes the latest step started that a reaction's redraw does not keep: a kept pitch sounds on
    /// rather than being struck twice.
    mutating func takeBackStep(at frame: UInt64, keeping kept: PitchSet, out: inout [ScheduledMessage]) {
        var started = startedOnStep.subtracting(kept)
        while let p = started.lowest {
            started.remove(p)
            end(p, at: frame, out: &out)
        }
        startedOnStep = startedOnStep.intersection(kept)
        redrawing = true
    }

    /// The clock went back (a restarted server seen without the ports' monotonic clock): frames from
    /// before mean nothing now. Ends every sounding note at `frame` itself, not after when it started,
    /// and forgets when notes started and ended, so no note-off waits for a frame of the old clock.
    mutating func clockWentBack(to frame: UInt64, out: inout [ScheduledMessage]) {
        var left = sounding
        while let p = left.lowest {
            left.remove(p)
            out.append(ScheduledMessage(frame: frame, port: port, message: .noteOff(channel: channel, note: p, velocity: 0)))
        }
        sounding = PitchSet()
        output = PitchSet()
        onFrames = InlineArray(repeating: 0)
        offFrames = InlineArray(repeating: 0)
    }

    /// Ends every note the part has sounding, at `frame` or later.
    mutating func silence(at frame: UInt64, out: inout [ScheduledMessage]) {
        var left = sounding
        while let p = left.lowest {
            left.remove(p)
            end(p, at: frame, out: &out)
        }
        output = PitchSet()
    }

    /// A set of one pitch, built without an array (this runs on every step).
    static func single(_ pitch: Int) -> PitchSet {
        var set = PitchSet()
        set.insert(UInt8(pitch & 0x7F))
        return set
    }
}
