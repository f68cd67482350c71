import MIDI
import Testing

@testable import Engine

/// A fixed 120 bpm transport at 48 kHz (6000 frames per step) started at frame 0, with a listener.
func listenerRig(
    window: Double = 30, phraseEndBeats: Double = 2, phraseEndController: UInt8? = nil, meter: Meter = .fourFour
) -> TransportRig {
    var transport = Transport(settings: transportSettings(.fixed, bpm: 120, meter: meter), sampleRate: 48000)
    transport.start(at: 0)
    var ls = ListenerSettings()
    ls.onStepWindowMilliseconds = window
    ls.phraseEndBeats = phraseEndBeats
    let listener = Listener(
        settings: ls, sampleRate: 48000, meter: meter, phraseEndController: phraseEndController)
    return TransportRig(transport, listener: listener)
}

func playerOn(_ note: UInt8, _ velocity: UInt8 = 90) -> MIDIMessage { .noteOn(channel: 0, note: note, velocity: velocity) }
func playerOff(_ note: UInt8) -> MIDIMessage { .noteOff(channel: 0, note: note, velocity: 0) }

@Suite struct ListenerGridTests {
    @Test func windowRulePlacesNotes() {
        var rig = listenerRig()
        rig.send(playerOn(60), at: 48000 - 480)  // 10 ms before step 8
        rig.send(playerOn(62), at: 60000 + 2880)  // 60 ms after step 10
        rig.send(playerOn(64), at: 72000 + 960)  // 20 ms after step 12
        rig.send(playerOn(65), at: 84000 - 1920)  // 40 ms before step 14
        rig.send(playerOn(67), at: 90000)  // exactly on step 15
        let placements = rig.heard.compactMap(\.heard.placement)
        #expect(
            placements == [
                NotePlacement(step: 8, isOnStep: true, offsetFrames: -480),
                NotePlacement(step: 11, isOnStep: false, offsetFrames: -3120),
                NotePlacement(step: 12, isOnStep: true, offsetFrames: 960),
                NotePlacement(step: 14, isOnStep: false, offsetFrames: -1920),
                NotePlacement(step: 15, isOnStep: true, offsetFrames: 0),
            ])
    }

    @Test func windowEdgesAndANarrowWindow() {
        var rig = listenerRig(window: 5)  // 240 frames
        rig.send(playerOn(60), at: 48000 - 240)
        rig.send(playerOn(61), at: 54000 - 241)
        rig.send(playerOn(62), at: 60000 + 240)
        rig.send(playerOn(63), at: 66000 + 241)
        #expect(rig.heard.map { $0.heard.placement!.isOnStep } == [true, false, true, false])
        #expect(rig.heard.map { $0.heard.placement!.step } == [8, 9, 10, 12])
    }

    @Test func stepsKeepStruckAndSoundingPitches() {
        var rig = listenerRig()
        rig.send(playerOn(60), at: 48000 - 480)  // struck on 8
        rig.send(playerOn(64, 110), at: 54000 + 3000)  // mid-step 9: struck on 10
        rig.send(playerOff(64), at: 60000 + 1000)  // a short note: still sounds on its step
        rig.send(playerOff(60), at: 66000 + 3000)  // mid-step 11: sounds through 11
        rig.send(playerOn(67), at: 96000)  // on 16
        rig.send(playerOff(67), at: 108_000 + 500)  // 8 ms after step 18: ends there
        rig.drain(through: 130_000)
        let l = rig.listener!
        #expect(l.notes(atStep: 8)!.struck == PitchSet([60]))
        #expect(l.notes(atStep: 8)!.sounding == PitchSet([60]))
        #expect(l.notes(atStep: 9)!.sounding == PitchSet([60]))
        #expect(l.notes(atStep: 9)!.struck.isEmpty)
        #expect(l.notes(atStep: 10)!.struck == PitchSet([64]))
        #expect(l.notes(atStep: 10)!.sounding == PitchSet([60, 64]))
        #expect(l.notes(atStep: 10)!.velocity == 110)
        #expect(l.notes(atStep: 11)!.sounding == PitchSet([60]))
        #expect(l.notes(atStep: 12)!.sounding.isEmpty)
        #expect((16...17).allSatisfy { l.notes(atStep: $0)!.sounding == PitchSet([67]) })
        #expect(l.notes(atStep: 18)!.sounding.isEmpty)
        #expect(l.notes(atStep: 7)!.sounding.isEmpty)
    }

    @Test func historyIsARing() {
        var rig = listenerRig()
        rig.send(playerOn(60), at: 0)
        rig.send(playerOff(60), at: 3000)
        rig.drain(through: 6000 * 300)
        #expect(rig.listener!.notes(atStep: 0) == nil)
        #expect(rig.listener!.notes(atStep: 299) != nil)
        #expect(rig.listener!.notes(atStep: 299 - 256) == nil)
    }

    @Test func phraseEndsAfterSilentBeats() {
        var rig = listenerRig(phraseEndBeats: 2)
        rig.send(playerOn(60), at: 100)
        rig.send(playerOff(60), at: 18000 + 3000)  // sounds through step 3
        rig.drain(through: 6000 * 20)
        #expect(rig.heard[0].heard.phraseStarted)
        #expect(rig.reports.filter(\.phraseEnded).map(\.step) == [12])
        #expect(rig.reports.first { $0.step == 11 }!.inPhrase)
        #expect(!rig.reports.first { $0.step == 12 }!.inPhrase)
        rig.send(playerOn(62), at: 6000 * 21)
        rig.send(playerOn(64), at: 6000 * 22)
        #expect(rig.heard.map(\.heard.phraseStarted) == [true, false, true, false])
    }

    @Test func phraseEndCountsBeatsOfTheMeter() {
        // 6/8: a beat is a dotted quarter, so 2 beats are 12 steps.
        var rig = listenerRig(phraseEndBeats: 2, meter: Meter(beats: 6, beatUnit: 8))
        rig.send(playerOn(60), at: 0)
        rig.send(playerOff(60), at: 3000)
        rig.drain(through: 6000 * 20)
        #expect(rig.reports.filter(\.phraseEnded).map(\.step) == [13])
    }

    @Test func heldAndPedalledNotesKeepThePhrase() {
        var rig = listenerRig(phraseEndBeats: 1)
        rig.send(.controlChange(channel: 0, controller: 64, value: 127), at: 0)
        rig.send(playerOn(60), at: 0)
        rig.send(playerOff(60), at: 3000)  // released, but the pedal holds it
        rig.drain(through: 6000 * 10)
        #expect(rig.reports.allSatisfy { !$0.phraseEnded })
        #expect(rig.listener!.notes(atStep: 9)!.sounding == PitchSet([60]))
        rig.send(.controlChange(channel: 0, controller: 64, value: 0), at: 6000 * 10 + 3000)
        rig.drain(through: 6000 * 20)
        #expect(rig.reports.filter(\.phraseEnded).map(\.step) == [15])
    }

    @Test func controllerEndsThePhrase() {
        var rig = listenerRig(phraseEndController: 20)
        rig.send(playerOn(60), at: 0)
        rig.send(.controlChange(channel: 0, controller: 20, value: 127), at: 7000)
        rig.send(.controlChange(channel: 0, controller: 20, value: 127), at: 8000)
        rig.send(.controlChange(channel: 0, controller: 21, value: 127), at: 9000)
        #expect(rig.heard.map(\.heard.phraseEnded) == [false, true, false, false])
        #expect(!rig.listener!.inPhrase)
        rig.send(playerOn(62), at: 12000)
        #expect(rig.heard.last!.heard.phraseStarted)
    }

    @Test(arguments: [(4, 1, 1.0, 0.25), (2, 1, 2.0, 0.5), (1, 1, 4.0, 1.0), (4, 3, 3.0, 0.25), (8, 1, 0.5, 0.125)])
    func densityCountsOnsetsPerBeat(everySteps: Int, voices: Int, perBeat: Double, share: Double) {
        var rig = listenerRig()
        for step in stride(from: 0, to: 64, by: everySteps) {
            for v in 0..<voices {
                rig.send(playerOn(UInt8(60 + 4 * v)), at: UInt64(step * 6000))
                rig.send(playerOff(UInt8(60 + 4 * v)), at: UInt64(step * 6000 + 3000))
            }
        }
        rig.drain(through: 64 * 6000)
        // The window is 8 beats (32 steps): full from step 32 on.
        let last = rig.reports.last!
        #expect(last.step == 64)
        #expect(abs(last.notesPerBeat - perBeat) < 1e-9)
        #expect(abs(last.density - share) < 1e-9)
        // Silence empties the window again.
        rig.drain(through: 100 * 6000)
        #expect(rig.reports.last!.notesPerBeat == 0 && rig.reports.last!.density == 0)
    }

    @Test func resetForgetsEverything() {
        var rig = listenerRig()
        for (i, p) in [60, 64, 67, 72, 67, 64, 60, 64].enumerated() {
            rig.send(playerOn(UInt8(p)), at: UInt64(i * 24000))
            rig.send(playerOff(UInt8(p)), at: UInt64(i * 24000 + 20000))
        }
        rig.drain(through: 8 * 24000)
        #expect(rig.listener!.key != nil)
        rig.listener!.reset()
        #expect(rig.listener!.key == nil)
        #expect(rig.listener!.chord == nil)
        #expect(rig.listener!.notes(atStep: 4) == nil)
        #expect(!rig.listener!.inPhrase)
        #expect(rig.listener!.soundingNow.isEmpty)
        #expect(rig.listener!.notesPerBeat == 0)
    }

    @Test func otherChannelsAreIgnoredWhenOneIsSet() {
        var ls = ListenerSettings()
        ls.inputChannel = 2
        var transport = Transport(settings: transportSettings(.fixed, bpm: 120), sampleRate: 48000)
        transport.start(at: 0)
        var rig = TransportRig(transport, listener: Listener(settings: ls, sampleRate: 48000, meter: .fourFour))
        rig.send(.noteOn(channel: 0, note: 60, velocity: 90), at: 100)
        rig.send(.noteOn(channel: 2, note: 64, velocity: 90), at: 200)
        rig.drain(through: 6000)
        #expect(rig.listener!.notes(atStep: 0)!.struck == PitchSet([64]))
    }

    @Test func notesBeforeTheTransportRunsAreHeardButNotPlaced() {
        var ls = ListenerSettings()
        ls.onStepWindowMilliseconds = 30
        var rig = TransportRig(
            Transport(settings: transportSettings(.fixed, bpm: 120), sampleRate: 48000),
            listener: Listener(settings: ls, sampleRate: 48000, meter: .fourFour))
        rig.send(playerOn(60), at: 100)
        #expect(rig.heard[0].heard.placement == nil)
        #expect(rig.heard[0].heard.phraseStarted)
        #expect(rig.listener!.soundingNow == PitchSet([60]))
    }

    @Test func clockModePlacesNotesAgainstTicks() {
        var ls = ListenerSettings()
        ls.onStepWindowMilliseconds = 30
        var rig = TransportRig(
            Transport(settings: transportSettings(.clock, bpm: 120), sampleRate: 48000),
            listener: Listener(settings: ls, sampleRate: 48000, meter: .fourFour))
        rig.send(.start, at: 0)
        for n in 0..<48 { rig.send(.clock, at: UInt64(500 + n * 1000)) }  // 120 bpm: steps every 6000
        rig.send(playerOn(60), at: 48500 - 480)  // 10 ms before step 8's tick
        rig.send(.clock, at: 48500)
        #expect(rig.heard.compactMap(\.heard.placement) == [NotePlacement(step: 8, isOnStep: true, offsetFrames: -480)])
        rig.drain(through: 48500)
        #expect(rig.listener!.notes(atStep: 8)!.struck == PitchSet([60]))
    }

    @Test func inFollowModeTheFirstNoteStartsTheGridOnStepZero() {
        var ls = ListenerSettings()
        ls.onStepWindowMilliseconds = 30
        var rig = TransportRig(
            Transport(settings: transportSettings(.follow, bpm: 100), sampleRate: 48000),
            listener: Listener(settings: ls, sampleRate: 48000, meter: .fourFour))
        rig.send(playerOn(60), at: 123_456)
        #expect(rig.boundaries.map(\.frame) == [123_456])
        #expect(rig.heard[0].heard.placement == NotePlacement(step: 0, isOnStep: true, offsetFrames: 0))
        #expect(rig.heard[0].heard.phraseStarted)
    }
}
