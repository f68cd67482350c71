import Glibc
import Foundation
import MIDI
import Testing
import TestSupport

@testable import Music

/// The loaders against the real data files; the counts are the ones the data README states.
@Suite struct CorpusTests {
    @Test func jsbSATBMatchesTheReadme() throws {
        guard let data = Corpora.folder() else {
            print(Corpora.skipReason)
            return
        }
        let train = try JSBCorpus.loadSATB(path: "\(data)/jsb/satb-16th.train.json")
        let valid = try JSBCorpus.loadSATB(path: "\(data)/jsb/satb-16th.valid.json")
        #expect(train.count == 229)
        #expect(valid.count == 76)
        #expect(train.reduce(0) { $0 + $1.stepCount } == 55_228)
        #expect(valid.reduce(0) { $0 + $1.stepCount } == 18_408)
        let silent = (train + valid).reduce(0) { $0 + $1.voices.joined().filter { $0 == nil }.count }
        #expect(silent == 1_000)
        let pitches = (train + valid).flatMap { $0.voices.joined().compactMap { $0 } }
        #expect(pitches.min() == 36 && pitches.max() == 81)
    }

    @Test func jsbPianoRollMatchesTheReadme() throws {
        guard let data = Corpora.folder() else {
            print(Corpora.skipReason)
            return
        }
        let train = try JSBCorpus.loadPianoRoll(path: "\(data)/jsb/pianoroll-quarter.train.json")
        let valid = try JSBCorpus.loadPianoRoll(path: "\(data)/jsb/pianoroll-quarter.valid.json")
        #expect(train.reduce(0) { $0 + $1.frames.count } == 13_807)
        #expect(train.reduce(0) { $0 + $1.frames.joined().count } == 53_824)
        #expect(valid.reduce(0) { $0 + $1.frames.joined().count } == 17_811)
    }

    @Test func folkValidMatchesTheReadme() throws {
        guard let data = Corpora.folder() else {
            print(Corpora.skipReason)
            return
        }
        let tunes = try FolkCorpus.load(path: "\(data)/folk/valid.jsonl")
        #expect(tunes.count == 624)
        let notes = tunes.reduce(0) { n, t in n + t.melody.events.filter { if case .noteOn = $0 { true } else { false } }.count }
        #expect(notes == 43_776)
        #expect(tunes.allSatisfy { $0.key != nil })
        let first = try #require(tunes.first)
        #expect(first.title == "Ritter Ulrich")
        #expect(first.melody.stepsPerBar == 24)
        #expect(first.melody.pickupSteps == 4)
    }

    @Test func brokenFilesNameFileAndPlace() throws {
        let path = "/tmp/sideman-folk-\(UInt32.random(in: 0...UInt32.max)).jsonl"
        let good = #"{"id":"a","meter":[4,4],"key":"C major","spq":4,"notes":[[0,4,60]]}"#
        let bad = #"{"id":"b","meter":[4,4],"key":"C major","spq":4,"notes":[[0,4,60],[2,4,62]]}"#
        try (good + "\n" + bad + "\n").write(toFile: path)
        #expect(throws: CorpusError.self) { try FolkCorpus.load(path: path) }
        do { _ = try FolkCorpus.load(path: path) } catch let e as CorpusError {
            #expect(e.description.hasPrefix("\(path): line 2:"))
        }
        #expect(throws: CorpusError.self) { try JSBCorpus.loadSATB(path: "/nonexistent.json") }
    }
}

extension String {
    func write(toFile path: String) throws {
        guard let f = fopen(path, "w") else { throw CorpusError(file: path, problem: "cannot write") }
        fputs(self, f)
        fclose(f)
    }
}

