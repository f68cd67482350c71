import MIDI
import PropertyBased
import Testing

/// The tracker's rules written the plain way, with dictionaries and sets, to check the bitsets against.
struct ReferenceTracker {
    var strikes: [SoundingNote: Int] = [:]
    var sustained: Set<SoundingNote> = []
    var pedalDown: Set<MIDIChannel> = []

    var sounding: Set<SoundingNote> { Set(strikes.keys).union(sustained) }

    mutating func observe(_ message: MIDIMessage) {
        switch message {
        case .noteOn(let c, let n, let v) where v > 0:
            strikes[SoundingNote(channel: c, note: n), default: 0] = min(255, strikes[SoundingNote(channel: c, note: n), default: 0] + 1)
        case .noteOn(let c, let n, _), .noteOff(let c, let n, _):
            let key = SoundingNote(channel: c, note: n)
            guard let count = strikes[key] else { return }
            if count > 1 {
                strikes[key] = count - 1
            } else {
                strikes[key] = nil
                if pedalDown.contains(c) { sustained.insert(key) }
            }
        case .controlChange(let c, 64, let v) where v >= 64:
            pedalDown.insert(c)
        case .controlChange(let c, 64, _), .controlChange(let c, 121, _):
            pedalDown.remove(c)
            sustained = sustained.filter { $0.channel != c }
        case .controlChange(let c, 120, _):
            strikes = strikes.filter { $0.key.channel != c }
            sustained = sustained.filter { $0.channel != c }
        case .controlChange(let c, let cc, _) where cc >= 123:
            for key in strikes.keys where key.channel == c {
                strikes[key] = nil
                if pedalDown.contains(c) { sustained.insert(key) }
            }
        case .reset:
            self = ReferenceTracker()
        default:
            break
        }
    }
}

@Suite struct NoteTrackerTests {
    @Test func noteOnThenOff() {
        var tracker = NoteTracker()
        #expect(tracker.isSilent)
        tracker.observe(.noteOn(channel: 3, note: 60, velocity: 90))
        #expect(tracker.isSounding(channel: 3, note: 60))
        #expect(!tracker.isSounding(channel: 2, note: 60))
        #expect(!tracker.isSilent)
        #expect(tracker.soundingNotes == [SoundingNote(channel: 3, note: 60)])
        tracker.observe(.noteOff(channel: 3, note: 60, velocity: 0))
        #expect(tracker.isSilent)
    }

    @Test func velocityZeroNoteOnReleases() {
        var tracker = NoteTracker()
        tracker.observe(.noteOn(channel: 0, note: 127, velocity: 1))
        tracker.observe(.noteOn(channel: 0, note: 127, velocity: 0))
        #expect(tracker.isSilent)
    }

    @Test func doubleStrikeNeedsTwoReleases() {
        var tracker = NoteTracker()
        tracker.observe(.noteOn(channel: 0, note: 60, velocity: 90))
        tracker.observe(.noteOn(channel: 0, note: 60, velocity: 80))
        #expect(tracker.strikeCount(channel: 0, note: 60) == 2)
        tracker.observe(.noteOff(channel: 0, note: 60, velocity: 0))
        #expect(tracker.isSounding(channel: 0, note: 60))
        tracker.observe(.noteOff(channel: 0, note: 60, velocity: 0))
        #expect(tracker.isSilent)
        tracker.observe(.noteOff(channel: 0, note: 60, velocity: 0))
        #expect(tracker.strikeCount(channel: 0, note: 60) == 0)
    }

    @Test func pedalHoldsReleasedNotesUntilLifted() {
        var tracker = NoteTracker()
        tracker.observe(.controlChange(channel: 1, controller: 64, value: 127))
        tracker.observe(.noteOn(channel: 1, note: 40, velocity: 90))
        tracker.observe(.noteOff(channel: 1, note: 40, velocity: 0))
        #expect(tracker.isSounding(channel: 1, note: 40))
        #expect(tracker.isPedalDown(channel: 1))
        tracker.observe(.controlChange(channel: 1, controller: 64, value: 63))
        #expect(tracker.isSilent)
    }

