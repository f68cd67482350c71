import MIDI
import Testing

@testable import Engine

/// The player's loop as the engine follows it (`followTheLoop`): each bar's chord kept, and the chord the
/// loop expects on a downbeat the player has not struck, or struck with keys that belong to it.
@Suite struct MusicalEngineLoopTests {
    static let fps = MusicalEngineTests.fps
    static let start = MusicalEngineTests.start
    let progression: [[UInt8]] = [[48, 64, 67], [45, 60, 64], [41, 57, 60], [43, 59, 62]]  // C Am F G
    let roots = [0, 9, 5, 7]

    func rig() throws -> EngineRig {
        EngineRig(
            try MusicalEngineTests().engine {
                $0.performance.mode = .accompaniment
                $0.performance.harmonyCommit = .late
                $0.parts.removeAll { $0.role == .counterMelody || $0.role == .continuation }
            })
    }

    /// `pitches` struck at `step` (steps counted from the grid's start, the first strike) and let go a
    /// 16th before `until`.
    func strike(_ pitches: [UInt8], step: Int, until: Int, into input: inout [TimedMIDIMessage]) {
        let on = Self.start + UInt64(step) * Self.fps
        for p in pitches {
            input.append(TimedMIDIMessage(time: on, message: .noteOn(channel: 0, note: p, velocity: 90)))
            input.append(TimedMIDIMessage(time: Self.start + UInt64(until - 1) * Self.fps, message: .noteOff(channel: 0, note: p, velocity: 0)))
        }
    }

    /// A skank: after a first downbeat, the chord comes on the and of 2 and of 4 only. Each bar is kept
    /// with its own chord, not the one before it (heard at the end of beat 1 the loop would learn every
    /// change a bar late), and half way through the second round the loop expects the next bar's chord
    /// on its downbeat.
    @Test func aChordStruckAfterTheBeatIsTheBarsOwn() throws {
        var rig = try rig()
        var input: [TimedMIDIMessage] = []
        strike(progression[0], step: 0, until: 6, into: &input)
        for bar in 0..<8 {
            for step in [6, 14] { strike(progression[bar % 4], step: bar * 16 + step, until: bar * 16 + step + 8, into: &input) }
        }
        rig.run(until: Self.start + UInt64(5 * 16 + 10) * Self.fps, input: input)
        for bar in 0..<6 {
            #expect(rig.engine.harmonicLoop.chord(ofBar: Int64(bar))?.root == roots[bar % 4], "bar \(bar)")
        }
        rig.run(until: Self.start + UInt64(6 * 16 + 2) * Self.fps, input: input)
        #expect(rig.engine.expectedChord?.root == roots[2], "bar 6 opens with F before the player strikes it")
        rig.run(until: Self.start + UInt64(9 * 16) * Self.fps, input: input)
        rig.finish()
        #expect(rig.tracker.isSilent)
    }

    /// The loop on every beat for two rounds, then on the downbeat of A minor only C and E (an oom-pah's
    /// upper notes, a strum short of its root): they belong to the A minor expected, which stays. C E G
    /// there is the player's own C, which overrules it.
    @Test(arguments: [([60, 64], 9), ([60, 64, 67], nil)] as [([UInt8], Int?)])
    func keysOnTheDownbeatThatBelongToTheExpectedChordConfirmIt(downbeat: [UInt8], expectedRoot: Int?) throws {
        var rig = try rig()
        var input: [TimedMIDIMessage] = []
        for bar in 0..<9 {
            for beat in 0..<4 { strike(progression[bar % 4], step: bar * 16 + beat * 4, until: bar * 16 + beat * 4 + 4, into: &input) }
        }
        strike(downbeat, step: 9 * 16, until: 9 * 16 + 4, into: &input)
        rig.run(until: Self.start + UInt64(9 * 16 + 2) * Self.fps, input: input)
        #expect(rig.engine.expectedChord?.root == expectedRoot)
        #expect(rig.engine.expectedChord.map { $0.quality == .minor } ?? true)
        rig.run(until: Self.start + UInt64(10 * 16) * Self.fps, input: input)
        rig.finish()
        #expect(rig.tracker.isSilent)
    }
}
