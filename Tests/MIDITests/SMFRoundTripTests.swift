import PropertyBased
import Testing

@testable import MIDI

@Suite("SMF round trip")
struct SMFRoundTripTests {
    @Test("format 1 files with every event kind read back equal", arguments: [MIDIFile.Format.simultaneousTracks, .sequentialTracks])
    func multiTrack(format: MIDIFile.Format) async {
        await propertyCheck(count: 300, input: Gen.uint64(in: 0...UInt64.max)) { seed in
            let file = RandomMIDIFiles.file(seed: seed, format: format)
            let bytes = MIDIFileWriter.write(file)
            let outcome = try #require(try? MIDIFileReader.read(bytes), "seed \(seed)")
            #expect(outcome.file == file, "seed \(seed)")
            #expect(outcome.warnings.isEmpty, "seed \(seed): \(outcome.warnings)")
        }
    }

    @Test("format 0 files read back equal")
    func singleTrack() async {
        await propertyCheck(count: 300, input: Gen.uint64(in: 0...UInt64.max)) { seed in
            let file = RandomMIDIFiles.file(seed: seed, format: .singleTrack)
            let outcome = try #require(try? MIDIFileReader.read(MIDIFileWriter.write(file)), "seed \(seed)")
            #expect(outcome.file == file, "seed \(seed)")
            #expect(outcome.warnings.isEmpty)
        }
    }

    @Test("format 0 with several tracks merges them in time order")
    func formatZeroMerges() throws {
        let a = MIDITrack(events: [
            SMFEvent(tick: 0, .noteOn(channel: 0, note: 60, velocity: 100)), SMFEvent(tick: 100, .noteOff(channel: 0, note: 60, velocity: 0)),
            SMFEvent(tick: 100, .meta(.endOfTrack)),
        ])
        let b = MIDITrack(events: [SMFEvent(tick: 50, .noteOn(channel: 1, note: 40, velocity: 90)), SMFEvent(tick: 300, .meta(.endOfTrack))])
        let read = try MIDIFileReader.read(MIDIFileWriter.write(MIDIFile(format: .singleTrack, division: .ticksPerQuarter(96), tracks: [a, b])))
        #expect(read.file.tracks.count == 1)
        #expect(read.file.tracks[0].events.map(\.tick) == [0, 50, 100, 300])
        #expect(read.file.tracks[0].events.last?.kind == .meta(.endOfTrack))
    }

    @Test("running status: one status byte per change of status, and the messages decode back")
    func runningStatus() async {
        await propertyCheck(count: 300, input: Gen.uint64(in: 0...UInt64.max)) { seed in
            var rng = SeededGenerator(seed: seed)
            // Few channels and kinds so that repeats, which running status elides, are common.
            let messages: [MIDIMessage] = (0..<Int.random(in: 1...80, using: &rng)).map { _ in
                let c = UInt8.random(in: 0...1, using: &rng)
                let n = UInt8.random(in: 0...127, using: &rng)
                return Bool.random(using: &rng) ? .noteOn(channel: c, note: n, velocity: n) : .controlChange(channel: c, controller: 7, value: n)
            }
            let events = messages.map { SMFEvent(tick: 0, .channel($0)) }
            let file = MIDIFile(format: .singleTrack, division: .ticksPerQuarter(480), tracks: [MIDITrack(events: events + [SMFEvent(tick: 0, .meta(.endOfTrack))])])
            let bytes = MIDIFileWriter.write(file)
            var statusChanges = 0
            var previous: UInt8? = nil
            for m in messages where m.statusByte != previous {
                statusChanges += 1
                previous = m.statusByte
            }
            // Header 14, track header 8, one zero delta + 2 data bytes per message, end-of-track 4.
            #expect(bytes.count == 14 + 8 + messages.count * 3 + statusChanges + 4, "seed \(seed)")
            let read = try #require(try? MIDIFileReader.read(bytes))
            #expect(read.file.tracks[0].events.compactMap(\.message) == messages)
        }
    }

