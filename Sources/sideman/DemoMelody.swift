import MIDI

/// The demo's built-in tune: eight bars of a G major air in 4/4 that comes home to the tonic and then
/// rests, so a continuation has a finished phrase to answer.
enum DemoMelody {
    static let ticksPerQuarter = 480
    static let beatsPerMinute = 100.0

    /// (MIDI pitch, length in quarter notes), bar by bar.
    static let bars: [[(pitch: UInt8, beats: Double)]] = [
        [(62, 1), (67, 1), (71, 1), (67, 1)],
        [(69, 1), (71, 0.5), (69, 0.5), (67, 1), (64, 1)],
        [(62, 1), (67, 1), (71, 1), (74, 1)],
        [(72, 1), (71, 1), (69, 2)],
        [(71, 1), (74, 1), (76, 1), (74, 1)],
        [(71, 1), (67, 0.5), (69, 0.5), (71, 1), (67, 1)],
        [(64, 1), (69, 1), (67, 1), (66, 1)],
        [(67, 3)],
    ]

    /// One track on channel 1 (flute, GM 74), with tempo, meter and key; downbeats a little louder.
    static var file: MIDIFile {
        var events: [SMFEvent] = [
            SMFEvent(tick: 0, .trackName("Melody")),
            SMFEvent(tick: 0, .tempo(beatsPerMinute: beatsPerMinute)),
            SMFEvent(tick: 0, .timeSignature(4, 4)),
            SMFEvent(tick: 0, .keySignature(sharps: 1, minor: false)),
            SMFEvent(tick: 0, .programChange(channel: 0, program: 73)),
        ]
        let barTicks = 4 * ticksPerQuarter
        for (index, bar) in bars.enumerated() {
            var tick = index * barTicks
            for note in bar {
                let length = Int(note.beats * Double(ticksPerQuarter))
                let velocity: UInt8 = tick % barTicks == 0 ? 96 : 80
                // A small gap before the next note keeps repeated pitches articulated.
                events.append(SMFEvent(tick: tick, .noteOn(channel: 0, note: note.pitch, velocity: velocity)))
                events.append(SMFEvent(tick: tick + length - ticksPerQuarter / 16, .noteOff(channel: 0, note: note.pitch, velocity: 0)))
                tick += length
            }
        }
        events.append(SMFEvent(tick: bars.count * barTicks, .endOfTrack))
        return MIDIFile(format: .singleTrack, division: .ticksPerQuarter(UInt16(ticksPerQuarter)), tracks: [MIDITrack(events: events)])
    }
}
