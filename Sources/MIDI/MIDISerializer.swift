extension MIDIMessage {
    /// Appends the message's wire bytes (complete status, no running status) to `bytes`.
    /// Sysex is framed with F0 ... F7; its payload is masked to 7 bits so a stray status byte inside
    /// it can never end the message early on the receiver's side.
    public func encode(into bytes: inout [UInt8]) {
        bytes.append(statusByte)
        switch self {
        case .noteOff(_, let a, let b), .noteOn(_, let a, let b), .polyPressure(_, let a, let b),
            .controlChange(_, let a, let b):
            bytes.append(a & 0x7F)
            bytes.append(b & 0x7F)
        case .programChange(_, let a), .channelPressure(_, let a), .timeCodeQuarterFrame(let a),
            .songSelect(let a):
            bytes.append(a & 0x7F)
        case .pitchBend(_, let v), .songPosition(let v):
            bytes.append(UInt8(v & 0x7F))
            bytes.append(UInt8((v >> 7) & 0x7F))
        case .sysex(let payload):
            for b in payload { bytes.append(b & 0x7F) }
            bytes.append(0xF7)
        case .tuneRequest, .clock, .start, .continue, .stop, .activeSensing, .reset:
            break
        }
    }

    /// The message's wire bytes.
    public var encoded: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(3)
        encode(into: &bytes)
        return bytes
    }

    /// The wire form of a message of at most three bytes, without allocating: what a real-time thread
    /// uses. Returns nil for sysex, which has no fixed size.
    public var shortEncoding: (count: Int, bytes: (UInt8, UInt8, UInt8))? {
        let s = statusByte
        switch self {
        case .noteOff(_, let a, let b), .noteOn(_, let a, let b), .polyPressure(_, let a, let b),
            .controlChange(_, let a, let b):
            return (3, (s, a & 0x7F, b & 0x7F))
        case .programChange(_, let a), .channelPressure(_, let a), .timeCodeQuarterFrame(let a),
            .songSelect(let a):
            return (2, (s, a & 0x7F, 0))
        case .pitchBend(_, let v), .songPosition(let v):
            return (3, (s, UInt8(v & 0x7F), UInt8((v >> 7) & 0x7F)))
        case .sysex:
            return nil
        case .tuneRequest, .clock, .start, .continue, .stop, .activeSensing, .reset:
            return (1, (s, 0, 0))
        }
    }
}
