import TestSupport
import Testing

@testable import MIDI

/// Seeded so a failing case can be replayed from the seed in its message.
typealias SeededGenerator = SplitMix64

/// Random but valid files holding every kind of event the model has.
enum RandomMIDIFiles {
    static func message(_ rng: inout SeededGenerator) -> MIDIMessage {
        let c = UInt8.random(in: 0...15, using: &rng)
        let a = UInt8.random(in: 0...127, using: &rng)
        let b = UInt8.random(in: 0...127, using: &rng)
        switch Int.random(in: 0...6, using: &rng) {
        case 0: return .noteOff(channel: c, note: a, velocity: b)
        case 1: return .noteOn(channel: c, note: a, velocity: b)
        case 2: return .polyPressure(channel: c, note: a, pressure: b)
        case 3: return .controlChange(channel: c, controller: a, value: b)
        case 4: return .programChange(channel: c, program: a)
        case 5: return .channelPressure(channel: c, pressure: a)
        default: return .pitchBend(channel: c, value: UInt16.random(in: 0...16383, using: &rng))
        }
    }

    static func bytes(_ rng: inout SeededGenerator, count: ClosedRange<Int>) -> [UInt8] {
        (0..<Int.random(in: count, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    static func meta(_ rng: inout SeededGenerator) -> MetaEvent {
        switch Int.random(in: 0...11, using: &rng) {
        case 0: return .sequenceNumber(Bool.random(using: &rng) ? nil : UInt16.random(in: 0...UInt16.max, using: &rng))
        case 1: return .text(MetaEvent.TextKind.allCases.randomElement(using: &rng)!, bytes(&rng, count: 0...40))
        case 2: return .channelPrefix(UInt8.random(in: 0...15, using: &rng))
        case 3: return .port(UInt8.random(in: 0...255, using: &rng))
        case 4: return .tempo(microsecondsPerQuarter: UInt32.random(in: 1...0xFF_FFFF, using: &rng))
        case 5:
            return .smpteOffset(
                hours: UInt8.random(in: 0...23, using: &rng), minutes: UInt8.random(in: 0...59, using: &rng),
                seconds: UInt8.random(in: 0...59, using: &rng), frames: UInt8.random(in: 0...29, using: &rng),
                fractionalFrames: UInt8.random(in: 0...99, using: &rng))
        case 6:
            return .timeSignature(
                numerator: UInt8.random(in: 1...32, using: &rng), denominatorPower: UInt8.random(in: 0...6, using: &rng),
                clocksPerClick: UInt8.random(in: 0...255, using: &rng), thirtySecondsPerQuarter: UInt8.random(in: 0...255, using: &rng))
        case 7: return .keySignature(sharps: Int8.random(in: -7...7, using: &rng), minor: Bool.random(using: &rng))
        case 8: return .sequencerSpecific(bytes(&rng, count: 0...20))
        case 9: return .unknown(type: [0x0A, 0x0F, 0x30, 0x4B, 0x60, 0x7E].randomElement(using: &rng)!, data: bytes(&rng, count: 0...20))
        default: return .text(.trackName, Array("Track \(UInt8.random(in: 0...99, using: &rng))".utf8))
        }
    }

    static func event(_ rng: inout SeededGenerator, tick: Int) -> SMFEvent {
        switch Int.random(in: 0...9, using: &rng) {
        case 0...5: return SMFEvent(tick: tick, .channel(message(&rng)))
        case 6...7: return SMFEvent(tick: tick, .meta(meta(&rng)))
        default:
            let form: SysexEvent.Form = Bool.random(using: &rng) ? .start : .escape
            return SMFEvent(tick: tick, .sysex(SysexEvent(form: form, bytes: bytes(&rng, count: 0...30))))
        }
    }

    static func track(_ rng: inout SeededGenerator, events: ClosedRange<Int>) -> MIDITrack {
        var tick = 0
        var list: [SMFEvent] = []
        for _ in 0..<Int.random(in: events, using: &rng) {
            // Mostly small gaps, sometimes none, now and then one that needs all four VLQ bytes.
            switch Int.random(in: 0...19, using: &rng) {
            case 0...4: break
            case 5: tick += Int.random(in: 0x20_0000...0x0FFF_FFFF, using: &rng)
            default: tick += Int.random(in: 1...1000, using: &rng)
            }
            list.append(event(&rng, tick: tick))
        }
        list.append(SMFEvent(tick: tick + Int.random(in: 0...500, using: &rng), .meta(.endOfTrack)))
        return MIDITrack(events: list)
    }

    static func file(seed: UInt64, format: MIDIFile.Format) -> MIDIFile {
        var rng = SeededGenerator(seed: seed)
        let division: MIDIFile.Division =
            Int.random(in: 0...4, using: &rng) == 0
            ? .smpte(framesPerSecond: [24, 25, 29, 30].randomElement(using: &rng)!, ticksPerFrame: UInt8.random(in: 1...255, using: &rng))
            : .ticksPerQuarter(UInt16.random(in: 1...0x7FFF, using: &rng))
        let count = format == .singleTrack ? 1 : Int.random(in: 1...5, using: &rng)
        let tracks = (0..<count).map { _ in track(&rng, events: 0...60) }
        return MIDIFile(format: format, division: division, tracks: tracks)
    }
}
