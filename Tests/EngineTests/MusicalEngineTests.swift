import MIDI
import Neural
import Service
import Testing

@testable import Engine

@Suite struct MusicalEngineTests {
    static let fps: UInt64 = 6000  // a 16th at 120 bpm, 48 kHz
    static let start: UInt64 = 4800

    func engine(
        yaml: String = TinyModels.bandYAML, seed: UInt64? = nil, modelStepTimer: (any ModelStepTimer)? = nil,
        edit: (inout Preset) -> Void = { _ in }
    ) throws -> MusicalEngine {
        var preset = try PresetReader.read(yaml: yaml, defaultName: "band")
        if let seed { preset.performance.seed = seed }
        edit(&preset)
        let parts = try preset.parts.enumerated().map { k, s in try TinyModels.part(s, seed: preset.performance.seed &+ UInt64(k)) }
        return MusicalEngine(preset: preset, parts: parts, modelStepTimer: modelStepTimer)
    }

    /// The preset's on-step window and chord spread (defaults, 30 and 25 ms), in frames.
    static let window: UInt64 = 30 * 48
    static let spread: UInt64 = 25 * 48

    /// Two bars of 8th notes from `start` (on steps 0, 2, 4, ...).
    var phrase: [TimedMIDIMessage] {
        playerNotes(start: Self.start, framesPerStep: Self.fps, steps: Array(stride(from: 0, to: 32, by: 2)),
                    pitches: [60, 62, 64, 65, 67, 69, 71, 72, 71, 69, 67, 65, 64, 62, 60, 67])
    }

    /// Every model step goes through the timer the engine was given (the daemon gives its metrics'
    /// latency histogram; here a registry of the test's own, so no other test adds to it).
    @Test func modelStepsAreRecordedInTheLatencyHistogram() throws {
        let metrics = ServiceMetrics()
        var rig = EngineRig(try engine(modelStepTimer: HistogramTimer(metrics: metrics)))
        rig.run(until: Self.start + 16 * Self.fps, input: phrase)
        rig.finish()
        let recorded = metrics.modelStepLatency.snapshot()
        #expect(rig.engine.decidedSteps >= 16)
        #expect(recorded.count >= UInt64(rig.engine.decidedSteps))
        #expect(recorded.sumNanoseconds > 0)
    }

    /// Times model steps into a metrics registry's latency histogram, as the daemon's timer does.
    struct HistogramTimer: ModelStepTimer {
        let metrics: ServiceMetrics
        func time(_ step: () -> UnsafeBufferPointer<Float>) -> UnsafeBufferPointer<Float> {
            let started = ContinuousClock.now
            let logits = step()
            let elapsed = (ContinuousClock.now - started).components
            metrics.recordModelStep(nanoseconds: max(1, UInt64(elapsed.seconds) * 1_000_000_000 + UInt64(elapsed.attoseconds / 1_000_000_000)))
            return logits
        }
    }