    @Test func aChannelSoundsWhileAKeyOrItsPedalIsDown() {
        var tracker = NoteTracker()
        tracker.observe(.noteOn(channel: 5, note: 100, velocity: 90))  // a key in the upper half of the channel's bits
        #expect(tracker.isSounding(channel: 5))
        #expect(!tracker.isSounding(channel: 4) && !tracker.isSounding(channel: 6))
        tracker.observe(.noteOff(channel: 5, note: 100, velocity: 0))
        #expect(!tracker.isSounding(channel: 5))
        tracker.observe(.controlChange(channel: 7, controller: 64, value: 127))
        #expect(tracker.isSounding(channel: 7), "a pedal down is a channel sounding: sustain off would change it")
        tracker.observe(.controlChange(channel: 7, controller: 64, value: 0))
        #expect(!tracker.isSounding(channel: 7))
    }

    @Test func pedalOnAnotherChannelHoldsNothing() {
        var tracker = NoteTracker()
        tracker.observe(.controlChange(channel: 2, controller: 64, value: 127))
        tracker.observe(.noteOn(channel: 1, note: 40, velocity: 90))
        tracker.observe(.noteOff(channel: 1, note: 40, velocity: 0))
        #expect(tracker.isSilent)
    }

    @Test func allNotesOffReleasesButThePedalStillHolds() {
        var tracker = NoteTracker()
        tracker.observe(.noteOn(channel: 0, note: 60, velocity: 90))
        tracker.observe(.noteOn(channel: 1, note: 61, velocity: 90))
        tracker.observe(.controlChange(channel: 1, controller: 64, value: 100))
        tracker.observe(.controlChange(channel: 0, controller: 123, value: 0))
        tracker.observe(.controlChange(channel: 1, controller: 123, value: 0))
        #expect(!tracker.isSounding(channel: 0, note: 60))
        #expect(tracker.isSounding(channel: 1, note: 61))
        #expect(tracker.strikeCount(channel: 1, note: 61) == 0)
        tracker.observe(.controlChange(channel: 1, controller: 121, value: 0))
        #expect(tracker.isSilent)
    }

    @Test func allSoundOffSilencesEvenWithThePedalDown() {
        var tracker = NoteTracker()
        tracker.observe(.controlChange(channel: 5, controller: 64, value: 127))
        tracker.observe(.noteOn(channel: 5, note: 1, velocity: 9))
        tracker.observe(.noteOn(channel: 5, note: 2, velocity: 9))
        tracker.observe(.noteOff(channel: 5, note: 2, velocity: 9))
        tracker.observe(.noteOn(channel: 6, note: 3, velocity: 9))
        tracker.observe(.controlChange(channel: 5, controller: 120, value: 0))
        #expect(tracker.soundingNotes == [SoundingNote(channel: 6, note: 3)])
        tracker.observe(.reset)
        #expect(tracker.isSilent)
    }

