import Testing

@testable import Music

/// The whole band as one event stream: every class names one event and back, a step's events come in the
/// fixed order, keys are released when they stop sounding and struck again when re-struck.
@Suite struct EnsembleVocabularyTests {
    @Test func everyClassIsOneEventAndBack() {
        #expect(EnsembleVocabulary.classes == 2 + 47 + 3 * 88)
        var seen = Set<EnsembleVocabulary.Event>()
        for c in 0..<EnsembleVocabulary.classes {
            let event = EnsembleVocabulary.event(at: c)!
            #expect(EnsembleVocabulary.index(of: event) == c)
            #expect(seen.insert(event).inserted)
        }
        #expect(EnsembleVocabulary.event(at: EnsembleVocabulary.classes) == nil)
        #expect(EnsembleVocabulary.index(of: .drum(34)) == nil && EnsembleVocabulary.index(of: .drum(82)) == nil)
        #expect(EnsembleVocabulary.index(of: .keysOn(20)) == nil && EnsembleVocabulary.index(of: .bassOn(109)) == nil)
        // The classes that transposition moves are the three blocks of 88 keys after the fixed prefix.
        #expect(EnsembleVocabulary.classes - EnsembleVocabulary.firstPitchedClass == EnsembleVocabulary.pitchedBlocks * 88)
        #expect(EnsembleVocabulary.event(at: EnsembleVocabulary.firstPitchedClass - 1) == .drum(81))
    }

    /// Three steps: kick and hat with a bass C2 and a struck C major triad; hat alone with the bass held and
    /// the triad held but its G released; snare with the bass off and C struck again while E is let go.
    @Test func aStepIsDrumsThenBassThenKeysThenStep() {
        let drums = PianoRoll(frames: [[42, 36], [42], [38]])
        let bass: [MelodyEvent] = [.noteOn(36), .noEvent, .noteOff]
        let keys = OnsetHoldRoll(struck: PianoRoll(frames: [[60, 64, 67], [], [60]]), held: PianoRoll(frames: [[], [60, 64], []]))
        let (classes, steps) = EnsembleVocabulary.encode(drums: drums, bass: bass, keys: keys)
        let events = classes.map { EnsembleVocabulary.event(at: $0)! }
        #expect(events == [
            .step,
            .drum(36), .drum(42), .bassOn(36), .keysOn(60), .keysOn(64), .keysOn(67), .step,
            .drum(42), .keysOff(67), .step,
            .drum(38), .bassOff, .keysOff(64), .keysOn(60), .step,
        ])
        #expect(steps == [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2])
    }

    /// A bass line that runs a step past the keys (its final note-off) and a kit piece outside GM's range:
    /// the stream has the song's steps, and what it cannot name is left out.
    @Test func whatTheVocabularyCannotNameIsLeftOut() {
        let (classes, steps) = EnsembleVocabulary.encode(
            drums: PianoRoll(frames: [[27, 36]]), bass: [.noteOn(40), .noteOff],
            keys: OnsetHoldRoll(struck: PianoRoll(frames: [[]]), held: PianoRoll(frames: [[]])))
        #expect(classes.map { EnsembleVocabulary.event(at: $0)! } == [.step, .drum(36), .bassOn(40), .step])
        #expect(steps == [0, 0, 0, 0])
    }
}