    @Test func theBandPlaysAlongOnThePresetsChannelsOnTheGridAndEndsEveryNote() throws {
        var rig = EngineRig(try engine())
        rig.run(until: Self.start + 40 * Self.fps, input: phrase)
        rig.finish()
        for channel: MIDIChannel in [2, 3, 4, 9, 4] {  // bass, counter-melody, keys, drums (0-based)
            #expect(!rig.noteOns(channel: channel).isEmpty, "no notes on channel \(channel + 1)")
        }
        // Program changes go out once, for the parts that name one.
        #expect(rig.output.filter { if case .programChange(2, 32) = $0.message { return true } else { return false } }.count == 1)
        // Bass (no humanize): every note on the 8th grid — exactly when decided ahead, within one period
        // when it waited for a note of the player's on its step, the chord's spread more on the first (no
        // strike yet tells how many notes the player's chords have), and the on-step window late on a
        // downbeat it held back for a strike that did not come (the melody had stopped).
        let offsets = rig.noteOns(channel: 2).map { (($0 - Self.start) % (2 * Self.fps), $0 < Self.start + Self.fps) }
        for (offset, first) in offsets {
            let withThePlayer = offset <= UInt64(rig.period)
            let firstChord = first && offset <= Self.spread + UInt64(rig.period)
            // Due at the window's end, it is written in the last cycle that reaches it.
            let waitedInVain = offset + UInt64(rig.period) >= Self.window && offset <= Self.window
            #expect(withThePlayer || firstChord || waitedInVain, "a bass note \(offset) frames after its step")
        }
        #expect(offsets.contains { $0.0 == 0 }, "no bass note was decided ahead")
        #expect(offsets.filter { $0.0 <= UInt64(rig.period) }.count * 4 >= offsets.count * 3, "\(offsets)")
        #expect(rig.tracker.isSilent, "a note was left sounding")
        #expect(rig.engine.decidedSteps >= 40)
        // The models were read into cache ahead of nearly every step (not the first, decided as the band starts).
        #expect(rig.engine.warmedSteps + 2 >= rig.engine.decidedSteps && rig.engine.warmedSteps <= rig.engine.decidedSteps + 1,
                "\(rig.engine.warmedSteps) steps warmed, \(rig.engine.decidedSteps) decided")
    }

    @Test func theSameSeedPlaysTheSameNotesAndAnotherSeedOthers() throws {
        func run(_ seed: UInt64) throws -> [ScheduledMessage] {
            var rig = EngineRig(try engine(seed: seed))
            rig.run(until: Self.start + 48 * Self.fps, input: phrase)
            return rig.output
        }
        let a = try run(11), b = try run(11), c = try run(12)
        #expect(a == b)
        #expect(a != c)
    }

    /// Call and response: the answer starts once the phrase has been silent for phrase_end_beats (2 beats
    /// = 8 steps), within a step of that, and stops within one step when the player comes back.
    @Test func theContinuationAnswersAfterTheSilenceAndYieldsWhenThePlayerReturns() throws {
        var rig = EngineRig(try engine { $0.performance.mode = .callAndResponse })
        let phrase = playerNotes(start: Self.start, framesPerStep: Self.fps, steps: [0, 2, 4, 6, 8, 10, 12, 14],
                                 pitches: [60, 62, 64, 65, 67, 65, 64, 62])
        // The last note sounds on steps 14 and 15; silence from step 16; the phrase ends at step 24.
        let returnStep: UInt64 = 36
        let comeback = playerNotes(start: Self.start, framesPerStep: Self.fps, steps: [Int(returnStep)], pitches: [60], length: 4)
        rig.run(until: Self.start + 24 * Self.fps - UInt64(2 * rig.period), input: phrase + comeback)
        #expect(rig.engine.continuationLeft == 0, "the answer began before the silence was long enough")
        rig.run(until: Self.start + 25 * Self.fps + UInt64(rig.period), input: phrase + comeback)
        #expect(rig.engine.continuationLeft > 0, "the answer had not begun a step after the phrase ended")
        rig.run(until: Self.start + 48 * Self.fps, input: phrase + comeback)
        rig.finish()
        let answer = rig.noteOns(channel: 1)
        #expect(!answer.isEmpty, "the continuation never answered")
        let firstAnswer = try #require(answer.first)
        #expect(firstAnswer >= Self.start + 24 * Self.fps)
        let comebackFrame = Self.start + returnStep * Self.fps
        #expect(!answer.contains { $0 > comebackFrame + UInt64(rig.period) }, "the answer went on after the player came back")
        // Its last note ends within one step of the player's return.
        let offs = rig.output.filter { $0.message.channel == 1 && $0.message.isNoteOff }.map(\.frame)
        #expect(offs.contains { $0 >= comebackFrame && $0 <= comebackFrame + Self.fps })
        // No accompaniment in call-and-response.
        #expect(rig.noteOns(channel: 2).isEmpty && rig.noteOns(channel: 9).isEmpty)
        #expect(rig.tracker.isSilent)
    }

    /// A player's note exactly on a step boundary: the parts' notes for that step sound within one period.
    @Test func partsDecidingAheadAnswerAnOnStepNoteWithinOnePeriod() throws {
        var rig = EngineRig(try engine {
            $0.performance.mode = .accompaniment
            $0.performance.harmonyCommit = .ahead
        })
        rig.run(until: Self.start + 40 * Self.fps, input: phrase)
        #expect(rig.engine.reactions > 0)
        for step in stride(from: UInt64(2), to: 32, by: 2) {
            let f = Self.start + step * Self.fps
            // The bass and the counter-melody play on step `step`: their first note-on at or after the
            // boundary is no later than one period after the player's note.
            for channel: MIDIChannel in [2, 4] {
                guard let next = rig.noteOns(channel: channel).first(where: { $0 >= f }), next < f + Self.fps else { continue }
                #expect(next - f <= UInt64(rig.period), "channel \(channel + 1) answered step \(step) after \(next - f) frames")
            }
        }
    }

    /// A chord played on the beat, its notes a period apart as a hand plays them, reaches parts whose step
    /// was decided before the beat. The step is drawn again once at most, and a part never strikes one pitch
    /// twice within the chord's spread (heard as a flam). Before this rule every note of a chord redrew the
    /// step (96 redraws for 32 chords), and the keys struck 91 notes twice within the spread.
    @Test func aChordHeardLateRedrawsAStepOnceAtMost() throws {
        var rig = EngineRig(try engine {
            $0.performance.mode = .accompaniment
            $0.performance.harmonyCommit = .ahead
        })
        let progression: [[UInt8]] = [[60, 64, 67], [57, 60, 64], [53, 57, 60], [55, 59, 62]]
        var chords: [TimedMIDIMessage] = []
        var onsets = 0
        for bar in 0..<8 {
            for beat in 0..<4 {
                let on = Self.start + UInt64(bar * 16 + beat * 4) * Self.fps
                onsets += 1
                for (k, pitch) in progression[bar % 4].enumerated() {
                    let t = on + UInt64(k * rig.period) + 17  // spread over three periods
                    chords.append(TimedMIDIMessage(time: t, message: .noteOn(channel: 0, note: pitch, velocity: 90)))
                    chords.append(TimedMIDIMessage(time: on + 4 * Self.fps - 200, message: .noteOff(channel: 0, note: pitch, velocity: 0)))
                }
            }
        }
        rig.run(until: Self.start + 8 * 16 * Self.fps, input: chords)
        rig.finish()
        #expect(rig.engine.reactions > 0, "the chords never came after a decided step")
        #expect(rig.engine.reactions <= onsets, "\(rig.engine.reactions) redraws for \(onsets) chords")
        #expect(rig.tracker.isSilent)
        let spread = 4 * UInt64(rig.period)
        for channel: MIDIChannel in [2, 3] {  // bass and keys follow the player
            var lastOn: [UInt8: UInt64] = [:]
            var doubled = 0, notes = 0
            for m in rig.output.sorted(by: { $0.frame < $1.frame }) {
                guard case .noteOn(let c, let p, let v) = m.message, c == channel, v > 0 else { continue }
                if let previous = lastOn[p], m.frame - previous < spread { doubled += 1 }
                lastOn[p] = m.frame
                notes += 1
            }
            #expect(notes > 8, "channel \(channel + 1) played \(notes) notes")
            #expect(doubled == 0, "channel \(channel + 1): \(doubled) of \(notes) notes struck twice within the chord's spread")
        }
    }

    /// Committing late (the default): chords struck on every beat, their notes a period apart, reach a bass
    /// and keys that hold back the steps the player strikes on. Every harmony note on a beat comes after
    /// the chord's third note (the decision heard the whole chord) and within the period after it;
    /// nothing is drawn again, and no note is under 30 ms. Deciding ahead, the same parts strike those
    /// beats before the chord is heard. (The shipped band preset's bass playing the new root on the
    /// downbeat is checked with its trained models, in ShippedPresetTests.)
    @Test func committingLateTheHarmonyHearsTheChordStruckOnTheBeat() throws {
        let progression: [[UInt8]] = [[48, 64, 67], [45, 60, 64], [41, 57, 60], [43, 59, 62]]
        func play(_ commit: HarmonyCommitMode) throws -> (rig: EngineRig, chords: [UInt64]) {
            var rig = EngineRig(try engine {
                $0.performance.mode = .accompaniment
                $0.performance.harmonyCommit = commit
                $0.parts.removeAll { $0.role == .counterMelody || $0.role == .continuation }
            })
            var input: [TimedMIDIMessage] = []
            var chords: [UInt64] = []
            for bar in 0..<8 {
                for beat in 0..<4 {
                    let on = Self.start + UInt64(bar * 16 + beat * 4) * Self.fps
                    chords.append(on)
                    for (k, pitch) in progression[bar % 4].enumerated() {
                        input.append(TimedMIDIMessage(time: on + UInt64(k * rig.period) + 17, message: .noteOn(channel: 0, note: pitch, velocity: 90)))
                        input.append(TimedMIDIMessage(time: on + 4 * Self.fps - 200, message: .noteOff(channel: 0, note: pitch, velocity: 0)))
                    }
                }
            }
            rig.run(until: Self.start + 8 * 16 * Self.fps, input: input)
            rig.finish()
            return (rig, chords)
        }
        /// Each bass note-on near a beat, as frames after that beat's chord began, from the third bar (the
        /// first two teach the schedule that the player strikes every beat; a downbeat waits from the start).
        func afterChord(_ rig: EngineRig, _ chords: [UInt64]) -> [Int64] {
            var offsets: [Int64] = []
            for channel: MIDIChannel in [2] {  // the bass: no humanize
                for on in rig.noteOns(channel: channel) where on >= Self.start + 32 * Self.fps {
                    guard let chord = chords.min(by: { abs(on.frames(since: $0)) < abs(on.frames(since: $1)) }),
                        abs(on.frames(since: chord)) < Int64(Self.fps) / 2
                    else { continue }
                    offsets.append(on.frames(since: chord))
                }
            }
            return offsets
        }
        let (late, chords) = try play(.late)
        #expect(late.engine.reactions == 0)
        #expect(late.tracker.isSilent)
        let third = Int64(2 * late.period + 17)
        let offsets = afterChord(late, chords)
        #expect(offsets.count >= 4, "\(offsets.count) bass notes on the beats")
        #expect(offsets.allSatisfy { $0 >= third && $0 <= third + Int64(late.period) }, "after the chord's first note: \(offsets.sorted())")
        for channel: MIDIChannel in [2, 3] {
            let notes = late.notes(channel: channel)
            #expect(notes.count > 8)
            #expect(!notes.contains { $0.off - $0.on < 30 * 48 }, "channel \(channel + 1): a note under 30 ms")
        }
        let (ahead, _) = try play(.ahead)
        #expect(afterChord(ahead, chords).contains { $0 < third }, "deciding ahead, every note still waited for the chord")
    }

    /// The fill control (CC 26) early in bar 2: the drums play toms and snare to the end of that bar where
    /// the same seed without the control keeps time on the hi-hat, and land on bar 3's downbeat with a crash.
    @Test func aFillIsHeardAndLandsWithACrash() throws {
        let pressed = TimedMIDIMessage(time: Self.start + 17 * Self.fps + 7, message: .controlChange(channel: 0, controller: 26, value: 127))
        func drums(fill: Bool) throws -> [(frame: UInt64, note: UInt8)] {
            var rig = EngineRig(try engine { $0.performance.mode = .accompaniment })
            rig.run(until: Self.start + 40 * Self.fps, input: phrase + (fill ? [pressed] : []))
            rig.finish()
            return rig.drumHits
        }

        let plain = try drums(fill: false), filled = try drums(fill: true)
        let tomsAndSnare: Set<UInt8> = [38, 40, 41, 43, 45, 47, 48, 50], hats: Set<UInt8> = [42, 44, 46, 51]
        let fillBar: Range<UInt64> = 19..<32
        print("fill bar: toms and snare \(Self.count(plain, tomsAndSnare, steps: fillBar)) -> \(Self.count(filled, tomsAndSnare, steps: fillBar)), hats \(Self.count(plain, hats, steps: fillBar)) -> \(Self.count(filled, hats, steps: fillBar))")
        #expect(Self.count(filled, tomsAndSnare, steps: fillBar) > Self.count(plain, tomsAndSnare, steps: fillBar) + 2)
        #expect(Self.count(filled, hats, steps: fillBar) < Self.count(plain, hats, steps: fillBar))
        #expect(Self.count(filled, [49, 57], steps: 32..<33) >= 1, "no crash on the landing")
        // Before the control, the same groove.
        #expect(plain.filter { $0.frame < pressed.time }.map(\.note) == filled.filter { $0.frame < pressed.time }.map(\.note))
    }

    /// Hits of the kit pieces `notes` in the grid steps `steps`.
    static func count(_ hits: [(frame: UInt64, note: UInt8)], _ notes: Set<UInt8>, steps: Range<UInt64>) -> Int {
        hits.filter { notes.contains($0.note) && $0.frame >= start + steps.lowerBound * fps && $0.frame < start + steps.upperBound * fps }.count
    }

    /// performance.intro_bars 2: the band opens with two bars where the drums mark time lightly (fewer
    /// snares than the same seed without an intro), a fill in the intro's last half bar, and a crash on the
    /// downbeat where the groove begins. The intro control turns it off for the next start.
    @Test func anIntroOpensTheBandAndLandsOnTheGroove() throws {
        func drums(introBars: Int, pressIntro: Bool = false) throws -> [(frame: UInt64, note: UInt8)] {
            var rig = EngineRig(try engine {
                $0.performance.mode = .accompaniment
                $0.performance.introBars = introBars
                $0.controls.intro = 28
            })
            let press = TimedMIDIMessage(time: Self.start - 100, message: .controlChange(channel: 0, controller: 28, value: 127))
            rig.run(until: Self.start + 40 * Self.fps, input: phrase + (pressIntro ? [press] : []))
            rig.finish()
            #expect(rig.tracker.isSilent)
            return rig.drumHits
        }

        let plain = try drums(introBars: 0), intro = try drums(introBars: 2), off = try drums(introBars: 2, pressIntro: true)
        let snares: Set<UInt8> = [38, 40], tomsAndSnare: Set<UInt8> = [38, 40, 41, 43, 45, 47, 48, 50]
        #expect(Self.count(intro, snares, steps: 0..<24) < Self.count(plain, snares, steps: 0..<24), "the intro's first bar and a half")
        #expect(Self.count(intro, tomsAndSnare, steps: 24..<32) > Self.count(plain, tomsAndSnare, steps: 24..<32), "the intro's fill")
        #expect(Self.count(intro, [49, 57], steps: 32..<33) >= 1, "no crash where the groove begins")
        #expect(off.map(\.note) == plain.map(\.note), "the intro control did not turn the intro off")
    }

    /// idle_bars counts from the player's last note, not from the end of their phrase (phrase_end_beats
    /// later): with idle_bars 2 the band stops two bars after the player stopped, where it used to play a
    /// third.
    @Test func theBandStopsIdleBarsAfterThePlayersLastNote() throws {
        var rig = EngineRig(try engine {
            $0.performance.mode = .accompaniment
            $0.performance.idleBars = 2
            $0.listener.phraseEndBeats = 4
        })
        // One bar of quarter notes, each held a quarter: the player's last note ends at step 16.
        let bar = playerNotes(start: Self.start, framesPerStep: Self.fps, steps: [0, 4, 8, 12], pitches: [60, 64, 67, 72], length: 4)
        rig.run(until: Self.start + (16 + 32 - 2) * Self.fps, input: bar)
        let runningBefore = rig.engine.isRunning
        #expect(runningBefore, "the band stopped before two idle bars had passed")
        rig.run(until: Self.start + (16 + 32 + 2) * Self.fps, input: bar)
        let runningAfter = rig.engine.isRunning
        #expect(!runningAfter, "the band played on past two idle bars")
        rig.finish()
        #expect(rig.tracker.isSilent)
    }

    /// A part's accents (velocity offsets per 16th of the bar) are played on their steps: the bass, with no
    /// velocity jitter, strikes its downbeats 30 harder than its other notes.
    @Test func accentsArePlayedOnTheirStepsOfTheBar() throws {
        var rig = EngineRig(try engine {
            $0.performance.mode = .accompaniment
            $0.parts[1].velocityAccents = [30] + [Int](repeating: 0, count: 15)
            $0.parts[1].velocityFollow = 0
        })
        rig.run(until: Self.start + 64 * Self.fps, input: phrase)
        rig.finish()
        var downbeats: Set<UInt8> = [], others: Set<UInt8> = []
        for m in rig.output {
            guard case .noteOn(2, _, let v) = m.message, v > 0 else { continue }
            let step = Int((Double(m.frame) - Double(Self.start)) / Double(Self.fps) + 0.5)
            if step % 16 == 0 { downbeats.insert(v) } else { others.insert(v) }
        }
        #expect(!downbeats.isEmpty && !others.isEmpty)
        #expect(downbeats.allSatisfy { v in others.allSatisfy { Int(v) - Int($0) == 30 } }, "downbeats \(downbeats), others \(others)")
    }

    /// Next section (CC 25) early in bar 2: a fill, a crash on bar 3's downbeat, and from there main B, where
    /// the drums ride instead of keeping time on the closed hi-hat; pressed again, main A comes back.
    @Test func nextSectionSwitchesBetweenMainAAndB() throws {
        func press(_ step: UInt64) -> TimedMIDIMessage {
            TimedMIDIMessage(time: Self.start + step * Self.fps + 7, message: .controlChange(channel: 0, controller: 25, value: 127))
        }
        let long = playerNotes(start: Self.start, framesPerStep: Self.fps, steps: Array(stride(from: 0, to: 96, by: 2)), pitches: Array(repeating: 60, count: 48))
        func drums(_ presses: [TimedMIDIMessage]) throws -> [(frame: UInt64, note: UInt8)] {
            var rig = EngineRig(try engine { $0.performance.mode = .accompaniment })
            rig.run(until: Self.start + 96 * Self.fps, input: long + presses)
            rig.finish()
            #expect(rig.tracker.isSilent)
            return rig.drumHits
        }

        let plain = try drums([]), sections = try drums([press(17), press(65)])
        let ride: Set<UInt8> = [51, 53], closedHat: Set<UInt8> = [42, 44]
        let mainB: Range<UInt64> = 33..<64
        print("main B: ride \(Self.count(plain, ride, steps: mainB)) -> \(Self.count(sections, ride, steps: mainB)), closed hat \(Self.count(plain, closedHat, steps: mainB)) -> \(Self.count(sections, closedHat, steps: mainB))")
        #expect(Self.count(sections, [49, 57], steps: 32..<33) >= 1, "no crash into main B")
        #expect(Self.count(sections, ride, steps: mainB) > Self.count(plain, ride, steps: mainB) + 2)
        #expect(Self.count(sections, closedHat, steps: mainB) < Self.count(plain, closedHat, steps: mainB))
        // Pressed again at step 65: a fill to bar 5's end, then main A: the ride no more than main A's own.
        let backToA: Range<UInt64> = 81..<96
        #expect(Self.count(sections, ride, steps: backToA) <= Self.count(plain, ride, steps: backToA) + 2)
    }

    /// The ending control (a preset's `controls.ending`) early in bar 2: a fill to the end of that bar, a
    /// crash on bar 3's downbeat, nothing new after it, every note ended and the band stopped half a bar
    /// later, though the player played on into it; their next note after that starts the band again.
    @Test func anEndingLandsAndStopsTheBand() throws {
        var rig = EngineRig(try engine {
            $0.performance.mode = .accompaniment
            $0.controls.ending = 29
        })
        let pressed = TimedMIDIMessage(time: Self.start + 17 * Self.fps + 7, message: .controlChange(channel: 0, controller: 29, value: 127))
        // The player plays on past the landing (to step 35), and comes back at step 50.
        let held = playerNotes(start: Self.start, framesPerStep: Self.fps, steps: Array(stride(from: 0, to: 36, by: 2)) + [50], pitches: Array(repeating: 60, count: 19))
        rig.run(until: Self.start + 41 * Self.fps, input: held + [pressed])
        let landing = Self.start + 32 * Self.fps
        let drums = rig.output.compactMap { m -> (UInt64, UInt8)? in
            if case .noteOn(9, let p, let v) = m.message, v > 0 { return (m.frame, p) }
            return nil
        }
        #expect(drums.contains { [49, 57].contains($0.1) && $0.0 >= landing && $0.0 < landing + Self.fps }, "no crash on the landing")
        for channel: MIDIChannel in [2, 3, 9] {
            #expect(!rig.noteOns(channel: channel).contains { $0 >= landing + Self.fps }, "channel \(channel + 1) played after the landing")
        }
        let stopped = !rig.engine.isRunning
        #expect(stopped, "the band did not stop after its ending")
        for part in rig.engine.parts { #expect(part.sounding.isEmpty) }
        // The player plays on: their next note starts the band again.
        rig.run(until: Self.start + 64 * Self.fps, input: held + [pressed])
        #expect(rig.engine.isRunning)
        #expect(rig.noteOns(channel: 9).contains { $0 >= Self.start + 50 * Self.fps })
        rig.finish()
        #expect(rig.tracker.isSilent)
    }

    @Test func muteDensityAndModeControlsChangeWhatPlays() throws {
        func cc(_ controller: UInt8, _ value: UInt8, step: UInt64) -> TimedMIDIMessage {
            TimedMIDIMessage(time: Self.start + step * Self.fps + 7, message: .controlChange(channel: 0, controller: controller, value: value))
        }
        var rig = EngineRig(try engine { $0.performance.mode = .accompaniment })
        // Counter-melody muted at step 8 (mute_cc 30); density 0 from step 16; mode call-and-response at 24.
        rig.run(until: Self.start + 36 * Self.fps, input: phrase + [cc(30, 127, step: 8), cc(22, 0, step: 16), cc(23, 0, step: 24)])
        rig.finish()
        let muteFrame = Self.start + 8 * Self.fps
        #expect(!rig.noteOns(channel: 4).contains { $0 > muteFrame + UInt64(rig.period) })
        #expect(rig.noteOns(channel: 4).contains { $0 < muteFrame })
        // With density 0 no new notes start (chords and drums included).
        let thin = Self.start + 17 * Self.fps
        for channel: MIDIChannel in [2, 3, 9] { #expect(!rig.noteOns(channel: channel).contains { $0 > thin }) }
        #expect(rig.engine.mode == .callAndResponse)
        #expect(rig.tracker.isSilent)
    }

    @Test func midiLearnAssignsTheNextControlsToTheFunctionsInOrder() {
        var map = ControlMap()
        map.learn = 90
        var controls = PerformanceControls(map: map, muteControllers: [nil, 31])
        #expect(controls.handle(controller: 90, value: 127) == .learning(true))
        #expect(controls.handle(controller: 90, value: 0) == .none)
        #expect(controls.handle(controller: 74, value: 10) == .learned(.temperature, controller: 74))
        #expect(controls.handle(controller: 71, value: 10) == .learned(.density, controller: 71))
        #expect(controls.handle(controller: 90, value: 127) == .learning(false))
        #expect(controls.map.temperature == 74 && controls.map.density == 71)
        #expect(controls.handle(controller: 74, value: 64) == .temperature(1))
        #expect(controls.handle(controller: 21, value: 64) == .none)  // the old temperature knob is free now
        #expect(controls.handle(controller: 31, value: 100) == .mute(part: 1, muted: true))
        #expect(controls.handle(controller: 23, value: 100) == .mode(.both))
        #expect(controls.handle(controller: 123, value: 0) == .panic)
    }

    @Test func learnedAssignmentsTakeTheirControllersFromOtherFunctions() {
        var controls = PerformanceControls(map: ControlMap(), muteControllers: [nil, 31])
        // Saved earlier: temperature on 74, the second part's mute on 22 (the density knob until now).
        controls.assign(learned: [(.temperature, 74), (.mute(part: 1), 22), (.mute(part: 5), 40)])
        #expect(controls.map.temperature == 74 && controls.map.density == nil)
        #expect(controls.handle(controller: 22, value: 100) == .mute(part: 1, muted: true))
        #expect(controls.handle(controller: 31, value: 100) == .none)
        #expect(controls.handle(controller: 40, value: 100) == .none)  // no sixth part: ignored
    }

    final class LearnLog: LearnObserver, @unchecked Sendable {
        var events: [String] = []
        func learning(_ on: Bool) { events.append("learning \(on)") }
        func learned(_ function: PerformanceControls.Function, controller: UInt8) { events.append("\(function) \(controller)") }
    }

    @Test func theEngineTellsItsLearnObserver() throws {
        var engine = try engine {
            $0.performance.mode = .accompaniment
            $0.controls.learn = 90
        }
        let log = LearnLog()
        engine.learnObserver = log
        var rig = EngineRig(engine)
        let at = Self.start + 2 * Self.fps
        rig.run(until: Self.start + 4 * Self.fps, input: [90, 74, 71].map {
            TimedMIDIMessage(time: at, message: .controlChange(channel: 0, controller: UInt8($0), value: 127))
        })
        #expect(log.events == ["learning true", "temperature 74", "density 71"])
    }

    @Test func nextSectionAndFillAreAcceptedAndPanicEndsEverything() throws {
        var rig = EngineRig(try engine { $0.performance.mode = .accompaniment })
        let presses = [25, 26].map { TimedMIDIMessage(time: Self.start + 9 * Self.fps, message: .controlChange(channel: 0, controller: UInt8($0), value: 127)) }
        rig.run(until: Self.start + 20 * Self.fps, input: phrase + presses)
        var produced: [ScheduledMessage] = []
        rig.engine.process(
            [TimedMIDIMessage(time: rig.now, message: .controlChange(channel: 0, controller: 24, value: 127))],
            clock: EngineClock(cycleStart: rig.now, cycleLength: rig.period, sampleRate: 48000), output: &produced)
        for part in rig.engine.parts { #expect(part.sounding.isEmpty) }
    }

    /// A reload keeps the parts whose settings did not change (same objects, notes sounding on) and ends
    /// the notes of the ones that changed.
    @Test func takingOverKeepsUnchangedPartsAndSilencesChangedOnes() throws {
        var rig = EngineRig(try engine { $0.performance.mode = .accompaniment })
        rig.run(until: Self.start + 9 * Self.fps, input: phrase)
        var changed = try engine {
            $0.performance.mode = .accompaniment
            $0.parts[1].velocity = 50
        }
        let old = rig.engine
        let ending = changed.takeOver(from: old, at: rig.now + 128)
        #expect(changed.parts[3] === old.parts[3])
        #expect(changed.parts[1] !== old.parts[1])
        #expect(ending.allSatisfy { $0.message.isNoteOff && $0.message.channel == 2 })
    }

    /// Four silent bars after the answer: the band stops (every note ends); the player's next note starts it.
    @Test func theBandStopsAfterIdleBarsAndComesBackWithThePlayer() throws {
        var rig = EngineRig(try engine())
        let again = Self.start + 200 * Self.fps + 777
        let comeback = playerNotes(start: again, framesPerStep: Self.fps, steps: [0, 2, 4, 6], pitches: [60, 64, 67, 72])
        // Phrase steps 0-31; the answer runs from the phrase end (step 40) for 2 bars; 4 idle bars follow.
        rig.run(until: Self.start + 190 * Self.fps, input: phrase + comeback)
        #expect(!rig.engine.isRunning)
        for part in rig.engine.parts { #expect(part.sounding.isEmpty) }
        let stoppedBy = Self.start + (72 + 64 + 2) * Self.fps
        for channel: MIDIChannel in [2, 3, 9] {
            #expect(!rig.noteOns(channel: channel).contains { $0 > stoppedBy }, "channel \(channel + 1) played on")
        }
        rig.run(until: again + 16 * Self.fps, input: phrase + comeback)
        #expect(rig.engine.isRunning)
        #expect(rig.noteOns(channel: 9).contains { $0 >= again })
        // The grid restarted at the player's note: the bass is on its 8th grid from there (the first note
        // a chord's spread late: no strike since the restart tells how many notes the player's chords have).
        for frame in rig.noteOns(channel: 2) where frame >= again {
            let offset = (frame - again) % (2 * Self.fps)
            #expect(offset <= UInt64(rig.period) || (frame < again + Self.fps && offset <= Self.spread + UInt64(rig.period)), "\(offset)")
        }
        rig.finish()
        #expect(rig.tracker.isSilent)
    }

    /// A count-in starts the grid at once with clicks on its beats; clock out sends 24 ticks a quarter
    /// and start at position 0; the band comes in on the downbeat after the count-in.
    @Test func countInClicksAndClockOutFollowTheGrid() throws {
        var rig = EngineRig(try engine {
            $0.transport.countInBars = 1
            $0.transport.clockOut = true
            $0.performance.mode = .accompaniment
        })
        rig.run(until: 40 * Self.fps)
        let clicks = rig.output.filter { if case .noteOn(9, let n, _) = $0.message { return n == 76 || n == 77 } else { return false } }
        let downbeat = try #require(clicks.first).frame + 16 * Self.fps
        // Four clicks before the downbeat (the drum part may strike those notes itself afterwards).
        #expect(clicks.filter { $0.frame < downbeat }.count == 4)
        let ticks = rig.output.filter { $0.message == .clock }.map(\.frame)
        #expect(ticks.count >= 24 * 8)
        #expect(zip(ticks, ticks.dropFirst()).allSatisfy { $1 - $0 >= 999 && $1 - $0 <= 1001 })
        let start = try #require(rig.output.first { $0.message == .start })
        #expect(start.frame == downbeat)
        #expect(rig.noteOns(channel: 2).allSatisfy { $0 >= downbeat })
        #expect(!rig.noteOns(channel: 2).isEmpty)
    }
}
