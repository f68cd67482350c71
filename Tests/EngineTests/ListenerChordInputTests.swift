import MIDI
import Testing

@testable import Engine

/// How the player gives the chord (`listener.chord_input`): the arranger readings, chord memory, the
/// split's two hands, and the chord changing on the step a new one is struck.
@Suite struct ListenerChordInputTests {
    static let fps: UInt64 = 6000  // a 16th at 120 bpm, 48 kHz (the listener rig's grid)

    /// A listener rig (the grid from frame 0) reading chords as `mode` says, split at `split`.
    func rig(_ mode: ChordInputMode, split: UInt8? = 60) -> TransportRig {
        var rig = listenerRig()
        var settings = rig.listener!.settings
        settings.chordInput = ChordInputSettings(mode: mode, splitPoint: split)
        rig.listener = Listener(settings: settings, sampleRate: 48000, meter: .fourFour)
        return rig
    }

    /// The keys struck on `step` (a millisecond apart, low to high, as hands strike a chord).
    func strike(_ keys: [UInt8], onStep step: Int, _ rig: inout TransportRig) {
        for (k, key) in keys.sorted().enumerated() { rig.send(playerOn(key), at: UInt64(step) * Self.fps + UInt64(k) * 48) }
    }

    func release(_ keys: [UInt8], at frame: UInt64, _ rig: inout TransportRig) {
        for (k, key) in keys.enumerated() { rig.send(playerOff(key), at: frame + UInt64(k) * 144) }
    }

    func name(_ rig: TransportRig) -> String? { rig.listener!.chord?.description }

    // MARK: - Fingered, one set of keys

    @Test(arguments: [
        ([60, 64, 67], "C"),
        ([64, 67, 72], "C"),  // first inversion, close: the root stays the bass
        ([55, 60, 64], "C"),  // second inversion: G a fourth under C is a voicing, not a bass
        ([36, 52, 55], "C"),  // the root a tenth below
        ([40, 48, 55], "C/E"),  // E a sixth under the chord: a bass meant
        ([38, 48, 52, 55], "C/D"),  // D under C E G names no chord with it: C over a D bass
        ([57, 60, 64], "Am"),
        ([60, 63, 67], "Cm"),
        ([59, 62, 65], "Bdim"),
        ([60, 64, 68], "Caug"),
        ([64, 68, 72], "Eaug"),  // symmetric: the lowest key is the root
        ([60, 63, 66, 69], "Cdim7"),
        ([63, 66, 69, 72], "Ebdim7"),
        ([60, 65, 67], "Csus4"),
        ([55, 60, 62], "Gsus4"),
        ([55, 59, 62, 65], "G7"),
        ([59, 62, 65, 67], "G7"),  // B D F G: an inversion, G the root and bass
        ([60, 64, 70], "C7"),  // a seventh without its fifth
        ([60, 63, 70], "Cm7"),
        ([60, 64, 71], "Cmaj7"),
        ([57, 60, 64, 67], "Am7"),
        ([59, 62, 65, 69], "Bm7b5"),
        ([62], "D"),  // one key: its major chord
        ([50, 62], "D"),
        ([60, 64], "C"),  // two keys: a third or a fifth on the lower key...
        ([60, 67], "C"),
        ([60, 63], "Cm"),
        ([55, 60], "C"),  // ...or their inversion, on the upper key
        ([64, 72], "C"),
        ([60, 69], "Am"),
        ([57, 60], "Am"),
    ] as [([UInt8], String)])
    func fingeredNamesChordsAsArrangersDo(keys: [UInt8], name: String) {
        #expect(ArrangerChord.fingered(PitchSet(keys))?.description == name)
    }

    @Test func fingeredGivesTheRootNotTheLowestKeyAsTheBass() throws {
        let inverted = try #require(ArrangerChord.fingered(PitchSet([64, 67, 72])))
        #expect(inverted.root == 0 && inverted.bass == 0)
        let slash = try #require(ArrangerChord.fingered(PitchSet([40, 48, 55])))
        #expect(slash.root == 0 && slash.bass == 4)
    }

    @Test(arguments: [[60, 62], [59, 65], [60, 70], [60, 71], [60, 61, 62], [60, 62, 64, 67], [60, 64, 67, 70, 74], []] as [[UInt8]])
    func fingeredNamesNothingForKeysThatSpellNoChord(keys: [UInt8]) {
        #expect(ArrangerChord.fingered(PitchSet(keys)) == nil)
    }