    @Test func silenceAllSendsNoteOffsThenPedalUpAndAllNotesOffPerUsedChannel() {
        var tracker = NoteTracker()
        tracker.observe(.noteOn(channel: 9, note: 36, velocity: 100))
        tracker.observe(.noteOn(channel: 9, note: 36, velocity: 100))
        tracker.observe(.controlChange(channel: 2, controller: 64, value: 127))
        tracker.observe(.noteOn(channel: 2, note: 70, velocity: 100))
        tracker.observe(.noteOff(channel: 2, note: 70, velocity: 0))
        tracker.observe(.programChange(channel: 4, program: 1))
        let out = tracker.silenceAll()
        #expect(
            out == [
                .noteOff(channel: 2, note: 70, velocity: 64),
                .noteOff(channel: 9, note: 36, velocity: 64), .noteOff(channel: 9, note: 36, velocity: 64),
                .controlChange(channel: 2, controller: 64, value: 0), .controlChange(channel: 2, controller: 123, value: 0),
                .controlChange(channel: 9, controller: 64, value: 0), .controlChange(channel: 9, controller: 123, value: 0),
            ])
        #expect(tracker.isSilent)
        #expect(tracker.usedChannels == 0)
        #expect(!tracker.isPedalDown(channel: 2))
        #expect(tracker.silenceAll().isEmpty)
    }

    @Test func outOfRangeFieldsAreMaskedNotTrapped() {
        var tracker = NoteTracker()
        tracker.observe(.noteOn(channel: 200, note: 255, velocity: 1))
        #expect(tracker.isSounding(channel: 200 & 0x0F, note: 0x7F))
        tracker.observe(.noteOff(channel: 8, note: 127, velocity: 0))
        #expect(tracker.isSilent)
    }

    @Test func strikeCountSaturates() {
        var tracker = NoteTracker()
        for _ in 0..<300 { tracker.observe(.noteOn(channel: 0, note: 0, velocity: 1)) }
        #expect(tracker.strikeCount(channel: 0, note: 0) == 255)
        #expect(tracker.silenceAll().count == 255 + 2)
    }

    /// After `silenceAll`, a synth in the tracker's former state that hears its output sounds nothing.
    @Test func silenceAllSilencesEverythingItSaw() async {
        await propertyCheck(count: 400, input: MIDIGen.performance) { performance in
            var tracker = NoteTracker()
            var reference = ReferenceTracker()
            for message in performance {
                tracker.observe(message)
                reference.observe(message)
            }
            var synth = tracker
            let soundingBefore = Set(tracker.soundingNotes)
            let out = tracker.silenceAll()
            #expect(tracker.isSilent)
            #expect(tracker.silenceAll().isEmpty)
            for message in out {
                synth.observe(message)
                reference.observe(message)
            }
            #expect(synth.isSilent)
            #expect(reference.sounding.isEmpty)

            // The note-offs and pedal-ups alone must do it: All Notes Off is only a safety net for
            // what the tracker did not see.
            var strictSynth = NoteTracker()
            for message in performance { strictSynth.observe(message) }
            for message in out where message != .controlChange(channel: message.channel ?? 0, controller: 123, value: 0) {
                strictSynth.observe(message)
            }
            #expect(strictSynth.isSilent)
            let silenced = Set(out.compactMap { m -> SoundingNote? in
                if case .noteOff(let c, let n, _) = m { return SoundingNote(channel: c, note: n) }
                return nil
            })
            #expect(silenced == soundingBefore)
        }
    }

    /// Tracker and reference agree on every key of the channels in play, after every message.
    @Test func agreesWithTheReferenceAtEveryStep() async {
        await propertyCheck(count: 300, input: MIDIGen.performance) { performance in
            var tracker = NoteTracker()
            var reference = ReferenceTracker()
            for message in performance {
                tracker.observe(message)
                reference.observe(message)
                #expect(tracker.isSilent == reference.sounding.isEmpty)
                #expect(Set(tracker.soundingNotes) == reference.sounding)
                var pedals: [Bool] = []
                var expectedPedals: [Bool] = []
                var keys: [Int] = []
                var expectedKeys: [Int] = []
                for channel in UInt8(0)...3 {
                    pedals.append(tracker.isPedalDown(channel: channel))
                    expectedPedals.append(reference.pedalDown.contains(channel))
                    for note in UInt8(58)...67 {
                        let key = SoundingNote(channel: channel, note: note)
                        // Strike count and sounding in one number, so a mismatch shows both.
                        keys.append(tracker.strikeCount(channel: channel, note: note) * 2
                            + (tracker.isSounding(channel: channel, note: note) ? 1 : 0))
                        expectedKeys.append(reference.strikes[key, default: 0] * 2 + (reference.sounding.contains(key) ? 1 : 0))
                    }
                }
                #expect(pedals == expectedPedals)
                #expect(keys == expectedKeys)
            }
        }
    }
}
