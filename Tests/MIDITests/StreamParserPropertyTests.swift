import MIDI
import PropertyBased
import Testing

@Suite struct StreamParserPropertyTests {
    @Test func encodedMessagesParseBackInAnyChunking() async {
        await propertyCheck(count: 300, input: MIDIGen.any.array(of: 0...60), MIDIGen.chunking) { messages, chunks in
            let bytes = messages.flatMap(\.encoded)
            var parser = MIDIStreamParser()
            #expect(parseAll(bytes, chunks: chunks, parser: &parser) == messages)
            #expect(parser.droppedDataBytes == 0)
            #expect(parser.discardedSysex == 0)
        }
    }

    @Test func runningStatusEncodingParsesBack() async {
        await propertyCheck(count: 300, input: MIDIGen.any.array(of: 0...60), MIDIGen.chunking) { messages, chunks in
            let bytes = encodeWithRunningStatus(messages)
            let plain = messages.flatMap(\.encoded)
            #expect(bytes.count <= plain.count)
            var parser = MIDIStreamParser()
            #expect(parseAll(bytes, chunks: chunks, parser: &parser) == messages)
            #expect(parser.droppedDataBytes == 0)
            #expect(parser.discardedSysex == 0)
        }
    }

    /// Running status must really be used: every channel message that repeats the previous channel
    /// status (with only realtime in between) is written without it.
    @Test func runningStatusEncodingSavesEveryRepeatedStatus() async {
        await propertyCheck(count: 200, input: MIDIGen.any.array(of: 0...60)) { messages in
            var repeats = 0
            var last: UInt8?
            for message in messages where !message.isRealtime {
                if message.channel != nil, message.statusByte == last { repeats += 1 }
                last = message.channel != nil ? message.statusByte : nil
            }
            #expect(encodeWithRunningStatus(messages).count == messages.flatMap(\.encoded).count - repeats)
        }
    }

    /// Realtime bytes dropped between any two bytes come out where they were put, relative to the
    /// messages around them: before every message whose last byte follows them.
    @Test func realtimeInsertedAnywhereComesOutInPlace() async {
        let insertion = zip(Gen.int(in: 0...100_000), MIDIGen.realtime).array(of: 0...30)
        await propertyCheck(
            count: 300, input: MIDIGen.nonRealtime.array(of: 0...40), insertion, MIDIGen.chunking
        ) { messages, insertions, chunks in
            // Each message, and the index in the plain stream of its last byte.
            var encoder = RunningStatusEncoder()
            var stream: [UInt8] = []
            var ends: [Int] = []
            for message in messages {
                encoder.encode(message, into: &stream)
                ends.append(stream.count - 1)
            }
            // Realtime placed before plain byte `position` (== stream.count: at the very end).
            let placed = insertions.map { (position: $0.0 % (stream.count + 1), message: $0.1) }
                .enumerated().sorted { ($0.element.position, $0.offset) < ($1.element.position, $1.offset) }
                .map(\.element)

            var mixed: [UInt8] = []
            var next = 0
            for (index, byte) in stream.enumerated() {
                while next < placed.count, placed[next].position == index {
                    mixed.append(placed[next].message.statusByte)
                    next += 1
                }
                mixed.append(byte)
            }
            for rest in placed[next...] { mixed.append(rest.message.statusByte) }

            // A realtime byte placed at or before a message's last byte is emitted before that message.
            var expected: [MIDIMessage] = []
            var r = 0
            for (message, end) in zip(messages, ends) {
                while r < placed.count, placed[r].position <= end {
                    expected.append(placed[r].message)
                    r += 1
                }
                expected.append(message)
            }
            expected += placed[r...].map(\.message)

            var parser = MIDIStreamParser()
            let out = parseAll(mixed, chunks: chunks, parser: &parser)
            #expect(out == expected)
            #expect(out.filter { !$0.isRealtime } == messages)
            #expect(out.filter(\.isRealtime) == placed.map(\.message))
            #expect(parser.droppedDataBytes == 0)
            #expect(parser.discardedSysex == 0)
        }
    }

    /// Any stream gives the same messages and counters however it is split.
    @Test func chunkingNeverChangesTheResult() async {
        let byte = Gen<UInt8>.frequency((3, Gen.uint8(in: 0...0x7F)), (1, Gen.uint8(in: 0x80...0xFF)))
        await propertyCheck(count: 300, input: byte.array(of: 0...200), MIDIGen.chunking) { bytes, chunks in
            var whole = MIDIStreamParser(maxSysexLength: 8)
            var split = MIDIStreamParser(maxSysexLength: 8)
            #expect(parseAll(bytes, parser: &whole) == parseAll(bytes, chunks: chunks, parser: &split))
            #expect(whole.droppedDataBytes == split.droppedDataBytes)
            #expect(whole.discardedSysex == split.discardedSysex)
        }
    }
}
