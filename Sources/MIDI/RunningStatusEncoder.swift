/// Writes messages the way a thrifty sender does: a channel message whose status equals the previous
/// channel status is sent without it (running status).
///
/// Realtime messages leave running status alone, as receivers allow; system common messages and sysex
/// cancel it, so the next channel message carries its status again. Standard MIDI File writers call
/// `cancelRunningStatus()` after meta and sysex events, which cancel running status in files too.
public struct RunningStatusEncoder: Sendable {
    /// The channel status a receiver would reuse now, or nil when the next status must be written.
    public private(set) var runningStatus: UInt8?

    public init() {}

    public mutating func cancelRunningStatus() {
        runningStatus = nil
    }

    /// Appends the message's bytes, omitting its status when running status allows.
    public mutating func encode(_ message: MIDIMessage, into bytes: inout [UInt8]) {
        if message.isRealtime {
            bytes.append(message.statusByte)
            return
        }
        guard message.channel != nil else {
            runningStatus = nil
            message.encode(into: &bytes)
            return
        }
        let status = message.statusByte
        guard status == runningStatus else {
            runningStatus = status
            message.encode(into: &bytes)
            return
        }
        // Same wire bytes as a full encoding, minus the leading status byte.
        if let short = message.shortEncoding {
            if short.count >= 2 { bytes.append(short.bytes.1) }
            if short.count >= 3 { bytes.append(short.bytes.2) }
        }
    }
}

/// The wire bytes of `messages` with running status applied from a cancelled state.
public func encodeWithRunningStatus<S: Sequence>(_ messages: S) -> [UInt8] where S.Element == MIDIMessage {
    var encoder = RunningStatusEncoder()
    var bytes: [UInt8] = []
    bytes.reserveCapacity(messages.underestimatedCount * 3)
    for message in messages { encoder.encode(message, into: &bytes) }
    return bytes
}
