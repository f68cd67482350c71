import Foundation
import Live
import MIDI
import Music
import Neural

/// A MIDI file as a MusicVAE reads it (one track's notes on 16th steps, as melody events or drum
/// combinations, cut into phrases of the model's bars), and phrases written back as a MIDI file.
struct PhraseFile {
    let song: OfflineSong
    let content: MusicVAEConfig.Content
    let track: Int
    /// The track's classes from the file's first step, through its last note.
    let line: [Int]
    /// The notes' channel and mean velocity, for writing phrases back in the same voice.
    let channel: MIDIChannel
    let velocity: UInt8

    /// `track`: the file's track to read (default: its first with notes off channel 10 for a melody, its
    /// first with notes on channel 10 for drums).
    init(path: String, content: MusicVAEConfig.Content, track: Int?) throws {
        let song = try OfflineSong(path: path, playerTrack: track)
        self.song = song
        self.content = content
        guard case .ticksPerQuarter(let tpq) = song.file.division else { preconditionFailure("OfflineSong refuses SMPTE files") }
        let wanted: (NoteSpan) -> Bool = { content == .drums ? $0.channel == 9 : $0.channel != 9 }
        let chosen = track ?? song.file.tracks.indices.first { song.file.tracks[$0].noteSpans().contains(where: wanted) }
        guard let chosen else {
            throw Failure(path, content == .drums ? "has no drum notes (channel 10); name the track with --track"
                                                  : "has no notes off channel 10 to read as a melody", status: .dataError)
        }
        let spans = song.file.tracks[chosen].noteSpans().filter { track != nil || wanted($0) }
        guard !spans.isEmpty else { throw Failure(path, "track \(chosen) has no notes", status: .dataError) }
        self.track = chosen
        channel = spans[0].channel
        velocity = UInt8(spans.reduce(0) { $0 + Int($1.velocity) } / spans.count)
        line = content == .melody ? Phrases.melodyLine(spans, ticksPerQuarter: Int(tpq)) : Phrases.drumLine(spans, ticksPerQuarter: Int(tpq))
    }

    /// The pitch classes a melody line strikes (bit k = class k; 0 for drums).
    var pitchClasses: UInt16 {
        guard content == .melody else { return 0 }
        return line.reduce(0) { bits, k in k >= EventVocabulary.firstPitchIndex ? bits | 1 << ((k - EventVocabulary.firstPitchIndex) % 12) : bits }
    }

    /// The line cut into phrases of `steps` steps from the file's first bar (the last one filled with rests).
    func phrases(of steps: Int) -> [[Int]] {
        stride(from: 0, to: max(line.count, 1), by: steps).map { start in
            (start..<(start + steps)).map { $0 < line.count ? line[$0] : 0 }
        }
    }

    /// Phrases one after another as a MIDI file: the input's tempo and meter, one track in its voice.
    static func write(
        _ phrases: [[Int]], content: MusicVAEConfig.Content, like input: PhraseFile, name: String, to path: String, notOver inputs: [String]
    ) throws {
        let tpq = 480
        let ticksPerStep = tpq / 4
        let conductor = MIDITrack(events: [
            SMFEvent(tick: 0, .tempo(microsecondsPerQuarter: UInt32((60_000_000 / input.song.bpm).rounded()))),
            SMFEvent(tick: 0, .timeSignature(numerator: 4, denominatorPower: 2, clocksPerClick: 24, thirtySecondsPerQuarter: 8)),
        ])
        var notes: [(on: Int, off: Int, pitch: UInt8)] = []
        let line = phrases.flatMap { $0 }
        switch content {
        case .melody:
            let melody = Melody(events: line.map { EventVocabulary.event(at: $0) ?? .noEvent })
            notes = melody.placedNotes.map { ($0.onset, $0.onset + $0.duration, $0.pitch) }
        case .drums:
            for (s, k) in line.enumerated() {
                for p in DrumClasses.notes(of: k) { notes.append((s, s + 1, p)) }
            }
        }
        // Drums ring as they ring: a hit's note-off comes half a step later.
        let ticks = notes.map { (on: $0.on * ticksPerStep, off: content == .drums ? $0.on * ticksPerStep + ticksPerStep / 2 : $0.off * ticksPerStep,
                                 pitch: $0.pitch) }
        let events = Self.track(named: name, ticks, channel: input.channel, velocity: input.velocity)
        let file = MIDIFile(format: .simultaneousTracks, division: .ticksPerQuarter(UInt16(tpq)), tracks: [conductor, MIDITrack(events: events)])
        try CommandFiles.write(MIDIFileWriter.write(file), to: path, notOver: inputs)
    }

    /// A track's events for notes given in ticks: its name, then each note's on and off, offs before ons at
    /// the same tick (a note repeated at once is released, then struck).
    static func track(named name: String, _ notes: [(on: Int, off: Int, pitch: UInt8)], channel: MIDIChannel, velocity: UInt8) -> [SMFEvent] {
        var events: [SMFEvent] = [SMFEvent(tick: 0, .text(.trackName, Array(name.utf8)))]
        for n in notes {
            events.append(SMFEvent(tick: n.on, .noteOn(channel: channel, note: n.pitch, velocity: velocity)))
            events.append(SMFEvent(tick: n.off, .noteOff(channel: channel, note: n.pitch, velocity: 0)))
        }
        events.sort { ($0.tick, $0.message.map(Self.isOff) ?? false ? 0 : 1) < ($1.tick, $1.message.map(Self.isOff) ?? false ? 0 : 1) }
        return events
    }

    private static func isOff(_ m: MIDIMessage) -> Bool {
        if case .noteOff = m { return true }
        return false
    }
}
