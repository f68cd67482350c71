/// Writes Standard MIDI Files of format 0 and 1 (and 2, whose layout is the same as 1).
///
/// Channel messages use running status (`RunningStatusEncoder`), the way nearly every sequencer writes
/// them; meta and sysex events restate the status afterwards, because the standard says they cancel it and strict readers
/// (mido among them) do reset it. Every track ends with exactly one end-of-track event, placed at the
/// latest of its last event and any end-of-track the caller put in.
public enum MIDIFileWriter {
    /// The file's bytes. A format-0 file given several tracks gets them merged into one, in time order.
    /// Ticks must lie in 0...Int.max and no gap between consecutive events may exceed
    /// `VariableLengthQuantity.maximum` ticks (the file format cannot express it).
    public static func write(_ file: MIDIFile) -> [UInt8] {
        var tracks = file.tracks
        if file.format == .singleTrack && tracks.count != 1 {
            tracks = [merged(tracks)]
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(14 + tracks.reduce(0) { $0 + 8 + $1.events.count * 4 })
        bytes.append(contentsOf: Array("MThd".utf8))
        appendUInt32(6, to: &bytes)
        appendUInt16(file.format.rawValue, to: &bytes)
        appendUInt16(UInt16(clamping: tracks.count), to: &bytes)
        switch file.division {
        case .ticksPerQuarter(let ticks):
            appendUInt16(ticks & 0x7FFF, to: &bytes)
        case .smpte(let fps, let perFrame):
            bytes.append(UInt8(bitPattern: -Int8(clamping: fps)))
            bytes.append(perFrame)
        }
        for track in tracks {
            writeTrack(track, into: &bytes)
        }
        return bytes
    }

    static func writeTrack(_ track: MIDITrack, into bytes: inout [UInt8]) {
        bytes.append(contentsOf: Array("MTrk".utf8))
        let lengthOffset = bytes.count
        appendUInt32(0, to: &bytes)
        let dataStart = bytes.count

        // Stable sort: events at the same tick keep the order the caller gave them.
        let ordered = track.events.enumerated().sorted {
            ($0.element.tick, $0.offset) < ($1.element.tick, $1.offset)
        }.map(\.element)
        var previousTick = 0
        var endTick = 0
        var encoder = RunningStatusEncoder()
        for event in ordered {
            let tick = max(0, event.tick)
            if case .meta(.endOfTrack) = event.kind {
                endTick = max(endTick, tick)
                continue
            }
            appendDelta(tick - previousTick, to: &bytes)
            previousTick = tick
            switch event.kind {
            case .channel(let message) where message.channel != nil:
                encoder.encode(message, into: &bytes)
            case .channel(let message):
                writeSystemMessage(message, into: &bytes)
                encoder.cancelRunningStatus()
            case .meta(let meta):
                writeMeta(meta, into: &bytes)
                encoder.cancelRunningStatus()
            case .sysex(let sysex):
                bytes.append(sysex.form.rawValue)
                appendLength(sysex.bytes.count, to: &bytes)
                bytes.append(contentsOf: sysex.bytes)
                encoder.cancelRunningStatus()
            }
        }
        appendDelta(max(endTick, previousTick) - previousTick, to: &bytes)
        writeMeta(.endOfTrack, into: &bytes)

        let length = UInt32(bytes.count - dataStart)
        bytes[lengthOffset] = UInt8(length >> 24)
        bytes[lengthOffset + 1] = UInt8((length >> 16) & 0xFF)
        bytes[lengthOffset + 2] = UInt8((length >> 8) & 0xFF)
        bytes[lengthOffset + 3] = UInt8(length & 0xFF)
    }

    /// A system message has no place among a track's channel events: a complete sysex goes in the F0
    /// form, anything else is escaped with F7 so that it is sent as it is.
    private static func writeSystemMessage(_ message: MIDIMessage, into bytes: inout [UInt8]) {
        var encoded: [UInt8] = []
        message.encode(into: &encoded)
        if case .sysex = message {
            bytes.append(0xF0)
            appendLength(encoded.count - 1, to: &bytes)
            bytes.append(contentsOf: encoded.dropFirst())
        } else {
            bytes.append(0xF7)
            appendLength(encoded.count, to: &bytes)
            bytes.append(contentsOf: encoded)
        }
    }

    private static func writeMeta(_ meta: MetaEvent, into bytes: inout [UInt8]) {
        let data = meta.data
        bytes.append(0xFF)
        bytes.append(meta.type)
        appendLength(data.count, to: &bytes)
        bytes.append(contentsOf: data)
    }

    private static func appendDelta(_ delta: Int, to bytes: inout [UInt8]) {
        precondition(delta <= Int(VariableLengthQuantity.maximum), "gap of \(delta) ticks between events cannot be written to a MIDI file")
        VariableLengthQuantity.encode(UInt32(delta), into: &bytes)
    }

    private static func appendLength(_ length: Int, to bytes: inout [UInt8]) {
        precondition(length <= Int(VariableLengthQuantity.maximum), "event of \(length) bytes is too long for a MIDI file")
        VariableLengthQuantity.encode(UInt32(length), into: &bytes)
    }

    private static func appendUInt32(_ value: UInt32, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)])
    }

    private static func appendUInt16(_ value: UInt16, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: [UInt8(value >> 8), UInt8(value & 0xFF)])
    }

    /// All tracks' events in one track, ordered by tick (ties keep track order), ending at the latest end.
    public static func merged(_ tracks: [MIDITrack]) -> MIDITrack {
        var events: [SMFEvent] = []
        var endTick = 0
        for track in tracks {
            for event in track.events {
                if case .meta(.endOfTrack) = event.kind { endTick = max(endTick, event.tick) } else { events.append(event) }
            }
        }
        let ordered = events.enumerated().sorted { ($0.element.tick, $0.offset) < ($1.element.tick, $1.offset) }.map(\.element)
        let end = max(endTick, ordered.last?.tick ?? 0)
        return MIDITrack(events: ordered + [SMFEvent(tick: end, .meta(.endOfTrack))])
    }
}
