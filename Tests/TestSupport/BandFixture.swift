import Foundation
import MIDI

/// Band songs made up by a test, written as the band corpus stores them (docs/DATA.md): one type-1 MIDI
/// file per song (a conductor track with the tempo and time signature, then one track per part) and a
/// manifest line naming each track's role.
public struct BandFixture {
    public static let ticksPerBeat = 192

    public struct Track {
        public var name: String
        public var role: String
        public var channel: UInt8
        /// (start tick, end tick, MIDI note) per note.
        public var notes: [(start: Int, end: Int, pitch: UInt8)]

        public init(name: String, role: String, channel: UInt8, notes: [(start: Int, end: Int, pitch: UInt8)]) {
            self.name = name
            self.role = role
            self.channel = channel
            self.notes = notes
        }
    }

    public struct Song {
        public var name: String
        public var grooveFile: String
        public var beatsPerBar: Int
        /// One list per bar, one or two chord names each.
        public var chords: [[String]]
        public var tracks: [Track]

        public init(name: String, grooveFile: String, beatsPerBar: Int, chords: [[String]], tracks: [Track]) {
            self.name = name
            self.grooveFile = grooveFile
            self.beatsPerBar = beatsPerBar
            self.chords = chords
            self.tracks = tracks
        }

        public var ticksPerBar: Int { beatsPerBar * BandFixture.ticksPerBeat }
    }

    /// Writes the songs' MIDI files under `folder`/valid/ and their manifest to `folder`/valid.jsonl;
    /// returns the manifest's path.
    @discardableResult
    public static func write(_ songs: [Song], to folder: String) throws -> String {
        try FileManager.default.createDirectory(atPath: "\(folder)/valid", withIntermediateDirectories: true)
        var manifest = ""
        for song in songs {
            let conductor = MIDITrack(events: [
                SMFEvent(tick: 0, .tempo(microsecondsPerQuarter: 500_000)),
                SMFEvent(tick: 0, .timeSignature(numerator: UInt8(song.beatsPerBar), denominatorPower: 2, clocksPerClick: 24, thirtySecondsPerQuarter: 8)),
            ])
            var tracks = [conductor]
            var records: [String] = []
            for (k, track) in song.tracks.enumerated() {
                var events = [SMFEvent(tick: 0, .text(.trackName, Array(track.name.utf8)))]
                var timed: [(tick: Int, off: Bool, message: MIDIMessage)] = []
                for note in track.notes {
                    timed.append((note.start, false, .noteOn(channel: track.channel, note: note.pitch, velocity: 90)))
                    timed.append((note.end, true, .noteOff(channel: track.channel, note: note.pitch, velocity: 0)))
                }
                // Offs before ons at the same tick: a note re-struck where the last one ends is two notes.
                timed.sort { ($0.tick, $0.off ? 0 : 1) < ($1.tick, $1.off ? 0 : 1) }
                events += timed.map { SMFEvent(tick: $0.tick, $0.message) }
                tracks.append(MIDITrack(events: events))
                records.append("{\"track\": \(k + 1), \"name\": \"\(track.name)\", \"channel\": \(track.channel), \"role\": \"\(track.role)\", \"notes\": \(track.notes.count)}")
            }
            let file = MIDIFile(format: .simultaneousTracks, division: .ticksPerQuarter(UInt16(ticksPerBeat)), tracks: tracks)
            try Data(MIDIFileWriter.write(file)).write(to: URL(fileURLWithPath: "\(folder)/valid/\(song.name).mid"))
            let chords = "[" + song.chords.map { "[" + $0.map { "\"\($0)\"" }.joined(separator: ", ") + "]" }.joined(separator: ", ") + "]"
            manifest += "{\"file\": \"valid/\(song.name).mid\", \"groove\": \"\(song.name)\", \"groove_file\": \"\(song.grooveFile)\", "
                + "\"chords\": \(chords), \"key\": \"C major\", \"tempo\": 120.0, \"time_signature\": [\(song.beatsPerBar), 4], "
                + "\"beats_per_bar\": \(song.beatsPerBar), \"ticks_per_beat\": \(ticksPerBeat), \"bars\": \(song.chords.count), "
                + "\"tracks\": [\(records.joined(separator: ", "))]}\n"
        }
        let path = "\(folder)/valid.jsonl"
        try manifest.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A chord track: each bar's chord as the pitches `triads` gives it, struck on the downbeat and held to
    /// the end of the bar; the second chord of a two-chord bar starts where the corpus puts it (half-way in
    /// even meters, on beat 3 of 3-beat bars, on beat 4 of 5-beat bars).
    public static func chordTrack(_ song: Song, name: String = "Chord", channel: UInt8 = 13, triads: [String: [Int]]) -> Track {
        var notes: [(start: Int, end: Int, pitch: UInt8)] = []
        for (bar, names) in song.chords.enumerated() {
            let beats = song.beatsPerBar
            let split = names.count < 2 ? song.ticksPerBar : (beats == 3 ? 2 : beats == 5 ? 3 : beats / 2) * ticksPerBeat
            for (k, chord) in names.prefix(2).enumerated() {
                let start = bar * song.ticksPerBar + (k == 0 ? 0 : split)
                let end = k == 0 ? bar * song.ticksPerBar + split : (bar + 1) * song.ticksPerBar
                for pitch in triads[chord] ?? [] { notes.append((start, end, UInt8(pitch))) }
            }
        }
        return Track(name: name, role: "chord", channel: channel, notes: notes)
    }
}
