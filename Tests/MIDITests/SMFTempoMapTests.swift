import PropertyBased
import Testing

@testable import MIDI

@Suite("SMF tempo map")
struct SMFTempoMapTests {
    func track(_ events: [SMFEvent]) -> MIDITrack { MIDITrack(events: events) }

    @Test("ticks to seconds over tempo changes, honouring tempo in any track of a format 1 file")
    func piecewise() {
        // 480 ticks per quarter: 960 ticks at the default 120 BPM, then 60 BPM from tick 960.
        let conductor = track([SMFEvent(tick: 960, .meta(.tempo(microsecondsPerQuarter: 1_000_000))), SMFEvent(tick: 1920, .meta(.endOfTrack))])
        let notes = track([SMFEvent(tick: 0, .noteOn(channel: 0, note: 60, velocity: 1)), SMFEvent(tick: 2400, .meta(.endOfTrack))])
        let file = MIDIFile(format: .simultaneousTracks, division: .ticksPerQuarter(480), tracks: [notes, conductor])
        let map = TempoMap(file: file)
        #expect(map.segments.map(\.tick) == [0, 960])
        #expect(map.seconds(atTick: 480) == 0.5)
        #expect(map.seconds(atTick: 960) == 1.0)
        #expect(map.seconds(atTick: 1440) == 2.0)
        #expect(file.durationInSeconds == 4.0)
        #expect(map.ticks(atSeconds: 2.5) == 1680)
        #expect(map.ticks(atSeconds: 0.25) == 240)
    }

    @Test("a tempo at tick 0 replaces the default; the later of two tempos at one tick wins")
    func sameTick() {
        let t = track([
            SMFEvent(tick: 0, .meta(.tempo(microsecondsPerQuarter: 600_000))), SMFEvent(tick: 96, .meta(.tempo(microsecondsPerQuarter: 250_000))),
            SMFEvent(tick: 96, .meta(.tempo(microsecondsPerQuarter: 750_000))),
        ])
        let map = TempoMap(tracks: [t], division: .ticksPerQuarter(96))
        #expect(map.segments.count == 2)
        #expect(map.segments[0].microsecondsPerQuarter == 600_000)
        #expect(map.segments[0].beatsPerMinute == 100)
        #expect(map.seconds(atTick: 192) == 0.6 + 0.75)
    }

    @Test("SMPTE division counts absolute time and ignores tempo events")
    func smpte() {
        let t = track([SMFEvent(tick: 0, .meta(.tempo(microsecondsPerQuarter: 1_000_000))), SMFEvent(tick: 2500, .meta(.endOfTrack))])
        let file = MIDIFile(format: .singleTrack, division: .smpte(framesPerSecond: 25, ticksPerFrame: 40), tracks: [t])
        #expect(TempoMap(file: file).seconds(atTick: 1000) == 1.0)
        #expect(file.durationInSeconds == 2.5)
        #expect(TempoMap(file: file).ticks(atSeconds: 0.5) == 500)
        let dropFrame = MIDIFile.Division.smpte(framesPerSecond: 29, ticksPerFrame: 100)
        #expect(abs(TempoMap(tracks: [], division: dropFrame).seconds(atTick: 3_000_000) - 1001) < 1e-9)
    }

    @Test("format 2 songs play one after another, each with its own tempo")
    func sequentialSongs() {
        let a = track([SMFEvent(tick: 0, .meta(.tempo(microsecondsPerQuarter: 1_000_000))), SMFEvent(tick: 192, .meta(.endOfTrack))])
        let b = track([SMFEvent(tick: 192, .meta(.endOfTrack))])
        let file = MIDIFile(format: .sequentialTracks, division: .ticksPerQuarter(96), tracks: [a, b])
        #expect(file.durationInSeconds == 2.0 + 1.0)
    }

    @Test("seconds(atTick:) and ticks(atSeconds:) are inverse and increasing over random tempo maps")
    func inverse() async {
        await propertyCheck(count: 200, input: Gen.uint64(in: 0...UInt64.max)) { seed in
            var rng = SeededGenerator(seed: seed)
            var events: [SMFEvent] = []
            var tick = 0
            for _ in 0..<Int.random(in: 0...20, using: &rng) {
                tick += Int.random(in: 0...5000, using: &rng)
                events.append(SMFEvent(tick: tick, .meta(.tempo(microsecondsPerQuarter: UInt32.random(in: 100_000...3_000_000, using: &rng)))))
            }
            let map = TempoMap(tracks: [track(events)], division: .ticksPerQuarter(UInt16.random(in: 24...960, using: &rng)))
            var previous = -1.0
            for probe in stride(from: 0, through: tick + 5000, by: 97) {
                let seconds = map.seconds(atTick: probe)
                #expect(seconds > previous)
                previous = seconds
                #expect(abs(map.ticks(atSeconds: seconds) - Double(probe)) < 1e-6, "seed \(seed) tick \(probe)")
            }
        }
    }

    @Test("key and time signature names")
    func names() {
        #expect(MetaEvent.keyName(sharps: 1, minor: true) == "E minor")
        #expect(MetaEvent.keyName(sharps: 0, minor: false) == "C major")
        #expect(MetaEvent.keyName(sharps: -2, minor: false) == "Bb major")
        #expect(MetaEvent.keyName(sharps: -3, minor: true) == "C minor")
        #expect(MetaEvent.keyName(sharps: 6, minor: false) == "F# major")
        #expect(MetaEvent.denominator(power: 3) == 8)
    }
}

@Suite("SMF meta event helpers")
struct SMFMetaEventHelperTests {
    @Test func helpers() {
        #expect(MetaEvent.tempo(beatsPerMinute: 100) == .tempo(microsecondsPerQuarter: 600_000))
        #expect(MetaEvent.timeSignature(6, 8) == .timeSignature(numerator: 6, denominatorPower: 3, clocksPerClick: 24, thirtySecondsPerQuarter: 8))
        #expect(MetaEvent.trackName("Bass") == .text(.trackName, [0x42, 0x61, 0x73, 0x73]))
        #expect(MIDITrack(events: [SMFEvent(tick: 0, .trackName("Bäss"))]).name == "Bäss")
        // Latin-1 text from older sequencers still reads as the intended letters.
        #expect(MetaEvent.decodeText([0x42, 0xE4, 0x73, 0x73]) == "Bäss")
    }
}
