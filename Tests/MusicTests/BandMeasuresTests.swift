import Foundation
import MIDI
import Music
import Testing
import TestSupport

/// The band measures on hand-built takes whose answers are known: 120 bpm, so a 16th is 125 ms and a
/// 4/4 bar 2 s.
@Suite struct BandMeasuresTests {
    static let grid = StepGrid(beatsPerMinute: 120, stepsPerBar: 16, bars: 2)

    /// Bar 0 in C, bar 1 in F (or the chords given, one per bar).
    static func take(_ chords: [String] = ["C", "F"], bass: [[TimedNote]] = [], keys: [[TimedNote]] = [], drums: [[TimedNote]] = [], grid: StepGrid = grid) -> BandTake {
        let perStep = chords.flatMap { name in [ChordSymbol?](repeating: ChordSymbol(name: name), count: grid.stepsPerBar) }
        return BandTake(grid: grid, chordPerStep: perStep, bass: bass, keys: keys, drums: drums)
    }

    static func note(_ start: Double, _ length: Double, _ pitch: UInt8) -> TimedNote { TimedNote(start: start, end: start + length, pitch: pitch) }

    @Test func bassOnTheOldRootAtAChangeIsCounted() {
        // C on both downbeats: right in bar 0, the old root in bar 1.
        let late = Self.take(bass: [[Self.note(0, 1.9, 36), Self.note(2, 1.9, 36)]])
        let a = BassDownbeats(bass: late.bass, take: late, bars: [0, 1])
        #expect(a.downbeats == 2 && a.onRoot == 1 && a.changes == 1 && a.previousRootAtChanges == 1)
        #expect(a.rootShare == 0.5 && a.previousRootShare == 1)
        // F struck 50 ms early (within half a 16th) is the downbeat's note; the C under it, struck a beat
        // before and still sounding, is not (a struck note wins over a held one).
        let early = Self.take(bass: [[Self.note(0, 2.1, 36)], [Self.note(1.95, 1, 41)]])
        let b = BassDownbeats(bass: early.bass, take: early, bars: [0, 1])
        #expect(b.onRoot == 2 && b.previousRootAtChanges == 0)
        // Two notes struck together: the lowest is the bass.
        let two = Self.take(bass: [[Self.note(2, 1, 48), Self.note(2.01, 1, 41)]])
        #expect(BassDownbeats(bass: two.bass, take: two, bars: [1]).onRoot == 1)
    }

    @Test func aHeldBassNoteCountsOnlyIfItSoundsThroughTheHalfStep() {
        // C struck on beat 3 of bar 0 and held across the bar line: heard at the F downbeat, the old root.
        let held = Self.take(bass: [[Self.note(1, 1.5, 36)]])
        let a = BassDownbeats(bass: held.bass, take: held, bars: [1])
        #expect(a.downbeats == 1 && a.onRoot == 0 && a.previousRootAtChanges == 1)
        // Released 30 ms after the bar line: nothing is heard there, neither root.
        let released = Self.take(bass: [[Self.note(1, 1.03, 36)]])
        let b = BassDownbeats(bass: released.bass, take: released, bars: [1])
        #expect(b.downbeats == 1 && b.onRoot == 0 && b.previousRootAtChanges == 0)
        // Silence at a downbeat where the real bass plays is a miss, not a skipped bar.
        let silent = Self.take()
        #expect(BassDownbeats(bass: silent.bass, take: silent, bars: [0, 1]).rootShare == 0)
    }

    @Test func barsWhereTheBassPlaysAndChangesOfRootOnly() {
        let take = Self.take(bass: [[Self.note(2.5, 0.5, 41)]])
        #expect(BassDownbeats.bars(playedBy: take.bass, grid: Self.grid) == [1])
        // C to Cmaj7 keeps the root: no change to count.
        let same = Self.take(["C", "Cmaj7"], bass: [[Self.note(0, 4, 36)]])
        let c = BassDownbeats(bass: same.bass, take: same, bars: [0, 1])
        #expect(c.changes == 0 && c.previousRootShare == nil)
    }

    @Test func chordTonesAreReadAtTheNearestStep() {
        // E in C, F# not in C, and A struck 50 ms before bar 1: its nearest step is bar 1's, in F.
        let take = Self.take(keys: [[Self.note(0, 1, 64), Self.note(0.5, 1, 66)], [Self.note(1.95, 1, 69)]])
        let tones = ChordTones(take.keys, take: take)
        #expect(tones.notes == 3 && tones.inChord == 2)
    }