@Suite struct BandAndFolderCorpusTests {
    @Test func bandSongsHaveTheirRolesOnTheGrid() throws {
        guard let data = Corpora.folder() else {
            print(Corpora.skipReason)
            return
        }
        let songs = try BandCorpus.load(manifestPath: "\(data)/band/valid.jsonl", limit: 40)
        #expect(songs.count == 40)
        for song in songs {
            #expect(song.steps == 16 * song.stepsPerBar)
            #expect(song.drums.frames.count == song.steps)
            #expect(song.chords.frames.count == song.steps)
            #expect(song.chordPerStep.allSatisfy { $0 != nil }, "every bar of \(song.file) has a chord")
        }
        // Most grooves have drums and bass (README: 336 of 2,295 songs have no drums, 90 no bass).
        #expect(songs.filter { $0.drums.frames.contains { !$0.isEmpty } }.count >= 20)
        #expect(songs.filter { $0.bass != nil }.count >= 30)
        // The bass plays the chord's root on most downbeats where it plays at all.
        var downbeats = 0
        var roots = 0
        for song in songs {
            guard let bass = song.bass else { continue }
            let pitches = bass.pitchPerStep
            for bar in 0..<16 {
                let s = bar * song.stepsPerBar
                guard s < pitches.count, let p = pitches[s], case .noteOn = bass.events[s], let chord = song.chordPerStep[s] else { continue }
                downbeats += 1
                if Int(p) % 12 == chord.root { roots += 1 }
            }
        }
        #expect(downbeats > 100)
        #expect(Double(roots) / Double(downbeats) > 0.5, "bass on the root at \(roots) of \(downbeats) downbeats")
        // The player (the chord track) strikes on most downbeats and not on every step.
        let struck = songs.map { song in (0..<16).filter { song.playerOnsets[$0 * song.stepsPerBar] }.count }
        #expect(songs.allSatisfy { $0.playerOnsets.count == $0.steps })
        #expect(struck.reduce(0, +) > 16 * songs.count / 2, "downbeats struck per song: \(struck)")
        #expect(songs.allSatisfy { $0.playerOnsets.contains(false) })
        // Band rows carry the player's rhythm after the beat (unit 12 + 32) on the step after a strike.
        let corpus = try TrainingCorpus.load(path: "\(data)/band/valid.jsonl", part: .drums)
        #expect(corpus.condition == .harmonyBeatAndRhythm)
        let rows = try #require(corpus.conditions?.first)
        #expect(rows.contains { $0.contains(44) } && rows.contains { !$0.contains(44) })
        // Each song names its style (its groove family), and no drum unit moves under transposition.
        #expect(corpus.styles?.count == corpus.pieceCount && corpus.styles?.contains("rhumba") == true)
        #expect(corpus.firstMovingUnit == TrainingCorpus.pianoUnits)
        #expect(try TrainingCorpus.load(path: "\(data)/band/valid.jsonl", part: .chord).firstMovingUnit == 0)
        #expect(try TrainingCorpus.load(path: "\(data)/band/valid.jsonl", part: .bass).firstMovingUnit == EventVocabulary.firstPitchIndex)
    }

    @Test func chordSymbols() {
        #expect(ChordSymbol(name: "Cm")?.pitchClasses == [0, 3, 7])
        #expect(ChordSymbol(name: "Bbmaj7")?.pitchClasses == [10, 2, 5, 9])
        #expect(ChordSymbol(name: "F#m7b5")?.pitchClasses == [6, 9, 0, 4])
        #expect(ChordSymbol(name: "Xm") == nil)
        #expect(ChordSymbol(name: "Cwhatever") == nil)
    }

    @Test func userFolderSplitsChannelsAndSkipsBrokenFiles() throws {
        let folder = "/tmp/sideman-user-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var events: [SMFEvent] = []
        for (i, pitch) in [60, 62, 64, 65].enumerated() {
            events.append(SMFEvent(tick: i * 96, .noteOn(channel: 0, note: UInt8(pitch), velocity: 90)))
            events.append(SMFEvent(tick: i * 96 + 90, .noteOff(channel: 0, note: UInt8(pitch), velocity: 0)))
            events.append(SMFEvent(tick: i * 96, .noteOn(channel: 9, note: 36, velocity: 100)))
            events.append(SMFEvent(tick: i * 96 + 10, .noteOff(channel: 9, note: 36, velocity: 0)))
        }
        events.sort { $0.tick < $1.tick }
        let song = MIDIFile(format: .singleTrack, division: .ticksPerQuarter(96), tracks: [MIDITrack(events: events)])
        try Data(MIDIFileWriter.write(song)).write(to: URL(fileURLWithPath: "\(folder)/song.mid"))
        try Data("not midi".utf8).write(to: URL(fileURLWithPath: "\(folder)/broken.mid"))
        let result = try MIDIFolderCorpus.load(folder: folder)
        #expect(result.tracks.count == 2)
        #expect(result.skipped.count == 1 && result.skipped[0].contains("broken.mid"))
        let keys = try #require(result.tracks.first { !$0.isDrums })
        #expect(keys.melody.events.prefix(5) == [.noteOn(60), .noEvent, .noEvent, .noEvent, .noteOn(62)])
        let drums = try #require(result.tracks.first { $0.isDrums })
        #expect(drums.frames.frames[0] == [36] && drums.frames.frames[4] == [36])
        #expect(throws: CorpusError.self) { try MIDIFolderCorpus.load(folder: "\(folder)/nope") }
    }
}
