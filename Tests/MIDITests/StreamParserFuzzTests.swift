import MIDI
import TestSupport
import Testing


/// The parser's rules restated the other way round, for whole streams: realtime bytes are taken out
/// first, then the stream is cut into segments that each start at a status byte, and every segment is
/// judged on its own (running status cannot outlive a segment, because every status byte sets or
/// cancels it). Messages keep the stream index of their last byte so realtime can be merged back in.
struct ReferenceParse {
    var messages: [MIDIMessage] = []
    var droppedDataBytes = 0
    var discardedSysex = 0

    init(_ bytes: [UInt8], maxSysexLength: Int) {
        var timed: [(index: Int, message: MIDIMessage)] = []
        var segments: [(status: UInt8?, statusIndex: Int, data: [(index: Int, byte: UInt8)])] = [(nil, -1, [])]
        for (index, byte) in bytes.enumerated() {
            if byte >= 0xF8 {
                if let m = MIDIMessage(status: byte) { timed.append((index, m)) }
            } else if byte >= 0x80 {
                segments.append((byte, index, []))
            } else {
                segments[segments.count - 1].data.append((index, byte))
            }
        }
        for (s, segment) in segments.enumerated() {
            let data = segment.data
            guard let status = segment.status else {
                droppedDataBytes += data.count
                continue
            }
            let next = s + 1 < segments.count ? segments[s + 1] : nil
            switch status {
            case 0x80...0xEF:
                let n = MIDIMessage.dataLength(forStatus: status)!
                var i = 0
                while i + n <= data.count {
                    let m = MIDIMessage(status: status, data1: data[i].byte, data2: n == 2 ? data[i + 1].byte : 0)!
                    timed.append((data[i + n - 1].index, m))
                    i += n
                }
            case 0xF1...0xF3:
                let n = MIDIMessage.dataLength(forStatus: status)!
                if data.count >= n {
                    let m = MIDIMessage(status: status, data1: data[0].byte, data2: n == 2 ? data[1].byte : 0)!
                    timed.append((data[n - 1].index, m))
                }
                droppedDataBytes += max(0, data.count - n)
            case 0xF6:
                timed.append((segment.statusIndex, .tuneRequest))
                droppedDataBytes += data.count
            case 0xF0:
                if data.count > maxSysexLength {
                    discardedSysex += 1
                } else if let next, next.status == 0xF7 {
                    timed.append((next.statusIndex, .sysex(data.map(\.byte))))
                } else if next != nil {
                    discardedSysex += 1
                }
            default:  // F4, F5, F7
                droppedDataBytes += data.count
            }
        }
        messages = timed.enumerated().sorted { ($0.element.index, $0.offset) < ($1.element.index, $1.offset) }
            .map(\.element.message)
    }
}

/// Where two long message lists first differ, or nil: keeps a fuzz failure readable.
func firstDifference(_ a: [MIDIMessage], _ b: [MIDIMessage]) -> String? {
    for i in 0..<min(a.count, b.count) where a[i] != b[i] {
        return "first difference at message \(i): \(a[i]) vs \(b[i])"
    }
    return a.count == b.count ? nil : "lengths differ: \(a.count) vs \(b.count)"
}

