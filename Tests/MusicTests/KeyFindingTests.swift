import Music
import Testing

@Suite("Key finding and in-key share")
struct KeyFindingTests {
    /// Notes one after another, a quarter (4 steps) each.
    func line(_ pitches: [Int], duration: Int = 4) -> [PlacedNote] {
        pitches.enumerated().map { PlacedNote(onset: $0.offset * duration, duration: duration, pitch: UInt8($0.element)) }
    }

    @Test func scalesAndArpeggiosFindTheirKeys() {
        // C major: scale with tonic and dominant leaned on.
        #expect(KeyFinding.estimateKey(line([60, 62, 64, 65, 67, 69, 71, 72, 67, 64, 60, 67, 60])) == Key(tonic: 0, mode: .major))
        // A minor with its raised leading tone, as melodies use it.
        #expect(KeyFinding.estimateKey(line([69, 71, 72, 74, 76, 77, 80, 81, 76, 72, 69, 64, 69])) == Key(tonic: 9, mode: .minor))
        // The same C major line moved up a fourth is F major: the estimate follows transposition.
        #expect(KeyFinding.estimateKey(line([65, 67, 69, 70, 72, 74, 76, 77, 72, 69, 65, 72, 65])) == Key(tonic: 5, mode: .major))
    }

    @Test func durationWeighs() {
        // The same pitch classes; held notes decide between C major and A minor.
        let cMajor = [60, 64, 67, 69, 72].map { PlacedNote(onset: 0, duration: $0 == 69 ? 1 : 8, pitch: UInt8($0)) }
        let aMinor = [60, 64, 67, 69, 72].map { PlacedNote(onset: 0, duration: $0 == 69 ? 16 : 1, pitch: UInt8($0)) }
        #expect(KeyFinding.estimateKey(cMajor) == Key(tonic: 0, mode: .major))
        #expect(KeyFinding.estimateKey(aMinor)?.mode == .minor)
    }

    @Test func noNotesNoKey() {
        #expect(KeyFinding.estimateKey([]) == nil)
        #expect(KeyFinding.inKeyShare([], key: Key(tonic: 0, mode: .major)) == nil)
    }

    @Test func inKeyShareCountsNotesNotSteps() {
        // Three notes in C major and one F#, the F# held long: 3 of 4 notes, whatever the durations.
        let notes = [
            PlacedNote(onset: 0, duration: 1, pitch: 60), PlacedNote(onset: 1, duration: 1, pitch: 64),
            PlacedNote(onset: 2, duration: 1, pitch: 67), PlacedNote(onset: 3, duration: 32, pitch: 66),
        ]
        #expect(KeyFinding.inKeyShare(notes, key: Key(tonic: 0, mode: .major)) == 0.75)
        // G major holds F#: all four.
        #expect(KeyFinding.inKeyShare(notes, key: Key(tonic: 7, mode: .major)) == 1)
        // Natural minor: A minor leaves out G# (raised leading tone), C minor leaves out E and F#.
        #expect(KeyFinding.inKeyShare(notes, key: Key(tonic: 0, mode: .minor)) == 0.5)
        #expect(KeyFinding.inKeyShare(line([68, 69]), key: Key(tonic: 9, mode: .minor)) == 0.5)
    }

    @Test func keyFitPoolsNotes() {
        let c = Key(tonic: 0, mode: .major)
        let pooled = KeyFit(line([60, 61]), key: c) + KeyFit(line([60, 62, 64, 65]), key: c)
        #expect(pooled.inKey == 5 && pooled.notes == 6)
        #expect(pooled.share == 5.0 / 6.0)
    }

    @Test func melodyNotesComeFromEvents() {
        // C4 for 2 steps, rest, D4 for 1 then E4 straight after, held to the end.
        let melody = Melody(events: [.noteOn(60), .noEvent, .noteOff, .noteOn(62), .noteOn(64), .noEvent])
        #expect(melody.placedNotes == [
            PlacedNote(onset: 0, duration: 2, pitch: 60), PlacedNote(onset: 3, duration: 1, pitch: 62),
            PlacedNote(onset: 4, duration: 2, pitch: 64),
        ])
    }
}
