import Foundation
import MIDI

/// One band song (docs/DATA.md: a manifest line and its MIDI file) on a 16th-note grid: each role's part, and the chord symbols
/// the song was generated from.
public struct BandSong: Sendable {
    /// One MIDI track of the song and the role the manifest gives it (drums, bass, chord, other).
    public struct Track: Sendable, Equatable {
        public var index: Int
        public var name: String
        public var role: String
    }

    public var file: String
    /// The MIDI file as read: `file` resolved against the manifest's folder.
    public var path: String
    public var groove: String
    /// The groove library file the groove comes from (its style family, e.g. stdlib/rhumba.mma).
    public var grooveFile: String
    /// The songs of each style in the style's most common bar length (a family's odd meter out is left out,
    /// so a style's bars are all one length), with that length in 16ths.
    public static func byStyle(_ songs: [BandSong]) -> [String: (stepsPerBar: Int, songs: [BandSong])] {
        Dictionary(grouping: songs, by: \.style).mapValues { group in
            let lengths = Dictionary(grouping: group, by: \.stepsPerBar)
            let (steps, kept) = lengths.max { $0.value.count < $1.value.count || ($0.value.count == $1.value.count && $0.key > $1.key) }!
            return (steps, kept)
        }
    }

    /// The style the song plays: its groove family's name (stdlib/rhumba.mma: rhumba).
    public var style: String {
        let file = grooveFile.split(separator: "/").last.map(String.init) ?? grooveFile
        return (file.hasSuffix(".mma") ? String(file.dropLast(4)) : file).lowercased()
    }
    public var tracks: [Track]
    public var key: Key?
    public var stepsPerBar: Int
    public var steps: Int
    /// The chord symbol sounding on each step (nil where the manifest has none).
    public var chordPerStep: [ChordSymbol?]
    /// Kit pieces struck on each step (channel 10), empty frames when the groove has no drums.
    public var drums: PianoRoll
    /// The lowest note of the bass tracks, as a line; nil when the groove has no bass.
    public var bass: Melody?
    /// Notes sounding on each step across the chord tracks (comping), empty when there are none.
    public var chords: PianoRoll
    /// Per step, whether the player struck a note on it: the player is the song's chord track (the one
    /// named "Chord", else the first chord-role track), what a musician would play to the band.
    public var playerOnsets: [Bool]
    /// The same notes split into those struck on each step and those held from earlier (a re-struck chord
    /// apart from a held one).
    public var chordOnsets: OnsetHoldRoll
}

/// Loader for the band grooves: a JSON Lines manifest beside a folder of type-1 MIDI files.
public enum BandCorpus {
    private struct Record: Decodable {
        struct Track: Decodable {
            var track: Int
            var name: String?
            var role: String
        }
        var file: String
        var groove: String
        var groove_file: String?
        var key: String?
        var beats_per_bar: Int
        var ticks_per_beat: Int
        var bars: Int
        var chords: [[String]]
        var tracks: [Track]
    }

    /// Reads the manifest at `manifestPath` and every song it lists (paths relative to its folder).
    /// `limit` reads only the first songs, for quick experiments.
    public static func load(manifestPath: String, limit: Int? = nil) throws -> [BandSong] {
        guard let data = FileManager.default.contents(atPath: manifestPath) else {
            throw CorpusError(file: manifestPath, problem: "cannot be read")
        }
        let folder = manifestPath.lastIndex(of: "/").map { String(manifestPath[..<$0]) } ?? "."
        var songs: [BandSong] = []
        var lineNumber = 0
        for line in data.split(separator: UInt8(ascii: "\n")) {
            lineNumber += 1
            if let limit, songs.count >= limit { break }
            let record: Record
            do {
                record = try JSONDecoder().decode(Record.self, from: Data(line))
            } catch let error as DecodingError {
                throw CorpusError(file: manifestPath, problem: "line \(lineNumber): \(describe(error))")
            }
            songs.append(try song(record, folder: folder))
        }
        return songs
    }

    private static func song(_ r: Record, folder: String) throws -> BandSong {
        let path = "\(folder)/\(r.file)"
        let file: MIDIFile
        do {
            file = try MIDIFileReader.read(path: path).file
        } catch {
            throw CorpusError(file: path, problem: "\(error)")
        }
        guard case .ticksPerQuarter(let tpq) = file.division else {
            throw CorpusError(file: path, problem: "uses SMPTE time; band songs are in ticks per quarter")
        }
        let quantizer = StepQuantizer(ticksPerQuarter: Int(tpq))
        let stepsPerBar = r.beats_per_bar * 4
        let steps = r.bars * stepsPerBar
        func spans(_ role: String) -> [NoteSpan] {
            r.tracks.filter { $0.role == role && $0.track < file.tracks.count }.flatMap { file.tracks[$0.track].noteSpans() }
        }
        var chordPerStep = [ChordSymbol?](repeating: nil, count: steps)
        for (bar, names) in r.chords.enumerated() where bar < r.bars {
            // Two chords in a bar split it where the data README says: half-way in even meters, on
            // beat 3 of 3-beat bars, on beat 4 of 5-beat bars.
            let split = names.count == 2 ? (r.beats_per_bar == 3 ? 8 : r.beats_per_bar == 5 ? 12 : stepsPerBar / 2) : stepsPerBar
            for s in 0..<stepsPerBar {
                let name = s < split ? names[0] : names[min(1, names.count - 1)]
                chordPerStep[bar * stepsPerBar + s] = ChordSymbol(name: name)
            }
        }
        let bassSpans = spans("bass")
        let chordTracks = r.tracks.filter { $0.role == "chord" && $0.track < file.tracks.count }
        let player = chordTracks.first { $0.name == "Chord" } ?? chordTracks.first
        let playerFrames = player.map { quantizer.onsetFrames(file.tracks[$0.track].noteSpans(), steps: steps).frames }
        let chordSpans = spans("chord")
        return BandSong(
            file: r.file, path: path, groove: r.groove, grooveFile: r.groove_file ?? r.groove,
            tracks: r.tracks.map { BandSong.Track(index: $0.track, name: $0.name ?? "", role: $0.role) }, key: r.key.flatMap { Key(name: $0) }, stepsPerBar: stepsPerBar, steps: steps,
            chordPerStep: chordPerStep,
            drums: quantizer.onsetFrames(spans("drums"), steps: steps),
            bass: bassSpans.isEmpty ? nil : quantizer.melody(bassSpans, keepLowest: true, stepsPerBar: stepsPerBar),
            chords: quantizer.soundingFrames(chordSpans, steps: steps),
            playerOnsets: playerFrames.map { $0.map { !$0.isEmpty } } ?? [Bool](repeating: false, count: steps),
            chordOnsets: quantizer.onsetHoldFrames(chordSpans, steps: steps))
    }
}