    // MARK: - Single finger, one set of keys

    @Test(arguments: [
        ([60], "C"),
        ([61], "C#"),
        ([58, 60], "Cm"),  // Bb: a black key below
        ([57, 60], "C7"),  // A: a white key below
        ([57, 58, 60], "Cm7"),  // both
        ([48, 60], "C7"),  // the octave below is a white key below
        ([54, 67], "Gm"),  // F# below G
        ([55, 66], "F#7"),  // the highest key is the root: G is a white key below F#
        ([56, 61], "C#m"),
        ([45, 46, 47, 62], "Dm7"),
    ] as [([UInt8], String)])
    func singleFingerColoursTheHighestKey(keys: [UInt8], name: String) {
        #expect(ArrangerChord.singleFinger(PitchSet(keys))?.description == name)
    }

    @Test func qualityMasksAreTheirIntervals() {
        for quality in ChordQuality.allCases {
            #expect(quality.mask == quality.intervals.reduce(UInt16(0)) { $0 | 1 << UInt16($1) }, "\(quality)")
        }
    }

    // MARK: - Fingered and single finger on the grid: memory

    @Test func fingeredKeepsTheChordAfterTheKeysAreLetGoUntilTheNextChord() {
        var rig = rig(.fingered)
        strike([45, 48, 52], onStep: 0, &rig)
        #expect(name(rig) == "Am")
        release([45, 48, 52], at: 2 * Self.fps, &rig)
        rig.drain(through: 31 * Self.fps)
        #expect(rig.reports.suffix(29).allSatisfy { $0.chord?.description == "Am" })
        strike([41, 45, 48], onStep: 32, &rig)
        #expect(name(rig) == "F", "the new chord is heard the moment it is struck")
        rig.drain(through: 33 * Self.fps)
        #expect(rig.reports.last?.chord?.description == "F")
    }

    @Test func lettingGoOfAChordKeyByKeyKeepsIt() {
        var rig = rig(.fingered)
        strike([45, 48, 52, 55], onStep: 0, &rig)
        #expect(name(rig) == "Am7")
        // A, then C, then E: the keys left would read C, Em, G on the way.
        release([45, 48, 52, 55], at: 4 * Self.fps, &rig)
        rig.drain(through: 8 * Self.fps)
        #expect(name(rig) == "Am7")
    }

    @Test func aChordStruckBeforeTheOldOneIsLetGoIsNamedByTheKeysStruckTogether() {
        var rig = rig(.fingered)
        strike([48, 52, 55], onStep: 0, &rig)
        #expect(name(rig) == "C")
        // F and A struck with C E G still down (C held as a common tone): the five keys name no chord,
        // the two struck together do.
        strike([53, 57], onStep: 8, &rig)
        #expect(name(rig) == "F")
        release([52, 55], at: 8 * Self.fps + 1500, &rig)
        #expect(name(rig) == "F")
    }

    @Test func keysThatNameNoChordLeaveTheChordAsItWas() {
        var rig = rig(.fingered)
        strike([48, 52, 55], onStep: 0, &rig)
        strike([50], onStep: 4, &rig)  // D added: C D E G is no chord here
        #expect(name(rig) == "C")
        release([50], at: 6 * Self.fps, &rig)
        #expect(name(rig) == "C")
        strike([50], onStep: 8, &rig)
        // Let go from the bottom: D E G (Em7 without its fifth), then E G, then G are left, and none of
        // them is the chord.
        release([48, 50, 52, 55], at: 10 * Self.fps, &rig)
        #expect(name(rig) == "C")
        strike([50], onStep: 12, &rig)  // D alone: D major
        #expect(name(rig) == "D")
    }

    @Test func singleFingerRemembersToo() {
        var rig = rig(.singleFinger)
        strike([48], onStep: 0, &rig)
        #expect(name(rig) == "C")
        strike([46], onStep: 1, &rig)  // Bb below C: minor
        #expect(name(rig) == "Cm")
        release([46, 48], at: 3 * Self.fps, &rig)
        rig.drain(through: 20 * Self.fps)
        #expect(rig.reports.last?.chord?.description == "Cm")
        strike([43], onStep: 24, &rig)
        #expect(name(rig) == "G")
        strike([40, 42], onStep: 28, &rig)  // E (white) and F# (black) below G... played together
        #expect(name(rig) == "Gm7")
    }

