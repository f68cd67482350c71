import MIDI
import PropertyBased

/// Generators of MIDI messages for the property tests.
enum MIDIGen {
    static let channel = Gen.uint8(in: 0...15)
    static let data = Gen.uint8(in: 0...127)
    static let fourteenBits = Gen.uint16(in: 0...16383)

    static let realtimeMessages: [MIDIMessage] = [.clock, .start, .continue, .stop, .activeSensing, .reset]
    static let realtime = Gen<MIDIMessage?>.element(of: realtimeMessages).map { $0! }

    /// Channel voice, system common and sysex: everything that is not realtime. Channel messages
    /// come from a few channels only, so running status gets used often.
    static let nonRealtime = Gen<MIDIMessage>.frequency(
        (4, zip(Gen.uint8(in: 0...2), data, data).map { MIDIMessage.noteOn(channel: $0, note: $1, velocity: $2) }),
        (3, zip(Gen.uint8(in: 0...2), data, data).map { MIDIMessage.noteOff(channel: $0, note: $1, velocity: $2) }),
        (1, zip(channel, data, data).map { MIDIMessage.polyPressure(channel: $0, note: $1, pressure: $2) }),
        (2, zip(channel, data, data).map { MIDIMessage.controlChange(channel: $0, controller: $1, value: $2) }),
        (1, zip(channel, data).map { MIDIMessage.programChange(channel: $0, program: $1) }),
        (1, zip(channel, data).map { MIDIMessage.channelPressure(channel: $0, pressure: $1) }),
        (1, zip(channel, fourteenBits).map { MIDIMessage.pitchBend(channel: $0, value: $1) }),
        (0.5, data.array(of: 0...40).map { MIDIMessage.sysex($0) }),
        (0.3, data.map { MIDIMessage.timeCodeQuarterFrame($0) }),
        (0.3, fourteenBits.map { MIDIMessage.songPosition($0) }),
        (0.3, data.map { MIDIMessage.songSelect($0) }),
        (0.3, Gen.always(MIDIMessage.tuneRequest)),
    )

    static let any = Gen<MIDIMessage>.frequency((9, nonRealtime), (1, realtime))

    /// Chunk sizes for splitting a byte stream, used cyclically.
    static let chunking = Gen.int(in: 1...17).array(of: 1...6)

    /// What a keyboard player sends: notes over a few keys and channels so that keys collide, pedal
    /// presses, and now and then an All Notes Off, All Sound Off, Reset All Controllers or system reset.
    static let performance = Gen<MIDIMessage>.frequency(
        (10, zip(Gen.uint8(in: 0...2), Gen.uint8(in: 60...65), Gen.uint8(in: 1...127)).map {
            MIDIMessage.noteOn(channel: $0, note: $1, velocity: $2)
        }),
        (4, zip(Gen.uint8(in: 0...2), Gen.uint8(in: 60...65)).map {
            MIDIMessage.noteOn(channel: $0, note: $1, velocity: 0)
        }),
        (6, zip(Gen.uint8(in: 0...2), Gen.uint8(in: 60...65), data).map {
            MIDIMessage.noteOff(channel: $0, note: $1, velocity: $2)
        }),
        (3, zip(Gen.uint8(in: 0...2), Gen<UInt8?>.element(of: [0, 63, 64, 127]).map { $0! }).map {
            MIDIMessage.controlChange(channel: $0, controller: ControllerNumber.sustainPedal, value: $1)
        }),
        (0.4, zip(Gen.uint8(in: 0...2), Gen<UInt8?>.element(of: [120, 121, 123, 124, 127, 7]).map { $0! }).map {
            MIDIMessage.controlChange(channel: $0, controller: $1, value: 0)
        }),
        (0.1, Gen.always(MIDIMessage.reset)),
        (0.5, zip(channel, data).map { MIDIMessage.programChange(channel: $0, program: $1) }),
    ).array(of: 0...120)
}
