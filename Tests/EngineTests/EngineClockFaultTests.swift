import MIDI
import Testing
import TestSupport

@testable import Engine

/// The musical engine fed a clock that misbehaves the way a live set's can: cycles that step back by up to
/// a period (an xrun burst), a clock that starts again near 0 (a restarted server), jumps of many seconds
/// ahead (a frozen server, a suspended machine), and input stamped before the cycle it arrives in. The
/// ports hide most of this behind a monotonic clock; the engine must not depend on that to stay alive.
@Suite struct EngineClockFaultTests {
    static let period = 128

    func engine(_ source: TempoSource) throws -> MusicalEngine {
        var preset = try PresetReader.read(yaml: TinyModels.bandYAML, defaultName: "band")
        preset.transport.source = source
        preset.transport.clockOut = source != .clock
        let parts = try preset.parts.enumerated().map { k, s in try TinyModels.part(s, seed: preset.performance.seed &+ UInt64(k)) }
        return MusicalEngine(preset: preset, parts: parts)
    }

    /// One run of `cycles` periods under random clock faults and random playing; returns what the engine
    /// emitted, in emission order, and how many steps it decided.
    func run(_ source: TempoSource, seed: UInt64, cycles: Int = 4000) throws -> (output: [ScheduledMessage], engine: MusicalEngine) {
        var engine = try engine(source)
        var random = SplitMix64(seed: seed)
        var now: UInt64 = 48_000 * 3600
        var output: [ScheduledMessage] = []
        var produced: [ScheduledMessage] = []
        var held: [UInt8] = []
        var tick: UInt64 = 0
        for cycle in 0..<cycles {
            switch random.next() % 64 {
            case 0: now -= min(now, random.next() % UInt64(Self.period))  // an xrun burst steps back
            case 1: now = random.next() % 4096  // a restarted server counts from about 0
            case 2: now += 48_000 * (1 + random.next() % 600)  // a stall of seconds to minutes
            default: break
            }
            var input: [TimedMIDIMessage] = []
            // Stamped anywhere from a period before this cycle (it waited) to its end.
            func stamp() -> UInt64 { now + random.next() % UInt64(2 * Self.period) - min(now, UInt64(Self.period)) }
            if source == .clock {
                if cycle == 10 { input.append(TimedMIDIMessage(time: stamp(), message: .start)) }
                tick += UInt64(Self.period)
                if tick >= 1000 {
                    tick -= 1000
                    input.append(TimedMIDIMessage(time: stamp(), message: .clock))
                }
            }
            if random.next() % 6 == 0 {
                if held.count < 4, random.next() % 2 == 0 {
                    let note = UInt8(48 + random.next() % 36)
                    held.append(note)
                    input.append(TimedMIDIMessage(time: stamp(), message: .noteOn(channel: 0, note: note, velocity: 90)))
                } else if let note = held.popLast() {
                    input.append(TimedMIDIMessage(time: stamp(), message: .noteOff(channel: 0, note: note, velocity: 0)))
                }
            }
            produced.removeAll(keepingCapacity: true)
            engine.process(input, clock: EngineClock(cycleStart: now, cycleLength: Self.period, sampleRate: 48000), output: &produced)
            output.append(contentsOf: produced)
            now += UInt64(Self.period)
        }
        for note in held { output.append(ScheduledMessage(frame: now, port: 0, message: .noteOff(channel: 0, note: note, velocity: 0))) }
        produced.removeAll()
        engine.silence(at: now + UInt64(Self.period), output: &produced)
        output.append(contentsOf: produced)
        return (output, engine)
    }

    @Test(arguments: [TempoSource.follow, .fixed, .clock])
    func framesInAnyOrderNeverTrapTheEngineAndEveryNoteEnds(source: TempoSource) throws {
        for seed: UInt64 in [1, 2, 3] {
            let (output, engine) = try run(source, seed: seed)
            // Every note the parts and the thru started was ended, in the order the engine emitted them.
            var tracker = NoteTracker()
            for m in output { tracker.observe(m.message) }
            #expect(tracker.isSilent, "\(source), seed \(seed): notes left sounding: \(tracker.soundingNotes)")
            let notes = output.filter { if case .noteOn(let c, _, let v) = $0.message { c != 0 && v > 0 } else { false } }
            #expect(!notes.isEmpty, "\(source), seed \(seed): the band played")
            // Stalls of up to ten minutes were skipped, not replayed step by step: 4000 periods of 128 frames
            // are under 1,000 steps at 120 bpm, plus at most a few bars for each of the ~60 faults.
            #expect(engine.decidedSteps < 6000, "\(source), seed \(seed): \(engine.decidedSteps) steps decided")
        }
    }

    /// A restarted server seen raw (the clock back near 0 after an hour): the band plays again on the new
    /// clock instead of waiting an hour for its next boundary.
    @Test func afterTheClockStartsAgainTheBandPlaysOnTheNewClock() throws {
        var rig = EngineRig(try engine(.fixed))
        let fps: UInt64 = 6000
        rig.now = 48_000 * 3600
        let before = playerNotes(start: rig.now + 4800, framesPerStep: fps, steps: [0, 4, 8, 12], pitches: [60, 64, 67, 72])
        rig.run(until: rig.now + 24 * fps, input: before)
        let heardBefore = rig.output.count
        rig.now = 1024
        var fromRestart: [ScheduledMessage] = []
        var produced: [ScheduledMessage] = []
        let after = playerNotes(start: 4800, framesPerStep: fps, steps: [0, 4, 8, 12], pitches: [60, 64, 67, 72])
        var next = 0
        while rig.now < 24 * fps {
            let end = rig.now + UInt64(rig.period)
            var cycle: [TimedMIDIMessage] = []
            while next < after.count, after[next].time < end {
                cycle.append(after[next])
                next += 1
            }
            produced.removeAll()
            rig.engine.process(cycle, clock: EngineClock(cycleStart: rig.now, cycleLength: rig.period, sampleRate: 48000), output: &produced)
            fromRestart.append(contentsOf: produced)
            rig.now = end
        }
        #expect(heardBefore > 0)
        let bandNotes = fromRestart.filter { if case .noteOn(let c, _, let v) = $0.message { c != 0 && v > 0 } else { false } }
        #expect(!bandNotes.isEmpty, "the band plays on the new clock")
        #expect(bandNotes.allSatisfy { $0.frame < 48_000 * 60 }, "on the new clock, not the old one")
        // What sounded before the restart ended at once, not at a frame of the old clock.
        let offs = fromRestart.prefix { if case .noteOff = $0.message { true } else { false } }
        #expect(offs.allSatisfy { $0.frame <= 1024 + 2 * UInt64(rig.period) })
    }
}