    @Test func theMelodyHandNeverNamesTheChordInFingeredMode() {
        var rig = rig(.fingered)
        strike([48, 52, 55], onStep: 0, &rig)
        strike([69], onStep: 2, &rig)
        strike([65, 74], onStep: 4, &rig)
        #expect(name(rig) == "C")
        release([48, 52, 55], at: 5 * Self.fps, &rig)
        strike([62], onStep: 6, &rig)
        #expect(name(rig) == "C")
    }

    @Test func withoutASplitPointTheWholeKeyboardNamesTheChordAndNothingIsMelody() {
        var rig = rig(.fingered, split: nil)
        strike([60, 64, 67, 72], onStep: 0, &rig)
        #expect(name(rig) == "C")
        #expect(rig.listener!.notes(atStep: 0)?.struck.isEmpty == true)
        #expect(rig.listener!.soundingNow.isEmpty)
        #expect(rig.listener!.keysDown == PitchSet([60, 64, 67, 72]))
    }

    // MARK: - Split: two hands

    /// Left hand C E G then A C E, a bar each; right hand a tune full of tones outside them.
    func twoHands(_ rig: inout TransportRig, melody: Bool) {
        strike([48, 52, 55], onStep: 0, &rig)
        if melody {
            strike([69], onStep: 2, &rig)
            strike([74], onStep: 4, &rig)
            strike([77], onStep: 8, &rig)
        }
        release([48, 52, 55], at: 15 * Self.fps + 3000, &rig)
        strike([45, 48, 52], onStep: 16, &rig)
        if melody {
            strike([79], onStep: 16, &rig)
            strike([71, 74], onStep: 20, &rig)
        }
        rig.drain(through: 31 * Self.fps)
    }

    @Test func theSplitsChordComesFromTheLeftHandOnly() {
        var left = rig(.split)
        twoHands(&left, melody: false)
        var both = rig(.split)
        twoHands(&both, melody: true)
        #expect(both.reports.map(\.chord) == left.reports.map(\.chord))
        #expect(both.reports[10].chord?.description == "C")
        #expect(both.reports[17].chord?.description == "Am")
        // The same hands on a full keyboard: the tune's tones change the chord (so this test can fail).
        var full = rig(.full)
        twoHands(&full, melody: true)
        #expect(full.reports.map(\.chord) != left.reports.map(\.chord))
    }

    @Test func theBandHearsTheMelodyHandAsThePlayersNotes() throws {
        var rig = rig(.split)
        strike([48, 52, 55], onStep: 0, &rig)
        strike([76], onStep: 0, &rig)
        strike([72], onStep: 4, &rig)
        release([72, 76], at: 6 * Self.fps, &rig)
        release([48, 52, 55], at: 7 * Self.fps, &rig)
        strike([43, 47, 50], onStep: 8, &rig)  // the left hand alone
        rig.drain(through: 8 * Self.fps)
        let l = rig.listener!
        #expect(l.notes(atStep: 0)?.struck == PitchSet([76]))
        #expect(l.notes(atStep: 0)?.sounding == PitchSet([76]))
        #expect(l.allNotes(atStep: 0)?.struck == PitchSet([48, 52, 55, 76]))
        #expect(l.notes(atStep: 4)?.struck == PitchSet([72]))
        #expect(l.notes(atStep: 8)?.struck.isEmpty == true)
        #expect(l.soundingNow.isEmpty)
        #expect(l.keysDown == PitchSet([43, 47, 50]))
        // What a part that follows the melody is given, as the engine builds its context.
        func melody(onStep step: Int64) -> UInt8? {
            var c = PartContext()
            c.playerStruck = rig.listener!.notes(atStep: step)?.struck ?? PitchSet()
            c.playerSounding = rig.listener!.soundingNow
            return c.melodyNote
        }
        #expect(melody(onStep: 8) == nil, "the left hand alone is no melody")
        #expect(l.chord?.description == "G")
        strike([79], onStep: 12, &rig)
        strike([41, 45, 48], onStep: 14, &rig)
        rig.drain(through: 14 * Self.fps)
        #expect(melody(onStep: 14) == 79, "held over a left-hand strike, the melody note is the right hand's")
    }