    @Test("a meta or sysex event makes the writer restate the status (readers may reset running status there)")
    func statusRestatedAfterMeta() throws {
        let events: [SMFEvent] = [
            SMFEvent(tick: 0, .noteOn(channel: 3, note: 60, velocity: 1)), SMFEvent(tick: 0, .meta(.text(.marker, [0x41]))),
            SMFEvent(tick: 0, .noteOn(channel: 3, note: 61, velocity: 1)),
            SMFEvent(tick: 0, .sysex(SysexEvent(form: .start, bytes: [0x7E, 0xF7]))), SMFEvent(tick: 0, .noteOn(channel: 3, note: 62, velocity: 1)),
        ]
        let bytes = MIDIFileWriter.write(MIDIFile(format: .singleTrack, division: .ticksPerQuarter(96), tracks: [MIDITrack(events: events)]))
        #expect(bytes.filter { $0 == 0x93 }.count == 3)
        let read = try MIDIFileReader.read(bytes)
        #expect(read.warnings.isEmpty)
        #expect(Array(read.file.tracks[0].events.dropLast()) == events)
    }

    @Test("system messages in a track are written as sysex or escapes")
    func systemMessagesEscaped() throws {
        let events: [SMFEvent] = [SMFEvent(tick: 0, .sysex([0x7E, 0x7F, 0x09, 0x01])), SMFEvent(tick: 10, .songPosition(300))]
        let read = try MIDIFileReader.read(MIDIFileWriter.write(MIDIFile(format: .singleTrack, division: .ticksPerQuarter(96), tracks: [MIDITrack(events: events)])))
        let kinds = read.file.tracks[0].events.map(\.kind)
        #expect(kinds[0] == .sysex(SysexEvent(form: .start, bytes: [0x7E, 0x7F, 0x09, 0x01, 0xF7])))
        if case .sysex(let s) = kinds[0] { #expect(s.message == .sysex([0x7E, 0x7F, 0x09, 0x01])) }
        #expect(kinds[1] == .sysex(SysexEvent(form: .escape, bytes: MIDIMessage.songPosition(300).encoded)))
    }
}

@Suite("Variable-length quantities")
struct SMFVLQTests {
    @Test("encode then decode gives the value back, in the fewest bytes")
    func roundTrip() async {
        await propertyCheck(count: 2000, input: Gen.uint32(in: 0...VariableLengthQuantity.maximum)) { value in
            let bytes = VariableLengthQuantity.encoded(value)
            let expectedLength = value < 1 << 7 ? 1 : value < 1 << 14 ? 2 : value < 1 << 21 ? 3 : 4
            #expect(bytes.count == expectedLength)
            // Minimal: no leading 0x80 group, continuation bits on all but the last byte.
            #expect(bytes.count == 1 || bytes[0] != 0x80)
            #expect(bytes.dropLast().allSatisfy { $0 & 0x80 != 0 } && bytes.last! & 0x80 == 0)
            guard case .success(let decoded) = VariableLengthQuantity.decode(bytes + [0x55], at: 0) else {
                Issue.record("\(value) did not decode")
                return
            }
            #expect(decoded.value == value)
            #expect(decoded.next == bytes.count)
        }
    }

    @Test("edges: 0, 0x7F, 0x80, 0x3FFF, 0x4000, the 28-bit maximum")
    func edges() {
        #expect(VariableLengthQuantity.encoded(0) == [0x00])
        #expect(VariableLengthQuantity.encoded(0x7F) == [0x7F])
        #expect(VariableLengthQuantity.encoded(0x80) == [0x81, 0x00])
        #expect(VariableLengthQuantity.encoded(0x3FFF) == [0xFF, 0x7F])
        #expect(VariableLengthQuantity.encoded(0x4000) == [0x81, 0x80, 0x00])
        #expect(VariableLengthQuantity.encoded(0x0FFF_FFFF) == [0xFF, 0xFF, 0xFF, 0x7F])
    }

    @Test("five bytes is an error, and running out of bytes is reported as truncation")
    func malformed() async {
        await propertyCheck(count: 200, input: Gen.uint8(in: 0x80...0xFF).array(of: 4)) { prefix in
            guard case .failure(.tooLong) = VariableLengthQuantity.decode(prefix + [0x00], at: 0) else {
                Issue.record("\(prefix) + 00 was accepted")
                return
            }
            guard case .failure(.truncated) = VariableLengthQuantity.decode(Array(prefix.prefix(3)), at: 0) else {
                Issue.record("\(prefix.prefix(3)) was accepted")
                return
            }
        }
    }
}
