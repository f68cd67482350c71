/// A note that is sounding on a channel.
public struct SoundingNote: Hashable, Sendable {
    public var channel: MIDIChannel
    public var note: UInt8

    public init(channel: MIDIChannel, note: UInt8) {
        self.channel = channel
        self.note = note
    }
}

/// Watches the messages sent to a synth and knows which notes it is sounding, so that whatever
/// happens (a stopped engine, a crash path, a port going away) they can be silenced: no stuck notes.
///
/// What counts as sounding:
/// - A key struck again before its release is counted: it keeps sounding until as many note-offs as
///   note-ons have come. That errs on the side of silencing — many synths stop both voices on the
///   first note-off, but one that does not would otherwise be left ringing. The count saturates at 255.
/// - A note-off (or note-on with velocity 0) for a key that is not down is ignored.
/// - Sustain pedal (CC64 >= 64 is down): a key released while the pedal is down keeps sounding until
///   the pedal comes up. Reset All Controllers (CC121) lifts the pedal, as it does on a synth.
/// - All Notes Off (CC123, and the mode messages CC124...127 that imply it) releases every key on the
///   channel, so with the pedal down they stay sounding, as the MIDI spec has it. All Sound Off (CC120)
///   silences the channel at once, sustained notes too. System reset (FF) silences every channel.
///
/// Real-time safe: storage is fixed-size and inline (a strike count per channel and key plus bitsets),
/// so `observe`, `isSounding`, `isSilent` and `silenceAll(_:)` neither allocate nor lock.
public struct NoteTracker: Sendable {
    /// Note-ons not yet matched by note-offs, per channel * 128 + key.
    private var strikes = InlineArray<2048, UInt8>(repeating: 0)
    /// Bit per channel and key: strikes > 0. Two words per channel.
    private var held = InlineArray<32, UInt64>(repeating: 0)
    /// Bit per channel and key: released while the pedal was down, still ringing.
    private var sustained = InlineArray<32, UInt64>(repeating: 0)
    private var pedalDown: UInt16 = 0
    /// Channels that had a note or a pedal press since the last `silenceAll`: they get pedal-up and
    /// All Notes Off when silencing, in case the synth holds something the tracker did not see.
    public private(set) var usedChannels: UInt16 = 0

    public init() {}

    public mutating func observe(_ message: MIDIMessage) {
        switch message {
        case .noteOn(let channel, let note, let velocity) where velocity > 0:
            strike(channel: channel & 0x0F, note: note & 0x7F)
        case .noteOn(let channel, let note, _), .noteOff(let channel, let note, _):
            release(channel: channel & 0x0F, note: note & 0x7F)
        case .controlChange(let channel, let controller, let value):
            control(channel: channel & 0x0F, controller: controller, value: value)
        case .reset:
            for channel in 0..<UInt8(16) { silence(channel: channel) }
            pedalDown = 0
        default:
            break
        }
    }

    public func isSounding(channel: MIDIChannel, note: UInt8) -> Bool {
        let (word, bit) = Self.position(channel & 0x0F, note & 0x7F)
        return (held[word] | sustained[word]) & bit != 0
    }

    /// Note-ons on this key still waiting for their note-off.
    public func strikeCount(channel: MIDIChannel, note: UInt8) -> Int {
        Int(strikes[Int(channel & 0x0F) << 7 | Int(note & 0x7F)])
    }

    public func isPedalDown(channel: MIDIChannel) -> Bool {
        pedalDown & (1 << UInt16(channel & 0x0F)) != 0
    }

    /// True while any key on `channel` sounds or its pedal is down.
    public func isSounding(channel: MIDIChannel) -> Bool {
        let channel = Int(channel & 0x0F)
        return held[channel * 2] | held[channel * 2 + 1] | sustained[channel * 2] | sustained[channel * 2 + 1] != 0
            || pedalDown & (1 << UInt16(channel)) != 0
    }

    public var isSilent: Bool {
        for word in 0..<32 where held[word] | sustained[word] != 0 { return false }
        return true
    }