    @Test func theSplitReadsABrokenLeftHand() {
        var rig = rig(.split)
        // G2 B2 D3 F3 as 8ths, each let go before the next.
        for (k, key) in [43, 47, 50, 53].enumerated() {
            rig.send(playerOn(UInt8(key)), at: UInt64(k) * 2 * Self.fps)
            rig.send(playerOff(UInt8(key)), at: UInt64(k) * 2 * Self.fps + 10000)
        }
        rig.drain(through: 7 * Self.fps)
        #expect(rig.reports.last?.chord?.description == "G7")
    }

    @Test func keyAndPhrasesHearBothHands() {
        var rig = rig(.split)
        // A left-hand cadence in C, the right hand silent.
        for (bar, chord) in [[48, 52, 55], [41, 45, 48], [43, 47, 50, 53], [48, 52, 55]].enumerated() {
            strike(chord.map(UInt8.init), onStep: bar * 16, &rig)
            release(chord.map(UInt8.init), at: UInt64(bar * 16 + 15) * Self.fps, &rig)
        }
        rig.drain(through: 63 * Self.fps)
        #expect(rig.listener!.key?.tonic == 0)
        #expect(rig.listener!.inPhrase)
    }

    // MARK: - The change is heard at once

    /// C E G struck and let go, then F A C a beat later: the old strikes still weigh, and used to make
    /// it Fmaj7 or C for two beats more.
    @Test(arguments: [ChordInputMode.full, .split, .fingered])
    func aNewChordIsNamedOnTheStepItIsStruck(mode: ChordInputMode) {
        var rig = rig(mode)
        strike([48, 52, 55], onStep: 0, &rig)
        release([48, 52, 55], at: 3 * Self.fps, &rig)
        strike([41, 45, 48], onStep: 4, &rig)
        #expect(name(rig) == "F")
        rig.drain(through: 12 * Self.fps)
        #expect(rig.reports[5...].allSatisfy { $0.chord?.description == "F" })
    }

    @Test func aChordStruckEarlyForTheNextStepCountsForIt() {
        var rig = rig(.full)
        strike([48, 52, 55], onStep: 0, &rig)
        release([48, 52, 55], at: 4 * Self.fps, &rig)
        rig.drain(through: 7 * Self.fps + 100)
        // 15 ms before step 8: inside its window, before its boundary.
        for key: UInt8 in [45, 48, 52] { rig.send(playerOn(key), at: 8 * Self.fps - 720) }
        #expect(name(rig) == "Am")
    }

    @Test func strikesFurtherApartThanTheWindowAreNoFreshChord() {
        var rig = rig(.full)
        strike([48, 52, 55], onStep: 0, &rig)
        release([48, 52, 55], at: 1 * Self.fps, &rig)
        // A, then C, then E, a 16th apart: a broken chord; G still weighs in, with the C's own E and G.
        for (k, key) in [57, 60, 64].enumerated() { rig.send(playerOn(UInt8(key)), at: UInt64(4 + k) * Self.fps) }
        #expect(rig.listener!.chord?.root == 9)
        #expect(rig.listener!.chord?.quality == .minorSeventh)
    }

    // MARK: - Thru

    @Test func theThruLeavesOutTheChordHandWhenAskedAndOnlyThen() throws {
        let split = try PresetReader.read(
            yaml: "listener: {chord_input: {mode: split, split_point: C4}}\nthru: {chord_hand: false}", defaultName: "t")
        let thru = ThruEngine(preset: split)
        #expect(thru.mapped(.noteOn(channel: 0, note: 59, velocity: 80)) == nil)
        #expect(thru.mapped(.noteOff(channel: 0, note: 59, velocity: 0)) == nil)
        #expect(thru.mapped(.noteOn(channel: 0, note: 60, velocity: 80)) != nil)
        #expect(thru.mapped(.controlChange(channel: 0, controller: 64, value: 127)) != nil)
        let echoed = try PresetReader.read(yaml: "listener: {chord_input: {mode: split, split_point: C4}}", defaultName: "t")
        #expect(ThruEngine(preset: echoed).mapped(.noteOn(channel: 0, note: 59, velocity: 80)) != nil)
        let whole = try PresetReader.read(
            yaml: "listener: {chord_input: {mode: fingered, split_point: none}}\nthru: {chord_hand: false}", defaultName: "t")
        #expect(ThruEngine(preset: whole).mapped(.noteOn(channel: 0, note: 100, velocity: 80)) == nil)
    }
}
