import PropertyBased
import Testing

@testable import Music

@Suite struct MelodyEventTests {
    @Test func notesBecomeEventsWithOffsOnlyBeforeRests() {
        // C for 2 steps, D straight after for 1, rest 1, E for 2.
        let m = Melody(notes: [(0, 2, 60), (2, 1, 62), (4, 2, 64)])
        #expect(m.events == [.noteOn(60), .noEvent, .noteOn(62), .noteOff, .noteOn(64), .noEvent, .noteOff])
    }

    @Test func pitchPerStepRoundTrips() async {
        let voice = Gen.int(in: 0...3).array(of: 1...64).map { codes -> [UInt8?] in
            codes.map { $0 == 0 ? nil : UInt8(59 + $0) }
        }
        await propertyCheck(input: voice) { steps in
            let m = Melody(pitchPerStep: steps)
            #expect(Array(m.pitchPerStep.prefix(steps.count)) == steps)
            // A trailing note-off closes a line that ends sounding.
            #expect(m.pitchPerStep.last! == nil || steps.last! != nil)
        }
    }

    @Test func transpositionRespectsRange() {
        let m = Melody(notes: [(0, 1, 60), (1, 1, 72)])
        #expect(m.transposed(by: 5)?.events.first == .noteOn(65))
        #expect(m.transposed(by: 60) == nil)
    }

    @Test func keyNames() {
        #expect(Key(name: "G major") == Key(tonic: 7, mode: .major))
        #expect(Key(name: "F# minor") == Key(tonic: 6, mode: .minor))
        #expect(Key(name: "E- minor") == Key(tonic: 3, mode: .minor))
        #expect(Key(name: "Bb major")?.description == "Bb major")
        #expect(Key(name: "H dorian") == nil)
        #expect(Key(name: "C major")!.scale == [0, 2, 4, 5, 7, 9, 11])
    }

    @Test func pianoRollUnitsAreThe88Keys() {
        let roll = PianoRoll(frames: [[21, 108, 60, 60], []])
        #expect(roll.frames[0] == [21, 60, 108])
        #expect(roll.pianoUnitFrames == [[0, 39, 87], []])
    }
}
