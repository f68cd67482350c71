import Foundation
import MIDI
import Testing

@testable import Music

/// Onset and hold frames: a chord re-struck and a chord held are different training frames.
@Suite struct OnsetHoldTests {
    /// One bar of comping at 96 ticks per quarter (24 per 16th): C4 held 8 steps then struck again right after
    /// its note-off; E4 held through the bar but struck again on step 8 while its first note still sounds (an
    /// overlapping re-strike); G4 struck on step 4, released just before step 8.
    static func chordTrack() -> MIDITrack {
        func on(_ tick: Int, _ pitch: UInt8) -> SMFEvent { SMFEvent(tick: tick, .noteOn(channel: 0, note: pitch, velocity: 80)) }
        func off(_ tick: Int, _ pitch: UInt8) -> SMFEvent { SMFEvent(tick: tick, .noteOff(channel: 0, note: pitch, velocity: 0)) }
        // In time order, an off before an on at one tick, as a sequencer writes a re-strike.
        return MIDITrack(events: [
            on(0, 60), on(0, 64), on(96, 67), off(182, 67), off(192, 60), on(192, 60), on(192, 64),
            off(288, 60), off(288, 64), off(384, 64),
        ])
    }

    /// Piano units: C4 39, E4 43, G4 46; held units 88 above.
    static let expected: [[Int]] = [
        [39, 43], [127, 131], [127, 131], [127, 131],
        [46, 127, 131], [127, 131, 134], [127, 131, 134], [127, 131, 134],
        [39, 43], [127, 131], [127, 131], [127, 131],
        [131], [131], [131], [131],
    ]

    @Test func aReStrikeIsStruckAndASustainIsHeld() {
        let spans = Self.chordTrack().noteSpans()
        let quantizer = StepQuantizer(ticksPerQuarter: 96)
        let roll = quantizer.onsetHoldFrames(spans, steps: 16)
        #expect(roll.unitFrames == Self.expected)
        // The same notes as the sounding-notes frames, split by where each started.
        #expect(roll.sounding == quantizer.soundingFrames(spans, steps: 16))
        // A pitch is never both struck and held on a step.
        for (s, h) in zip(roll.struck.frames, roll.held.frames) { #expect(Set(s).isDisjoint(with: h)) }
    }

    /// The band corpus reads the chord part either way: sounding pitches (88 units) or onset and hold (176).
    @Test func theBandChordPartTrainsInEitherLayout() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("onsets-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("songs"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let song = MIDIFile(format: .simultaneousTracks, division: .ticksPerQuarter(96), tracks: [MIDITrack(), Self.chordTrack()])
        try Data(MIDIFileWriter.write(song)).write(to: folder.appendingPathComponent("songs/one.mid"))
        let manifest = folder.appendingPathComponent("valid.jsonl").path
        try (#"{"file":"songs/one.mid","groove":"Test","key":"C major","beats_per_bar":4,"ticks_per_beat":96,"bars":1,"#
            + #""chords":[["C"]],"tracks":[{"track":1,"role":"chord"}]}"# + "\n").write(toFile: manifest, atomically: true, encoding: .utf8)

        let onsets = try TrainingCorpus.load(path: manifest, part: .chord, frameLayout: .onsetHold)
        #expect(onsets.frameLayout == .onsetHold && onsets.frameLayout.units == 176)
        guard case .frames(let pieces) = onsets.content else { Issue.record("chord parts give frames"); return }
        #expect(pieces == [Self.expected])
        // The harmony and the beat come with each step as before.
        #expect(onsets.conditions?[0][8] == [0, 4, 7, 12 + 8])

        let sounding = try TrainingCorpus.load(path: manifest, part: .chord)
        guard case .frames(let plain) = sounding.content else { Issue.record("chord parts give frames"); return }
        #expect(sounding.frameLayout == .pitches)
        #expect(plain[0] == Self.expected.map { Set($0.map { $0 % 88 }).sorted() })

        // Bass lines are events and drums are hits: neither has holds to tell apart.
        #expect(throws: CorpusError.self) { try TrainingCorpus.load(path: manifest, part: .drums, frameLayout: .onsetHold) }
    }
}