    @Test func compingLengthHeldBarsAndOnsets() {
        // A triad held the whole of bar 0 (16 16ths), then two 8th-note stabs in bar 1 (2 16ths each).
        let pad = [60, 64, 67].map { Self.note(0, 2, UInt8($0)) }
        let stabs = [Self.note(2, 0.25, 65), Self.note(2.25, 0.25, 69), Self.note(2.002, 0.25, 60)]
        let rhythm = CompingRhythm([pad, stabs], grid: Self.grid)
        #expect(rhythm.notes == 6)
        #expect(abs((rhythm.meanSixteenths ?? 0) - 54.0 / 6) < 1e-9)
        #expect(rhythm.heldBarShare == 0.5)
        // Onset 16ths 0, 16 (twice, 2 ms apart) and 18: 3 in 2 bars.
        #expect(rhythm.onsetsPerBar == 1.5)
    }

    static let primer: [[UInt8]] = [[36, 42], [], [42], [], [38, 42], [], [42], [], [36, 42], [], [42], [], [38, 42], [], [42], []]

    static func hits(_ bar: Int, _ steps: [[UInt8]], early: Double = 0) -> [TimedNote] {
        steps.enumerated().flatMap { s, notes in notes.map { Self.note(Double(bar * 16 + s) * 0.125 - early, 0.05, $0) } }
    }

    @Test func drumBarsPrimerAndOverlap() throws {
        // Bar 0 is the primer (struck 20 ms early: still its own steps); bar 1 moves the kick to step 2.
        var moved = Self.primer
        moved[0] = [42]
        moved[2] = [36, 42]
        let drums = Self.hits(0, Self.primer, early: 0.02) + Self.hits(1, moved)
        let bars = DrumBar.bars([drums], grid: Self.grid)
        let primer = DrumBar(steps: Self.primer, stepsPerBar: 16)
        #expect(bars.count == 2 && bars[0] == primer && bars[0].hits.count == 12)
        // 11 hits in common of 13 distinct.
        #expect(abs(bars[0].jaccard(bars[1]) - 11.0 / 13) < 1e-12)
        #expect(DrumBar(hits: []).jaccard(DrumBar(hits: [])) == 1)
        // The primer bar in 3/4 is its first 12 steps.
        #expect(DrumBar(steps: Self.primer, stepsPerBar: 12).hits.count == 9)

        let realPool = DrumBarPool(bars)
        let style = DrumStyle(played: bars, primer: primer, song: realPool, style: DrumBarPool(bars + [bars[1]]), isReal: true)
        #expect(style.bars == 2 && style.hits == 24 && style.kitPieces == 3 && style.primerBars == 1)
        #expect(style.primerBarShare == 0.5)
        // Each real bar against the song's other bar; against the style, bar 1 has a copy elsewhere.
        #expect(abs((style.songOverlap ?? 0) - 11.0 / 13) < 1e-12)
        #expect(abs((style.styleOverlap ?? 0) - (11.0 / 13 + 1) / 2) < 1e-12)
        // A played bar is held against every real bar, itself included; no primer, no primer bars.
        let played = DrumStyle(played: [bars[1], bars[1]], primer: nil, song: realPool, style: realPool, isReal: false)
        #expect(played.songOverlap == 1 && played.primerBars == 0)
        #expect(DrumBarPool([primer]).bestOverlap(primer, excludingItself: true) == nil)
        // A silent drummer overlaps nothing.
        let silent = DrumStyle(played: DrumBar.bars([], grid: Self.grid), primer: primer, song: realPool, style: realPool, isReal: false)
        #expect(silent.bars == 2 && silent.songOverlap == 0 && silent.hitsPerBar == 0)
    }

    @Test func shortNotesAndFlamsPerPart() {
        // C4 struck, struck again 20 ms later for 20 ms (a flam, and a short note), E4 later.
        let keys = [Self.note(0, 0.5, 60), Self.note(0.02, 0.02, 60), Self.note(1, 0.5, 64)]
        // Another part doubling C4 10 ms later is no flam: it is another instrument.
        let other = [Self.note(0.01, 0.5, 60)]
        let h = NoteHygiene([keys, other])
        #expect(h.notes == 4 && h.short == 1 && h.flams == 1)
        #expect(h.shortShare == 0.25 && h.flamsPerThousand == 250)
        // 30 ms apart is no longer a flam.
        #expect(NoteHygiene([[Self.note(0, 0.1, 60), Self.note(0.031, 0.1, 60)]]).flams == 0)
    }

    @Test func firstBarTimingIsTheLargestOffsetInTheBandsFirstBar() {
        // The band starts in bar 1: 3 ms late, 20 ms early; a note 60 ms off in bar 2 is not its first bar.
        let grid = StepGrid(beatsPerMinute: 120, stepsPerBar: 16, bars: 3)
        let parts = [[Self.note(2.003, 0.1, 36)], [Self.note(2.5 - 0.02, 0.1, 60), Self.note(4.06, 0.1, 60)]]
        let t = FirstBarTiming(parts, grid: grid)
        #expect(t.songs == 1 && abs(t.offsetSum - 20) < 1e-6)
        let sum = t + FirstBarTiming([[Self.note(0.005, 0.1, 36)]], grid: grid)
        #expect(sum.songs == 2 && abs((sum.meanMilliseconds ?? 0) - 12.5) < 1e-6 && abs(sum.worst - 20) < 1e-6)
        #expect(FirstBarTiming([], grid: grid).songs == 0)
    }

