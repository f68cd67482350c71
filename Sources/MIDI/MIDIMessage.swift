/// A MIDI channel, 0...15 on the wire (shown to musicians as 1...16).
public typealias MIDIChannel = UInt8

/// One complete MIDI message, as it travels on a port or sits in a track.
///
/// Data bytes are stored already masked to 7 bits (14 bits for pitch bend and song position), so a
/// message built by the parser always serializes back to valid bytes.
public enum MIDIMessage: Hashable, Sendable {
    // Channel voice
    case noteOff(channel: MIDIChannel, note: UInt8, velocity: UInt8)
    case noteOn(channel: MIDIChannel, note: UInt8, velocity: UInt8)
    case polyPressure(channel: MIDIChannel, note: UInt8, pressure: UInt8)
    case controlChange(channel: MIDIChannel, controller: UInt8, value: UInt8)
    case programChange(channel: MIDIChannel, program: UInt8)
    case channelPressure(channel: MIDIChannel, pressure: UInt8)
    /// 14-bit bend, 0...16383, centre 8192.
    case pitchBend(channel: MIDIChannel, value: UInt16)

    // System common
    /// The payload between F0 and F7, without either framing byte.
    case sysex([UInt8])
    case timeCodeQuarterFrame(UInt8)
    /// In MIDI beats (16th notes) since the start of the song, 0...16383.
    case songPosition(UInt16)
    case songSelect(UInt8)
    case tuneRequest

    // System realtime
    case clock
    case start
    case `continue`
    case stop
    case activeSensing
    case reset
}

/// Controller numbers with a meaning the daemon relies on.
public enum ControllerNumber {
    public static let sustainPedal: UInt8 = 64
    public static let allSoundOff: UInt8 = 120
    public static let resetAllControllers: UInt8 = 121
    public static let allNotesOff: UInt8 = 123
}

extension MIDIMessage {
    /// The channel of a channel-voice message, nil for system messages.
    public var channel: MIDIChannel? {
        switch self {
        case .noteOff(let c, _, _), .noteOn(let c, _, _), .polyPressure(let c, _, _),
            .controlChange(let c, _, _), .programChange(let c, _), .channelPressure(let c, _),
            .pitchBend(let c, _):
            return c
        default:
            return nil
        }
    }

    /// True for a note-on with velocity above zero: the only message that starts a sound.
    public var isSoundingNoteOn: Bool {
        if case .noteOn(_, _, let v) = self { return v > 0 }
        return false
    }

    /// True for a note-off, or a note-on with velocity 0 (which the MIDI spec defines as a note-off).
    public var isNoteOff: Bool {
        switch self {
        case .noteOff: return true
        case .noteOn(_, _, let v): return v == 0
        default: return false
        }
    }

    /// True for the single-byte realtime messages (F8...FF), which may appear between any two bytes.
    public var isRealtime: Bool {
        switch self {
        case .clock, .start, .continue, .stop, .activeSensing, .reset: return true
        default: return false
        }
    }

    /// The same message moved to another channel; system messages are returned unchanged.
    public func onChannel(_ channel: MIDIChannel) -> MIDIMessage {
        let c = channel & 0x0F
        switch self {
        case .noteOff(_, let n, let v): return .noteOff(channel: c, note: n, velocity: v)
        case .noteOn(_, let n, let v): return .noteOn(channel: c, note: n, velocity: v)
        case .polyPressure(_, let n, let p): return .polyPressure(channel: c, note: n, pressure: p)
        case .controlChange(_, let n, let v): return .controlChange(channel: c, controller: n, value: v)
        case .programChange(_, let p): return .programChange(channel: c, program: p)
        case .channelPressure(_, let p): return .channelPressure(channel: c, pressure: p)
        case .pitchBend(_, let v): return .pitchBend(channel: c, value: v)
        default: return self
        }
    }
}

extension MIDIMessage {
    /// Number of data bytes that follow a channel-voice or system-common status byte, or nil when the
    /// status byte starts a message of variable length (sysex) or is not a status byte at all.
    public static func dataLength(forStatus status: UInt8) -> Int? {
        switch status {
        case 0x80...0xBF, 0xE0...0xEF: return 2
        case 0xC0...0xDF: return 1
        case 0xF1, 0xF3: return 1
        case 0xF2: return 2
        case 0xF6, 0xF8...0xFF: return 0
        default: return nil  // 0x00...0x7F data, F0 sysex, F7 end of sysex, F4/F5/F9/FD undefined
        }
    }

    /// Builds the message for a complete status + data group, or nil when the status is undefined
    /// (F4, F5, F9, FD) or is sysex framing. Data bytes are masked to 7 bits.
    public init?(status: UInt8, data1: UInt8 = 0, data2: UInt8 = 0) {
        let d1 = data1 & 0x7F
        let d2 = data2 & 0x7F
        let ch = status & 0x0F
        switch status & 0xF0 {
        case 0x80: self = .noteOff(channel: ch, note: d1, velocity: d2)
        case 0x90: self = .noteOn(channel: ch, note: d1, velocity: d2)
        case 0xA0: self = .polyPressure(channel: ch, note: d1, pressure: d2)
        case 0xB0: self = .controlChange(channel: ch, controller: d1, value: d2)
        case 0xC0: self = .programChange(channel: ch, program: d1)
        case 0xD0: self = .channelPressure(channel: ch, pressure: d1)
        case 0xE0: self = .pitchBend(channel: ch, value: UInt16(d1) | UInt16(d2) << 7)
        default:
            switch status {
            case 0xF1: self = .timeCodeQuarterFrame(d1)
            case 0xF2: self = .songPosition(UInt16(d1) | UInt16(d2) << 7)
            case 0xF3: self = .songSelect(d1)
            case 0xF6: self = .tuneRequest
            case 0xF8: self = .clock
            case 0xFA: self = .start
            case 0xFB: self = .continue
            case 0xFC: self = .stop
            case 0xFE: self = .activeSensing
            case 0xFF: self = .reset
            default: return nil
            }
        }
    }

    /// The status byte this message is sent with.
    public var statusByte: UInt8 {
        switch self {
        case .noteOff(let c, _, _): return 0x80 | (c & 0x0F)
        case .noteOn(let c, _, _): return 0x90 | (c & 0x0F)
        case .polyPressure(let c, _, _): return 0xA0 | (c & 0x0F)
        case .controlChange(let c, _, _): return 0xB0 | (c & 0x0F)
        case .programChange(let c, _): return 0xC0 | (c & 0x0F)
        case .channelPressure(let c, _): return 0xD0 | (c & 0x0F)
        case .pitchBend(let c, _): return 0xE0 | (c & 0x0F)
        case .sysex: return 0xF0
        case .timeCodeQuarterFrame: return 0xF1
        case .songPosition: return 0xF2
        case .songSelect: return 0xF3
        case .tuneRequest: return 0xF6
        case .clock: return 0xF8
        case .start: return 0xFA
        case .continue: return 0xFB
        case .stop: return 0xFC
        case .activeSensing: return 0xFE
        case .reset: return 0xFF
        }
    }
}

/// A message at a point in time. `time` is whatever clock the owner uses: JACK frames on a port,
/// ticks in a track, steps in the engine.
public struct TimedMIDIMessage: Hashable, Sendable {
    public var time: UInt64
    public var message: MIDIMessage

    public init(time: UInt64, message: MIDIMessage) {
        self.time = time
        self.message = message
    }
}
