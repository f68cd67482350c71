/// Turns the raw bytes of a MIDI port into messages, however the bytes are chunked.
///
/// Rules, in the order a receiver meets them:
/// - Realtime bytes (F8...FF) may sit between any two bytes, even inside sysex or between the data
///   bytes of a channel message; they are emitted at once and leave the message in progress untouched.
///   The undefined realtime bytes F9 and FD are ignored the same way.
/// - Channel messages set running status: further data bytes reuse the last channel status.
///   System common messages (F1...F7, also the undefined F4/F5) cancel it.
/// - A status byte that arrives before a message's data bytes are complete drops the partial message.
/// - Data bytes with no status to belong to are dropped and counted in `droppedDataBytes`.
/// - Sysex may be split over any number of `parse` calls. It is discarded, and counted in
///   `discardedSysex`, when a non-realtime status byte other than F7 interrupts it (that byte then starts
///   the next message) or when its payload would exceed `maxSysexLength` (the rest of it is skipped
///   until the next status byte).
/// - F7 outside a sysex, F4 and F5 produce nothing; as system common bytes they still cancel running
///   status, so data bytes after them are dropped until a new status arrives.
/// - A note-on with velocity 0 stays a note-on; consumers ask `isNoteOff`.
///
/// Memory is bounded: the sysex buffer is reserved to the cap once, in `init`, and never grows.
/// Channel, system common and realtime messages are emitted without allocating; a completed sysex
/// allocates its payload array once, when it is emitted.
public struct MIDIStreamParser: Sendable {
    /// The longest sysex payload (bytes between F0 and F7) that is delivered; longer ones are discarded.
    public let maxSysexLength: Int

    /// Data bytes that arrived with no status byte to give them meaning.
    public private(set) var droppedDataBytes: Int = 0
    /// Sysex messages thrown away: over the length cap, or cut short by a status byte.
    public private(set) var discardedSysex: Int = 0

    /// Status whose data bytes are being collected; 0 when none (data bytes are then stray).
    /// For channel messages it stays set after the message completes: that is running status.
    private var status: UInt8 = 0
    private var dataNeeded: Int = 0
    private var dataCount: Int = 0
    private var data1: UInt8 = 0

    private var inSysex = false
    /// The sysex in progress passed the cap: its remaining bytes are skipped.
    private var sysexOverflowed = false
    private var sysexBuffer: [UInt8]

    public init(maxSysexLength: Int = 65536) {
        self.maxSysexLength = max(0, maxSysexLength)
        sysexBuffer = []
        sysexBuffer.reserveCapacity(self.maxSysexLength)
    }

    /// Storage held for sysex payloads. It is fixed in `init` (at least `maxSysexLength`, rounded up by
    /// the allocator) and stays the same whatever the input: tests watch it to prove memory is bounded.
    public var sysexCapacity: Int { sysexBuffer.capacity }

    /// Bytes of the sysex in progress that are held now; never more than `maxSysexLength`.
    public var pendingSysexLength: Int { sysexBuffer.count }

    /// Forgets the message in progress, running status and the counters: the parser is as new, with its
    /// sysex storage kept.
    public mutating func reset() {
        status = 0
        dataNeeded = 0
        dataCount = 0
        inSysex = false
        sysexOverflowed = false
        sysexBuffer.removeAll(keepingCapacity: true)
        droppedDataBytes = 0
        discardedSysex = 0
    }

    public mutating func parse(_ bytes: UnsafeRawBufferPointer, emit: (MIDIMessage) -> Void) {
        for byte in bytes { consume(byte, emit: emit) }
    }

    public mutating func parse<S: Sequence>(_ bytes: S, emit: (MIDIMessage) -> Void) where S.Element == UInt8 {
        for byte in bytes { consume(byte, emit: emit) }
    }

    /// Feeds one byte.
    @inline(__always)
    public mutating func consume(_ byte: UInt8, emit: (MIDIMessage) -> Void) {
        if byte >= 0xF8 {
            // Realtime: nothing else is touched, so it can never break the message around it.
            if let message = MIDIMessage(status: byte) { emit(message) }
            return
        }
        if byte < 0x80 {
            consumeData(byte, emit: emit)
            return
        }
        if inSysex {
            if byte == 0xF7 {
                finishSysex(emit: emit)
                return
            }
            abandonSysex()
        }
        startStatus(byte, emit: emit)
    }

    @inline(__always)
    private mutating func consumeData(_ byte: UInt8, emit: (MIDIMessage) -> Void) {
        if inSysex {
            if sysexOverflowed { return }
            if sysexBuffer.count < maxSysexLength {
                sysexBuffer.append(byte)
            } else {
                sysexOverflowed = true
                discardedSysex += 1
                sysexBuffer.removeAll(keepingCapacity: true)
            }
            return
        }
        guard status != 0 else {
            droppedDataBytes += 1
            return
        }
        if dataCount == 0 && dataNeeded == 2 {
            data1 = byte
            dataCount = 1
            return
        }
        let message: MIDIMessage?
        if dataNeeded == 2 {
            message = MIDIMessage(status: status, data1: data1, data2: byte)
        } else {
            message = MIDIMessage(status: status, data1: byte)
        }
        dataCount = 0
        // Running status applies to channel messages only; system common needs its status again.
        if status >= 0xF0 { status = 0 }
        if let message { emit(message) }
    }

    private mutating func startStatus(_ byte: UInt8, emit: (MIDIMessage) -> Void) {
        dataCount = 0
        switch byte {
        case 0x80...0xEF, 0xF1...0xF3:
            status = byte
            dataNeeded = MIDIMessage.dataLength(forStatus: byte) ?? 0
        case 0xF0:
            status = 0
            inSysex = true
            sysexOverflowed = false
            sysexBuffer.removeAll(keepingCapacity: true)
        case 0xF6:
            status = 0
            emit(.tuneRequest)
        default:
            // F4, F5 (undefined) and a lone F7: no message, but they end running status.
            status = 0
        }
    }

    private mutating func finishSysex(emit: (MIDIMessage) -> Void) {
        inSysex = false
        if sysexOverflowed {
            sysexOverflowed = false
            return
        }
        // Copied through a raw pointer: `Array(sysexBuffer)` would share the storage, and clearing the
        // buffer afterwards would then allocate a fresh cap-sized one on every sysex.
        let payload = sysexBuffer.withUnsafeBufferPointer { Array($0) }
        sysexBuffer.removeAll(keepingCapacity: true)
        emit(.sysex(payload))
    }

    private mutating func abandonSysex() {
        if !sysexOverflowed { discardedSysex += 1 }
        inSysex = false
        sysexOverflowed = false
        sysexBuffer.removeAll(keepingCapacity: true)
    }
}