    @Test func aTakeKeepsOnlyTheSongsNotesAndAScoreOnlyTheRolesTheSongHas() {
        // A keys note past the song's 2 bars is left out.
        let real = Self.take(keys: [[Self.note(0, 2, 60), Self.note(4.2, 1, 60)]])
        #expect(real.keys[0].count == 1)
        // The song has no real bass or drums: what the band plays there is not measured.
        let band = Self.take(bass: [[Self.note(0, 2, 36)]], keys: [[Self.note(0, 2, 64)]], drums: [Self.hits(0, Self.primer)])
        let score = BandScore(take: band, real: real, stylePool: DrumBarPool([DrumBar]()), primer: nil, isReal: false)
        #expect(score.bassDownbeats.downbeats == 0 && score.drums.bars == 0 && score.bassHygiene.notes == 0)
        #expect(score.keysTones.inChord == 1 && score.keys.notes == 1)
        let pooled = score + score
        #expect(pooled.songs == 2 && pooled.keys.notes == 2)
    }

    static func tempFolder() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sideman-band-measures-\(getpid())-\(Int.random(in: 0..<1_000_000))").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test func aSongsTracksLoadAsTimedNotesByRole() throws {
        let folder = try Self.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var song = BandFixture.Song(name: "Waltz_0", grooveFile: "stdlib/waltz.mma", beatsPerBar: 3, chords: [["C"], ["F", "G"]], tracks: [])
        let arpeggio = BandFixture.Track(name: "Arpeggio", role: "chord", channel: 12, notes: [(0, 96, 72)])
        // A bass on each downbeat, held a dotted half: C then F.
        let bass = BandFixture.Track(name: "Bass", role: "bass", channel: 15, notes: [(0, 576, 36), (576, 1152, 41)])
        song.tracks = [arpeggio, BandFixture.chordTrack(song, triads: ["C": [48, 52, 55], "F": [53, 57, 60], "G": [55, 59, 62]]), bass]
        let manifest = try BandFixture.write([song], to: folder)
        let loaded = try #require(try BandCorpus.load(manifestPath: manifest).first)
        #expect(loaded.grooveFile == "stdlib/waltz.mma" && loaded.stepsPerBar == 12)
        #expect(loaded.path == "\(folder)/valid/Waltz_0.mid")
        // The track named Chord is the player's, though an arpeggio comes first.
        #expect(loaded.chordTrack == 2)
        let take = loaded.realTake(file: try MIDIFileReader.read(path: loaded.path).file)
        #expect(take.grid == StepGrid(beatsPerMinute: 120, stepsPerBar: 12, bars: 2))
        #expect(take.keys.count == 2 && take.bass.count == 1 && take.drums.isEmpty)
        let heard = take.bass[0].map { [$0.start, $0.end, Double($0.pitch)] }
        #expect(zip(heard.joined(), [0, 1.5, 36, 1.5, 3, 41]).allSatisfy { abs($0 - $1) < 1e-9 } && heard.count == 2)
        // F for the first half of bar 1 (beat 3 of 3-beat bars: 8 16ths), then G.
        #expect(take.chordPerStep[12]?.root == 5 && take.chordPerStep[19]?.root == 5 && take.chordPerStep[20]?.root == 7)
        #expect(BandScore(take: take, real: take, stylePool: DrumBarPool([DrumBar]()), primer: nil, isReal: true).bassDownbeats.rootShare == 1)
        // Without a chord-role track there is no player track.
        song.tracks = [bass]
        try BandFixture.write([song], to: folder)
        #expect(try BandCorpus.load(manifestPath: manifest).first?.chordTrack == nil)
    }

    @Test func timedNotesFromFramesPairOnsAndOffsPerChannel() {
        let messages = [
            TimedMIDIMessage(time: 1024, message: .noteOn(channel: 2, note: 40, velocity: 90)),
            TimedMIDIMessage(time: 1024 + 480, message: .noteOn(channel: 3, note: 40, velocity: 90)),
            TimedMIDIMessage(time: 1024 + 4800, message: .noteOff(channel: 2, note: 40, velocity: 0)),
            TimedMIDIMessage(time: 1024 + 9600, message: .noteOn(channel: 2, note: 43, velocity: 0)),
        ]
        let notes = TimedNote.notes(of: messages, channel: 2, origin: 1024, sampleRate: 48000)
        #expect(notes == [TimedNote(start: 0, end: 0.1, pitch: 40)])
    }
}
