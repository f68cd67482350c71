import MIDI
import Music
import Testing

@testable import Engine

@Suite struct ListenerChordTests {
    private func chord(_ pitches: [UInt8]) -> Chord? {
        ChordEstimator(stepsPerBeat: 4).estimate(sounding: PitchSet(pitches), struck: PitchSet())
    }

    @Test(arguments: [
        ([60, 64, 67], "C"),
        ([52, 60, 67], "C/E"),
        ([43, 60, 64], "C/G"),
        ([57, 60, 64], "Am"),
        ([61, 64, 69], "A/C#"),
        ([59, 62, 65], "Bdim"),
        ([60, 64, 68], "Caug"),
        ([60, 65, 67], "Csus4"),
        ([55, 59, 62, 65], "G7"),
        ([47, 62, 65, 67], "G7/B"),
        ([53, 65, 67, 71], "G7/F"),
        ([53, 57, 60, 64], "Fmaj7"),
        ([52, 57, 60, 65], "Fmaj7/E"),
        ([50, 53, 57, 60], "Dm7"),
        ([48, 53, 57, 62], "Dm7/C"),
        ([59, 62, 65, 69], "Bm7b5"),
        ([60, 63, 66, 69], "Cdim7"),
        ([45, 64, 72, 76, 79], "C/A"),  // no A-minor seventh without its fifth... see below
    ] as [([UInt8], String)])
    func namesTriadsAndSevenths(pitches: [UInt8], name: String) {
        if name == "C/A" {
            // A, E, C, E, G: every note of Am7 — the bass settles it as Am7, not C6.
            #expect(chord(pitches)?.description == "Am7")
        } else {
            #expect(chord(pitches)?.description == name)
        }
    }

    @Test func transposesWithThePitches() {
        for shift in 0..<12 {
            let c = chord([48, 55, 64, 70].map { UInt8($0 + shift) })
            #expect(c == Chord(root: shift, quality: .dominantSeventh))
        }
    }

    @Test func everyQualityIsALeadSheetSymbol() {
        for quality in ChordQuality.allCases {
            for root in 0..<12 {
                let chord = Chord(root: root, quality: quality)
                let symbol = chord.symbol
                #expect(symbol != nil)
                let classes = Set((0..<12).filter { chord.pitchClasses & (1 << UInt16($0)) != 0 })
                #expect(symbol?.pitchClasses == classes)
            }
        }
    }

    @Test func tooLittleIsNoChord() {
        #expect(chord([]) == nil)
        #expect(chord([60]) == nil)
        #expect(chord([60, 67]) == nil)
        #expect(chord([60, 72, 84]) == nil)
    }

    @Test func anArpeggioNamesItsChord() {
        var rig = listenerRig()
        // G B D F as 8th notes, each released before the next.
        for (i, p) in [43, 59, 62, 65].enumerated() {
            rig.send(playerOn(UInt8(p)), at: UInt64(i * 12000))
            rig.send(playerOff(UInt8(p)), at: UInt64(i * 12000 + 10000))
        }
        rig.drain(through: 4 * 12000 - 6000)
        #expect(rig.reports.last!.chord?.description == "G7")
        // Recent strikes halve every two beats: three beats after the last one the chord has faded.
        rig.drain(through: 4 * 12000 + 12 * 6000)
        #expect(rig.reports.last!.chord == nil)
    }

    @Test func chordIsUpdatedByAnOnStepNote() {
        var rig = listenerRig()
        rig.send(playerOn(48), at: 0)
        rig.send(playerOn(64), at: 0)
        rig.drain(through: 6000)
        #expect(rig.listener!.chord == nil)
        rig.send(playerOn(67), at: 6000 + 200)  // on step 1: the listener's chord changes at once
        #expect(rig.listener!.chord?.description == "C")
    }

    /// An open fifth struck as one names the triad on its root, with the third the key has; a fifth not
    /// struck as one (or any other pair) is still no chord.
    @Test func anOpenFifthNamesTheTriadOnItsRoot() {
        let estimator = ChordEstimator(stepsPerBeat: 4)
        let cMajor = PartContext.scaleClasses(Key(tonic: 0, mode: .major))
        func fifth(_ pitches: [UInt8], scale: UInt16) -> String? {
            estimator.estimate(sounding: PitchSet(pitches), struck: PitchSet(pitches), openFifth: true, scale: scale)?.description
        }
        #expect(fifth([53, 60, 65], scale: cMajor) == "F")
        #expect(fifth([45, 52], scale: cMajor) == "Am")
        #expect(fifth([52, 57], scale: cMajor) == "Am")  // a fourth: the fifth inverted, its root on top
        #expect(fifth([45, 52], scale: 0) == "A")  // no key heard yet: major
        #expect(fifth([59, 66], scale: cMajor) == "Bm")
        #expect(fifth([60, 64], scale: cMajor) == nil)
        #expect(estimator.estimate(sounding: PitchSet([53, 60]), struck: PitchSet([53, 60]), scale: cMajor) == nil)
    }

    /// A shell voicing after a full chord: F3 C4 F4 struck as one after C E G is F, not the C sus4 the
    /// fading G made of it with the old strikes; the reading holds while the fifth is held and ends with
    /// the next strike.
    @Test func anOpenFifthStruckAsOneReplacesTheChordBefore() {
        var rig = listenerRig()
        for p: UInt8 in [60, 64, 67] {
            rig.send(playerOn(p), at: 0)
            rig.send(playerOff(p), at: 20000)
        }
        rig.drain(through: 24000)
        #expect(rig.listener!.chord?.description == "C")
        for p: UInt8 in [53, 60, 65] { rig.send(playerOn(p), at: 24000 + 100) }
        #expect(rig.listener!.chord?.root == 5)
        rig.drain(through: 24000 + 5 * 6000)
        #expect(rig.listener!.chord?.root == 5, "a beat after the strike, the fifth still held")
        rig.send(playerOn(69), at: 24000 + 5 * 6000 + 10)
        #expect(rig.listener!.chord?.description == "F", "the third added")
    }
}
