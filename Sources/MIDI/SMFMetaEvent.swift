/// Meta events (FF type length data). Known types whose data has the wrong length are kept as
/// `.unknown` by the reader (with a warning), so nothing in a file is silently lost or misread.
public enum MetaEvent: Hashable, Sendable {
    /// FF 00 02 ssss; FF 00 00 (no number) means "the track's position in the file".
    case sequenceNumber(UInt16?)
    /// FF 01...09: text whose encoding the file does not state (usually ASCII or Latin-1).
    case text(TextKind, [UInt8])
    /// FF 20 01 cc: the channel that following meta and sysex events refer to.
    case channelPrefix(UInt8)
    /// FF 21 01 pp: the output port (cable) for the track.
    case port(UInt8)
    /// FF 2F 00.
    case endOfTrack
    /// FF 51 03 tttttt: microseconds per quarter note.
    case tempo(microsecondsPerQuarter: UInt32)
    /// FF 54 05 hr mn se fr ff.
    case smpteOffset(hours: UInt8, minutes: UInt8, seconds: UInt8, frames: UInt8, fractionalFrames: UInt8)
    /// FF 58 04 nn dd cc bb: the denominator is stored as a power of two.
    case timeSignature(numerator: UInt8, denominatorPower: UInt8, clocksPerClick: UInt8, thirtySecondsPerQuarter: UInt8)
    /// FF 59 02 sf mi: sharps (positive) or flats (negative), and major/minor.
    case keySignature(sharps: Int8, minor: Bool)
    /// FF 7F len data.
    case sequencerSpecific([UInt8])
    /// Any other type, kept raw so writing the file back reproduces it.
    case unknown(type: UInt8, data: [UInt8])

    public enum TextKind: UInt8, Hashable, Sendable, CaseIterable {
        case text = 0x01
        case copyright = 0x02
        case trackName = 0x03
        case instrumentName = 0x04
        case lyric = 0x05
        case marker = 0x06
        case cuePoint = 0x07
        case programName = 0x08
        case deviceName = 0x09
    }

    public var type: UInt8 {
        switch self {
        case .sequenceNumber: return 0x00
        case .text(let kind, _): return kind.rawValue
        case .channelPrefix: return 0x20
        case .port: return 0x21
        case .endOfTrack: return 0x2F
        case .tempo: return 0x51
        case .smpteOffset: return 0x54
        case .timeSignature: return 0x58
        case .keySignature: return 0x59
        case .sequencerSpecific: return 0x7F
        case .unknown(let type, _): return type
        }
    }

    /// The data bytes after the length.
    public var data: [UInt8] {
        switch self {
        case .sequenceNumber(let n):
            guard let n else { return [] }
            return [UInt8(n >> 8), UInt8(n & 0xFF)]
        case .text(_, let bytes): return bytes
        case .channelPrefix(let c): return [c]
        case .port(let p): return [p]
        case .endOfTrack: return []
        case .tempo(let t): return [UInt8((t >> 16) & 0xFF), UInt8((t >> 8) & 0xFF), UInt8(t & 0xFF)]
        case .smpteOffset(let h, let m, let s, let f, let ff): return [h, m, s, f, ff]
        case .timeSignature(let n, let d, let c, let b): return [n, d, c, b]
        case .keySignature(let sf, let mi): return [UInt8(bitPattern: sf), mi ? 1 : 0]
        case .sequencerSpecific(let bytes): return bytes
        case .unknown(_, let data): return data
        }
    }

    /// Builds the event for a type and its data; nil when a known type's data is malformed (wrong
    /// length, key outside ±7 sharps, tempo 0), which the reader reports as a warning.
    public init?(type: UInt8, data: [UInt8]) {
        switch type {
        case 0x00:
            switch data.count {
            case 0: self = .sequenceNumber(nil)
            case 2: self = .sequenceNumber(UInt16(data[0]) << 8 | UInt16(data[1]))
            default: return nil
            }
        case 0x01...0x09:
            self = .text(TextKind(rawValue: type)!, data)
        case 0x20:
            guard data.count == 1, data[0] < 16 else { return nil }
            self = .channelPrefix(data[0])
        case 0x21:
            guard data.count == 1 else { return nil }
            self = .port(data[0])
        case 0x2F:
            // Some writers put bytes in the end-of-track event; the event still ends the track.
            self = .endOfTrack
        case 0x51:
            guard data.count == 3 else { return nil }
            let t = UInt32(data[0]) << 16 | UInt32(data[1]) << 8 | UInt32(data[2])
            guard t > 0 else { return nil }
            self = .tempo(microsecondsPerQuarter: t)
        case 0x54:
            guard data.count == 5 else { return nil }
            self = .smpteOffset(hours: data[0], minutes: data[1], seconds: data[2], frames: data[3], fractionalFrames: data[4])
        case 0x58:
            guard data.count == 4, data[0] > 0, data[1] < 32 else { return nil }
            self = .timeSignature(numerator: data[0], denominatorPower: data[1], clocksPerClick: data[2], thirtySecondsPerQuarter: data[3])
        case 0x59:
            guard data.count == 2, data[1] <= 1 else { return nil }
            let sf = Int8(bitPattern: data[0])
            guard (-7...7).contains(sf) else { return nil }
            self = .keySignature(sharps: sf, minor: data[1] == 1)
        case 0x7F:
            self = .sequencerSpecific(data)
        default:
            self = .unknown(type: type, data: data)
        }
    }

    /// Text bytes as a string: UTF-8 when valid, otherwise Latin-1 (what older sequencers wrote).
    public static func decodeText(_ bytes: [UInt8]) -> String {
        if let s = String(validating: bytes, as: UTF8.self) { return s }
        return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
    }
}

extension MetaEvent {
    /// "E minor", "Bb major": the key a key signature names (ASCII accidentals, so scripts can match).
    public static func keyName(sharps: Int8, minor: Bool) -> String {
        // Circle of fifths from 7 flats to 7 sharps.
        let majors = ["Cb", "Gb", "Db", "Ab", "Eb", "Bb", "F", "C", "G", "D", "A", "E", "B", "F#", "C#"]
        let minors = ["Ab", "Eb", "Bb", "F", "C", "G", "D", "A", "E", "B", "F#", "C#", "G#", "D#", "A#"]
        let index = Int(max(-7, min(7, sharps))) + 7
        return (minor ? minors[index] : majors[index]) + (minor ? " minor" : " major")
    }

    /// The time signature's denominator as a note value (4 for quarter notes).
    public static func denominator(power: UInt8) -> Int { 1 << Int(min(power, 30)) }
}

extension MetaEvent {
    /// A track name from a string (stored as UTF-8).
    public static func trackName(_ name: String) -> MetaEvent { .text(.trackName, Array(name.utf8)) }

    /// A tempo in beats (quarter notes) per minute, rounded to whole microseconds per quarter.
    public static func tempo(beatsPerMinute: Double) -> MetaEvent {
        let micros = (60_000_000 / max(beatsPerMinute, 1)).rounded()
        return .tempo(microsecondsPerQuarter: UInt32(min(micros, 0xFF_FFFF)))
    }

    /// A time signature such as 3/4 or 6/8 (`denominator` a power of two), with the usual 24 MIDI clocks
    /// per click and 8 thirty-seconds per quarter.
    public static func timeSignature(_ numerator: UInt8, _ denominator: Int) -> MetaEvent {
        let power = UInt8(max(0, Int.bitWidth - 1 - denominator.leadingZeroBitCount))
        return .timeSignature(numerator: numerator, denominatorPower: power, clocksPerClick: 24, thirtySecondsPerQuarter: 8)
    }
}
