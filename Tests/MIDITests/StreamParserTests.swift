import MIDI
import Testing

/// Parses `bytes` in one call (or in the given chunk sizes, cycled) and returns what came out.
func parseAll(_ bytes: [UInt8], chunks: [Int] = [], parser: inout MIDIStreamParser) -> [MIDIMessage] {
    var out: [MIDIMessage] = []
    if chunks.isEmpty {
        parser.parse(bytes) { out.append($0) }
        return out
    }
    var start = 0
    var i = 0
    while start < bytes.count {
        let end = min(bytes.count, start + max(1, chunks[i % chunks.count]))
        bytes[start..<end].withUnsafeBytes { raw in parser.parse(raw) { out.append($0) } }
        start = end
        i += 1
    }
    return out
}

func parseAll(_ bytes: [UInt8], chunks: [Int] = [], maxSysexLength: Int = 65536) -> [MIDIMessage] {
    var parser = MIDIStreamParser(maxSysexLength: maxSysexLength)
    return parseAll(bytes, chunks: chunks, parser: &parser)
}

@Suite struct StreamParserTests {
    @Test func completeChannelMessages() {
        let out = parseAll([0x90, 60, 100, 0x81, 61, 0, 0xB2, 64, 127, 0xC3, 5, 0xD4, 9, 0xE5, 0x00, 0x40, 0xA6, 1, 2])
        #expect(
            out == [
                .noteOn(channel: 0, note: 60, velocity: 100), .noteOff(channel: 1, note: 61, velocity: 0),
                .controlChange(channel: 2, controller: 64, value: 127), .programChange(channel: 3, program: 5),
                .channelPressure(channel: 4, pressure: 9), .pitchBend(channel: 5, value: 8192),
                .polyPressure(channel: 6, note: 1, pressure: 2),
            ])
    }

    @Test func runningStatusRepeatsTheLastChannelStatus() {
        let out = parseAll([0x90, 60, 100, 62, 90, 64, 0, 0xC1, 7, 8])
        #expect(
            out == [
                .noteOn(channel: 0, note: 60, velocity: 100), .noteOn(channel: 0, note: 62, velocity: 90),
                .noteOn(channel: 0, note: 64, velocity: 0), .programChange(channel: 1, program: 7),
                .programChange(channel: 1, program: 8),
            ])
    }

    @Test func noteOnWithVelocityZeroStaysNoteOn() {
        let out = parseAll([0x95, 60, 0])
        #expect(out == [.noteOn(channel: 5, note: 60, velocity: 0)])
        #expect(out[0].isNoteOff)
    }

    @Test func systemCommonCancelsRunningStatus() {
        var parser = MIDIStreamParser()
        let out = parseAll([0x90, 60, 100, 0xF3, 4, 62, 90, 0x90, 1, 2, 0xF6, 3, 4], parser: &parser)
        #expect(
            out == [
                .noteOn(channel: 0, note: 60, velocity: 100), .songSelect(4),
                .noteOn(channel: 0, note: 1, velocity: 2), .tuneRequest,
            ])
        #expect(parser.droppedDataBytes == 4)
    }

    @Test func systemCommonMessagesNeedTheirStatusEachTime() {
        var parser = MIDIStreamParser()
        let out = parseAll([0xF1, 0x21, 0x22, 0xF2, 0x01, 0x02, 0x03], parser: &parser)
        #expect(out == [.timeCodeQuarterFrame(0x21), .songPosition(0x01 | 0x02 << 7)])
        #expect(parser.droppedDataBytes == 2)
    }

    @Test func realtimeDoesNotCancelRunningStatus() {
        let out = parseAll([0x90, 60, 100, 0xF8, 62, 90])
        #expect(
            out == [
                .noteOn(channel: 0, note: 60, velocity: 100), .clock, .noteOn(channel: 0, note: 62, velocity: 90),
            ])
    }

    @Test func realtimeBetweenDataBytesIsEmittedFirst() {
        let out = parseAll([0x90, 0xF8, 60, 0xFA, 100, 0xFE])
        #expect(out == [.clock, .start, .noteOn(channel: 0, note: 60, velocity: 100), .activeSensing])
    }

    @Test func everyRealtimeByte() {
        let out = parseAll([0xF8, 0xF9, 0xFA, 0xFB, 0xFC, 0xFD, 0xFE, 0xFF])
        #expect(out == [.clock, .start, .continue, .stop, .activeSensing, .reset])
    }

    @Test func realtimeInsideSysex() {
        var parser = MIDIStreamParser()
        let out = parseAll([0xF0, 0x7E, 0xF8, 0x7F, 0xFC, 0x09, 0xF7], parser: &parser)
        #expect(out == [.clock, .stop, .sysex([0x7E, 0x7F, 0x09])])
        #expect(parser.discardedSysex == 0)
    }

    @Test(arguments: [1, 2, 3, 5, 64])
    func sysexSplitAcrossChunks(chunkSize: Int) {
        let payload = (0..<200).map { UInt8($0 % 128) }
        let bytes = [0x90, 60, 1] + [0xF0] + payload + [0xF7] + [0x80, 60, 0]
        var parser = MIDIStreamParser()
        let out = parseAll(bytes, chunks: [chunkSize], parser: &parser)
        #expect(
            out == [
                .noteOn(channel: 0, note: 60, velocity: 1), .sysex(payload), .noteOff(channel: 0, note: 60, velocity: 0),
            ])
        #expect(parser.pendingSysexLength == 0)
    }

    @Test func emptySysex() {
        #expect(parseAll([0xF0, 0xF7]) == [.sysex([])])
    }

    @Test func sysexInterruptedByStatusIsDiscardedAndTheStatusStartsTheNextMessage() {
        var parser = MIDIStreamParser()
        let out = parseAll([0xF0, 1, 2, 3, 0x92, 60, 100, 0xF7], parser: &parser)
        #expect(out == [.noteOn(channel: 2, note: 60, velocity: 100)])
        #expect(parser.discardedSysex == 1)
    }

    @Test func sysexInterruptedByAnotherSysex() {
        var parser = MIDIStreamParser()
        let out = parseAll([0xF0, 1, 2, 0xF0, 3, 0xF7], parser: &parser)
        #expect(out == [.sysex([3])])
        #expect(parser.discardedSysex == 1)
    }

    @Test func sysexAtTheCapIsKept() {
        var parser = MIDIStreamParser(maxSysexLength: 4)
        let out = parseAll([0xF0, 1, 2, 3, 4, 0xF7], parser: &parser)
        #expect(out == [.sysex([1, 2, 3, 4])])
        #expect(parser.discardedSysex == 0)
    }

    @Test func sysexOverTheCapIsDiscardedAndTheParserResyncs() {
        var parser = MIDIStreamParser(maxSysexLength: 4)
        let capacity = parser.sysexCapacity
        let long = [0xF0] + [UInt8](repeating: 0x11, count: 1000) + [0xF7]
        let out = parseAll(long + [0x90, 60, 100, 61, 101] + [0xF0, 5, 0xF7], chunks: [7], parser: &parser)
        #expect(
            out == [
                .noteOn(channel: 0, note: 60, velocity: 100), .noteOn(channel: 0, note: 61, velocity: 101), .sysex([5]),
            ])
        #expect(parser.discardedSysex == 1)
        #expect(parser.droppedDataBytes == 0)
        #expect(parser.sysexCapacity == capacity)
    }

    @Test func sysexOverTheCapThenInterruptedCountsOnce() {
        var parser = MIDIStreamParser(maxSysexLength: 2)
        let out = parseAll([0xF0, 1, 2, 3, 4, 0x90, 60, 100], parser: &parser)
        #expect(out == [.noteOn(channel: 0, note: 60, velocity: 100)])
        #expect(parser.discardedSysex == 1)
    }

    @Test func zeroCapKeepsOnlyEmptySysex() {
        var parser = MIDIStreamParser(maxSysexLength: 0)
        let out = parseAll([0xF0, 0xF7, 0xF0, 1, 0xF7], parser: &parser)
        #expect(out == [.sysex([])])
        #expect(parser.discardedSysex == 1)
    }

    @Test func strayDataBytesAreDroppedAndCounted() {
        var parser = MIDIStreamParser()
        let out = parseAll([1, 2, 3, 0x90, 60, 100], parser: &parser)
        #expect(out == [.noteOn(channel: 0, note: 60, velocity: 100)])
        #expect(parser.droppedDataBytes == 3)
    }

    @Test func statusBeforeDataCompleteDropsThePartialMessage() {
        var parser = MIDIStreamParser()
        let out = parseAll([0x90, 60, 0xB0, 7, 100], parser: &parser)
        #expect(out == [.controlChange(channel: 0, controller: 7, value: 100)])
        #expect(parser.droppedDataBytes == 0)
    }

    @Test(arguments: [UInt8(0xF4), 0xF5, 0xF7])
    func undefinedSystemCommonAndLoneEndOfSysexProduceNothingAndCancelRunningStatus(status: UInt8) {
        var parser = MIDIStreamParser()
        let out = parseAll([0x90, 60, 100, status, 61, 101, 0x90, 62, 102], parser: &parser)
        #expect(out == [.noteOn(channel: 0, note: 60, velocity: 100), .noteOn(channel: 0, note: 62, velocity: 102)])
        #expect(parser.droppedDataBytes == 2)
    }

    @Test(arguments: [UInt8(0xF9), 0xFD])
    func undefinedRealtimeIsIgnoredWithoutDisturbingAnything(status: UInt8) {
        var parser = MIDIStreamParser()
        let out = parseAll([0x90, 60, status, 100, 61, 101, 0xF0, 1, status, 2, 0xF7], parser: &parser)
        #expect(
            out == [
                .noteOn(channel: 0, note: 60, velocity: 100), .noteOn(channel: 0, note: 61, velocity: 101), .sysex([1, 2]),
            ])
        #expect(parser.droppedDataBytes == 0)
        #expect(parser.discardedSysex == 0)
    }

    @Test func resetForgetsRunningStatusPartialSysexAndCounters() {
        var parser = MIDIStreamParser()
        _ = parseAll([5, 0xF0, 1, 0x90, 60], parser: &parser)
        #expect(parser.droppedDataBytes == 1)
        #expect(parser.discardedSysex == 1)
        parser.reset()
        #expect(parser.droppedDataBytes == 0)
        #expect(parser.discardedSysex == 0)
        let out = parseAll([100, 0xF0, 2, 0xF7], parser: &parser)
        #expect(out == [.sysex([2])])
        #expect(parser.droppedDataBytes == 1)
    }

    @Test func resetInsideSysexDropsIt() {
        var parser = MIDIStreamParser()
        _ = parseAll([0xF0, 1, 2], parser: &parser)
        #expect(parser.pendingSysexLength == 2)
        parser.reset()
        #expect(parser.pendingSysexLength == 0)
        #expect(parseAll([3, 0xF7], parser: &parser) == [])
        #expect(parser.droppedDataBytes == 1)
    }

    @Test func rawBufferAndSequenceFormsAgree() {
        let bytes: [UInt8] = [0x90, 60, 100, 0xF8, 61, 0xF0, 1, 0xF7, 0xE0, 1, 2]
        var a = MIDIStreamParser()
        var b = MIDIStreamParser()
        var fromRaw: [MIDIMessage] = []
        var fromSequence: [MIDIMessage] = []
        bytes.withUnsafeBytes { raw in a.parse(raw) { fromRaw.append($0) } }
        b.parse(bytes.lazy.map { $0 }) { fromSequence.append($0) }
        #expect(fromRaw == fromSequence)
        #expect(fromRaw.count == 4)
    }

    @Test func runningStatusEncoderOmitsRepeatedChannelStatus() {
        let messages: [MIDIMessage] = [
            .noteOn(channel: 0, note: 60, velocity: 100), .clock, .noteOn(channel: 0, note: 62, velocity: 0),
            .noteOn(channel: 1, note: 60, velocity: 1), .songSelect(3), .noteOn(channel: 1, note: 61, velocity: 2),
            .sysex([1]), .noteOn(channel: 1, note: 62, velocity: 3), .programChange(channel: 1, program: 4),
            .programChange(channel: 1, program: 5),
        ]
        #expect(
            encodeWithRunningStatus(messages) == [
                0x90, 60, 100, 0xF8, 62, 0, 0x91, 60, 1, 0xF3, 3, 0x91, 61, 2, 0xF0, 1, 0xF7, 0x91, 62, 3, 0xC1, 4, 5,
            ])
    }

    @Test func cancelledRunningStatusWritesTheStatusAgain() {
        var encoder = RunningStatusEncoder()
        var bytes: [UInt8] = []
        encoder.encode(.controlChange(channel: 3, controller: 1, value: 2), into: &bytes)
        encoder.encode(.controlChange(channel: 3, controller: 1, value: 3), into: &bytes)
        #expect(encoder.runningStatus == 0xB3)
        encoder.cancelRunningStatus()
        encoder.encode(.controlChange(channel: 3, controller: 1, value: 4), into: &bytes)
        #expect(bytes == [0xB3, 1, 2, 1, 3, 0xB3, 1, 4])
    }
}