@Suite struct StreamParserFuzzTests {
    /// Random bytes with the given share of status bytes.
    static func noise(count: Int, statusShare: Double, seed: UInt64) -> [UInt8] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in
            Double.random(in: 0..<1, using: &rng) < statusShare
                ? UInt8.random(in: 0x80...0xFF, using: &rng) : UInt8.random(in: 0...0x7F, using: &rng)
        }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var statusShare: Double
        var maxSysexLength: Int
        var seed: UInt64
        var testDescription: String { "status share \(statusShare), sysex cap \(maxSysexLength), seed \(seed)" }
    }

    /// 4 × 300 000 = 1.2 million bytes, from uniform noise to long data runs that overflow the cap.
    @Test(arguments: [
        Case(statusShare: 0.5, maxSysexLength: 65536, seed: 1),
        Case(statusShare: 0.1, maxSysexLength: 16, seed: 2),
        Case(statusShare: 0.02, maxSysexLength: 64, seed: 3),
        Case(statusShare: 0.005, maxSysexLength: 0, seed: 4),
    ])
    func randomBytesInEveryChunkingMatchTheReference(fuzz: Case) {
        let bytes = Self.noise(count: 300_000, statusShare: fuzz.statusShare, seed: fuzz.seed)
        let reference = ReferenceParse(bytes, maxSysexLength: fuzz.maxSysexLength)
        var rng = SplitMix64(seed: fuzz.seed &+ 100)
        let randomChunks = (0..<64).map { _ in Int.random(in: 1...300, using: &rng) }

        var baseline: [MIDIMessage]?
        var baselineCounters = (0, 0)
        for chunks in [[bytes.count], [1], [3, 1, 7], randomChunks, [4096]] {
            var parser = MIDIStreamParser(maxSysexLength: fuzz.maxSysexLength)
            let capacity = parser.sysexCapacity
            #expect(capacity >= fuzz.maxSysexLength)

            // Memory must stay bounded after every chunk, whatever came in.
            var out: [MIDIMessage] = []
            var start = 0
            var i = 0
            var worstPending = 0
            var capacityChanged = false
            while start < bytes.count {
                let end = min(bytes.count, start + chunks[i % chunks.count])
                bytes[start..<end].withUnsafeBytes { raw in parser.parse(raw) { out.append($0) } }
                worstPending = max(worstPending, parser.pendingSysexLength)
                capacityChanged = capacityChanged || parser.sysexCapacity != capacity
                start = end
                i += 1
            }
            #expect(worstPending <= fuzz.maxSysexLength)
            #expect(!capacityChanged)

            // Against the independent reference, counters included.
            #expect(firstDifference(out, reference.messages) == nil)
            #expect(parser.droppedDataBytes == reference.droppedDataBytes)
            #expect(parser.discardedSysex == reference.discardedSysex)

            let dataBytes = bytes.count { $0 < 0x80 }
            let sysexStarts = bytes.count { $0 == 0xF0 }
            let sysexDelivered = out.count { if case .sysex = $0 { true } else { false } }
            #expect(parser.droppedDataBytes <= dataBytes)
            #expect(parser.discardedSysex + sysexDelivered <= sysexStarts)
            for case .sysex(let payload) in out { #expect(payload.count <= fuzz.maxSysexLength) }

            if let baseline {
                #expect(firstDifference(out, baseline) == nil)
                #expect((parser.droppedDataBytes, parser.discardedSysex) == baselineCounters)
            } else {
                baseline = out
                baselineCounters = (parser.droppedDataBytes, parser.discardedSysex)
            }
        }
        // The noise must have exercised what it is meant to.
        #expect((baseline?.count ?? 0) > 1000)
        #expect(baselineCounters.0 > 0)
    }

    /// Sysex-heavy noise, so that the cap is hit many times, long sysex complete, and sysex are cut short.
    @Test func sysexStormStaysBounded() {
        var rng = SplitMix64(seed: 42)
        var bytes: [UInt8] = []
        while bytes.count < 300_000 {
            bytes.append(0xF0)
            let length = Int.random(in: 0...200, using: &rng)
            for _ in 0..<length {
                bytes.append(Bool.random(using: &rng) && length % 7 == 0 ? 0xF8 : UInt8.random(in: 0...0x7F, using: &rng))
            }
            bytes.append([0xF7, 0xF7, 0x90, 0xF0][Int.random(in: 0...3, using: &rng)])
        }
        let cap = 100
        var parser = MIDIStreamParser(maxSysexLength: cap)
        let capacity = parser.sysexCapacity
        let out = parseAll(bytes, chunks: [13, 1, 250], parser: &parser)
        let reference = ReferenceParse(bytes, maxSysexLength: cap)
        #expect(firstDifference(out, reference.messages) == nil)
        #expect(parser.discardedSysex == reference.discardedSysex)
        #expect(parser.droppedDataBytes == reference.droppedDataBytes)
        #expect(parser.discardedSysex > 100)
        #expect(out.count { if case .sysex = $0 { true } else { false } } > 100)
        #expect(parser.sysexCapacity == capacity)
    }
}