    /// Calls `body` for every sounding note, by channel then key, without allocating.
    public func forEachSoundingNote(_ body: (SoundingNote) -> Void) {
        for channel in 0..<UInt8(16) {
            for half in 0..<2 {
                var bits = held[Int(channel) * 2 + half] | sustained[Int(channel) * 2 + half]
                while bits != 0 {
                    let note = UInt8(half * 64 + bits.trailingZeroBitCount)
                    body(SoundingNote(channel: channel, note: note))
                    bits &= bits - 1
                }
            }
        }
    }

    public var soundingNotes: [SoundingNote] {
        var notes: [SoundingNote] = []
        forEachSoundingNote { notes.append($0) }
        return notes
    }

    /// Emits what silences everything the tracker knows of, then forgets it all: one note-off per
    /// outstanding strike of every sounding key (one for a key held only by the pedal), then pedal up
    /// (CC64 0) and All Notes Off (CC123) on every channel that was used. Does not allocate.
    public mutating func silenceAll(_ emit: (MIDIMessage) -> Void) {
        forEachSoundingNote { sounding in
            let count = max(1, strikeCount(channel: sounding.channel, note: sounding.note))
            for _ in 0..<count {
                emit(.noteOff(channel: sounding.channel, note: sounding.note, velocity: 64))
            }
        }
        for channel in 0..<UInt8(16) where usedChannels & (1 << UInt16(channel)) != 0 {
            emit(.controlChange(channel: channel, controller: ControllerNumber.sustainPedal, value: 0))
            emit(.controlChange(channel: channel, controller: ControllerNumber.allNotesOff, value: 0))
        }
        self = NoteTracker()
    }

    /// The messages of `silenceAll(_:)` as an array.
    public mutating func silenceAll() -> [MIDIMessage] {
        var messages: [MIDIMessage] = []
        silenceAll { messages.append($0) }
        return messages
    }

    // MARK: - State changes

    private static func position(_ channel: UInt8, _ note: UInt8) -> (word: Int, bit: UInt64) {
        (Int(channel) * 2 + Int(note >> 6), 1 << UInt64(note & 63))
    }

    private mutating func strike(channel: UInt8, note: UInt8) {
        let index = Int(channel) << 7 | Int(note)
        if strikes[index] < UInt8.max { strikes[index] += 1 }
        let (word, bit) = Self.position(channel, note)
        held[word] |= bit
        usedChannels |= 1 << UInt16(channel)
    }

    private mutating func release(channel: UInt8, note: UInt8) {
        let index = Int(channel) << 7 | Int(note)
        guard strikes[index] > 0 else { return }
        strikes[index] -= 1
        guard strikes[index] == 0 else { return }
        let (word, bit) = Self.position(channel, note)
        held[word] &= ~bit
        if isPedalDown(channel: channel) { sustained[word] |= bit }
    }

    private mutating func control(channel: UInt8, controller: UInt8, value: UInt8) {
        switch controller {
        case ControllerNumber.sustainPedal:
            if value >= 64 {
                pedalDown |= 1 << UInt16(channel)
                usedChannels |= 1 << UInt16(channel)
            } else {
                liftPedal(channel: channel)
            }
        case ControllerNumber.resetAllControllers:
            liftPedal(channel: channel)
        case ControllerNumber.allSoundOff:
            silence(channel: channel)
        case ControllerNumber.allNotesOff, 124...127:
            releaseAll(channel: channel)
        default:
            break
        }
    }

    private mutating func liftPedal(channel: UInt8) {
        pedalDown &= ~(1 << UInt16(channel))
        sustained[Int(channel) * 2] = 0
        sustained[Int(channel) * 2 + 1] = 0
    }

    /// Every key on the channel released at once: what the pedal holds keeps ringing.
    private mutating func releaseAll(channel: UInt8) {
        let first = Int(channel) * 2
        if isPedalDown(channel: channel) {
            sustained[first] |= held[first]
            sustained[first + 1] |= held[first + 1]
        }
        held[first] = 0
        held[first + 1] = 0
        clearStrikes(channel: channel)
    }

    private mutating func silence(channel: UInt8) {
        let first = Int(channel) * 2
        held[first] = 0
        held[first + 1] = 0
        sustained[first] = 0
        sustained[first + 1] = 0
        clearStrikes(channel: channel)
    }

    private mutating func clearStrikes(channel: UInt8) {
        let base = Int(channel) << 7
        for note in 0..<128 { strikes[base + note] = 0 }
    }
}
