import MIDI

/// A note in time: when it starts and stops, in seconds from the song's start. The band measures read
/// notes this way so a song's real parts and what the engine played are measured alike, to the
/// millisecond, before anything is put on the grid.
public struct TimedNote: Hashable, Sendable {
    public var start: Double
    public var end: Double
    public var pitch: UInt8

    public init(start: Double, end: Double, pitch: UInt8) {
        self.start = start
        self.end = end
        self.pitch = pitch
    }

    public var duration: Double { end - start }
}

/// A song's 16th-note grid: step k starts k steps after the song's start, at one tempo (the band corpus
/// keeps one tempo a song, and the engine plays an offline song at its first tempo).
public struct StepGrid: Sendable, Equatable {
    public var secondsPerStep: Double
    public var stepsPerBar: Int
    public var bars: Int

    public init(beatsPerMinute: Double, stepsPerBar: Int, bars: Int) {
        secondsPerStep = 15 / beatsPerMinute
        self.stepsPerBar = stepsPerBar
        self.bars = bars
    }

    public var steps: Int { bars * stepsPerBar }

    /// Where `seconds` falls, in steps (fractional).
    public func position(_ seconds: Double) -> Double { seconds / secondsPerStep }

    /// The nearest step: a note humanised a little early or late belongs to the step it was meant for.
    public func step(_ seconds: Double) -> Int { Int((position(seconds)).rounded()) }

    public func seconds(atStep step: Int) -> Double { Double(step) * secondsPerStep }

    /// True when the note's nearest step lies in the song (the measures leave out what sounds after it).
    public func contains(_ note: TimedNote) -> Bool { (0..<steps).contains(step(note.start)) }
}

/// One performance of a band song, as the measures read it: the song's grid and chords, and the notes of
/// each role, one list per instrument (a MIDI track of the song, or one of a preset's parts). Only notes
/// whose nearest step lies in the song are kept.
public struct BandTake: Sendable {
    public var grid: StepGrid
    /// The chord sounding on each step of the grid.
    public var chordPerStep: [ChordSymbol?]
    public var bass: [[TimedNote]]
    public var keys: [[TimedNote]]
    public var drums: [[TimedNote]]

    public init(grid: StepGrid, chordPerStep: [ChordSymbol?], bass: [[TimedNote]], keys: [[TimedNote]], drums: [[TimedNote]]) {
        self.grid = grid
        self.chordPerStep = chordPerStep
        let inSong = { (parts: [[TimedNote]]) in parts.map { $0.filter(grid.contains) }.filter { !$0.isEmpty } }
        self.bass = inSong(bass)
        self.keys = inSong(keys)
        self.drums = inSong(drums)
    }

    /// The chord at a note's onset (its nearest step, kept inside the song).
    public func chord(at seconds: Double) -> ChordSymbol? {
        guard !chordPerStep.isEmpty else { return nil }
        return chordPerStep[min(max(grid.step(seconds), 0), chordPerStep.count - 1)]
    }
}

extension TimedNote {
    /// The notes of messages stamped in frames, on one channel: `origin` is the frame of the song's start.
    /// A note still sounding at the last message ends there.
    public static func notes(of messages: [TimedMIDIMessage], channel: MIDIChannel, origin: UInt64, sampleRate: Double) -> [TimedNote] {
        let mine = messages.filter { $0.message.channel == channel }
        let end = Int(mine.map(\.time).max() ?? origin)
        let spans = NoteSpan.pairing(mine.lazy.map { (Int($0.time), $0.message) }, end: end)
        let seconds = { (frame: Int) in (Double(frame) - Double(origin)) / sampleRate }
        return spans.map { TimedNote(start: seconds($0.start), end: seconds($0.end), pitch: $0.pitch) }
    }

    /// A track's notes at the seconds the file's tempo map gives them.
    public static func notes(of track: MIDITrack, tempoMap: TempoMap) -> [TimedNote] {
        track.noteSpans().map {
            TimedNote(start: tempoMap.seconds(atTick: $0.start), end: tempoMap.seconds(atTick: $0.end), pitch: $0.pitch)
        }
    }
}

extension BandSong {
    /// The track a player would play the song's chords from: the one named "Chord" (MMA's main chord
    /// track), else the first chord-role track; nil when the song has none.
    public var chordTrack: Int? {
        let chords = tracks.filter { $0.role == "chord" }
        return (chords.first { $0.name == "Chord" } ?? chords.first)?.index
    }

    /// The song's grid at its file's first tempo.
    public func grid(tempoMap: TempoMap) -> StepGrid {
        StepGrid(beatsPerMinute: tempoMap.segments.first?.beatsPerMinute ?? 120, stepsPerBar: stepsPerBar, bars: steps / max(1, stepsPerBar))
    }

    /// The song's real parts from its MIDI file: bass, chord and drum tracks by their manifest roles.
    public func realTake(file: MIDIFile) -> BandTake {
        let tempoMap = TempoMap(file: file)
        func parts(_ role: String) -> [[TimedNote]] {
            tracks.filter { $0.role == role && file.tracks.indices.contains($0.index) }.map {
                TimedNote.notes(of: file.tracks[$0.index], tempoMap: tempoMap)
            }
        }
        return BandTake(
            grid: grid(tempoMap: tempoMap), chordPerStep: chordPerStep, bass: parts("bass"), keys: parts("chord"), drums: parts("drums"))
    }
}
