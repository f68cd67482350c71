/// A Standard MIDI File in memory: the header's format and division, and tracks of events at absolute
/// tick times. Values only; `MIDIFileReader` and `MIDIFileWriter` turn it into bytes and back.
public struct MIDIFile: Hashable, Sendable {
    public enum Format: UInt16, Hashable, Sendable {
        /// One track holding every channel.
        case singleTrack = 0
        /// Tracks played together; tempo and meter conventionally live in the first.
        case simultaneousTracks = 1
        /// Independent patterns played one after another, each with its own tempo.
        case sequentialTracks = 2
    }

    public enum Division: Hashable, Sendable {
        /// Musical time: the tempo map turns ticks into seconds.
        case ticksPerQuarter(UInt16)
        /// Absolute time: `framesPerSecond` is 24, 25, 29 (meaning 29.97 drop-frame) or 30.
        case smpte(framesPerSecond: UInt8, ticksPerFrame: UInt8)

        /// Ticks in one second for SMPTE division, nil for musical division.
        public var smpteTicksPerSecond: Double? {
            guard case .smpte(let fps, let perFrame) = self else { return nil }
            let frames = fps == 29 ? 30_000.0 / 1_001.0 : Double(fps)
            return frames * Double(perFrame)
        }
    }

    public var format: Format
    public var division: Division
    public var tracks: [MIDITrack]

    public init(format: Format, division: Division, tracks: [MIDITrack]) {
        self.format = format
        self.division = division
        self.tracks = tracks
    }
}

/// One MTrk chunk. Events are in time order; the last is normally the end-of-track meta event, whose
/// tick is the track's length (it may lie after the last note).
public struct MIDITrack: Hashable, Sendable {
    public var events: [SMFEvent]

    public init(events: [SMFEvent] = []) {
        self.events = events
    }

    /// The first track-name meta event, decoded.
    public var name: String? {
        for event in events {
            if case .meta(.text(.trackName, let bytes)) = event.kind { return MetaEvent.decodeText(bytes) }
        }
        return nil
    }

    /// The tick at which the track ends: its end-of-track event, or its last event.
    public var endTick: Int { events.last?.tick ?? 0 }
}

/// An event at an absolute tick in its track.
public struct SMFEvent: Hashable, Sendable {
    public var tick: Int
    public var kind: Kind

    public enum Kind: Hashable, Sendable {
        /// A channel voice message (80...EF status).
        case channel(MIDIMessage)
        case meta(MetaEvent)
        case sysex(SysexEvent)
    }

    public init(tick: Int, _ kind: Kind) {
        self.tick = tick
        self.kind = kind
    }

    public init(tick: Int, _ message: MIDIMessage) {
        self.init(tick: tick, .channel(message))
    }

    public init(tick: Int, _ meta: MetaEvent) {
        self.init(tick: tick, .meta(meta))
    }

    public var message: MIDIMessage? {
        if case .channel(let m) = kind { return m }
        return nil
    }
}

/// A system-exclusive event as the file stores it. `bytes` are exactly the bytes after the length:
/// for the F0 form they are what follows F0 on the wire (normally ending in F7); the F7 form "escapes"
/// arbitrary bytes (a sysex continuation packet, or realtime/common messages) to be sent as they are.
public struct SysexEvent: Hashable, Sendable {
    public enum Form: UInt8, Hashable, Sendable {
        case start = 0xF0
        case escape = 0xF7
    }

    public var form: Form
    public var bytes: [UInt8]

    public init(form: Form, bytes: [UInt8]) {
        self.form = form
        self.bytes = bytes
    }

    /// A complete F0 ... F7 message in one event, as a port message; nil for packets and escapes.
    public var message: MIDIMessage? {
        guard form == .start, let last = bytes.last, last == 0xF7 else { return nil }
        let payload = bytes.dropLast()
        guard payload.allSatisfy({ $0 < 0x80 }) else { return nil }
        return .sysex(Array(payload))
    }
}
