import MIDI

/// A message the engine wants played: on output port `port` (an index into the client's outputs) at
/// absolute frame `frame`.
public struct ScheduledMessage: Hashable, Sendable {
    public var frame: UInt64
    public var port: Int
    public var message: MIDIMessage

    public init(frame: UInt64, port: Int, message: MIDIMessage) {
        self.frame = frame
        self.port = port
        self.message = message
    }
}

/// What the engine knows about the clock when it is called: the cycle the backend is in now.
public struct EngineClock: Sendable {
    /// First frame of the most recent cycle.
    public var cycleStart: UInt64
    /// Frames per cycle (the JACK period).
    public var cycleLength: Int
    public var sampleRate: Int

    public init(cycleStart: UInt64, cycleLength: Int, sampleRate: Int) {
        self.cycleStart = cycleStart
        self.cycleLength = cycleLength
        self.sampleRate = sampleRate
    }

    /// The earliest frame an event decided now can still be written at exactly: the cycle after the
    /// one whose input is being handled.
    public var nextWritable: UInt64 { cycleStart + UInt64(cycleLength) }
}

/// The seam where the musical engine plugs into the daemon. Called on the engine thread once per
/// backend cycle (and when input arrives), never concurrently; it may keep any state it likes.
/// Silencing, panic and note tracking are the daemon's job, not the engine's.
public protocol PerformanceEngine: Sendable {
    /// `input`: the player's events since the last call, with absolute frames, oldest first.
    /// Append what to play to `output` (any order: the daemon sorts and schedules).
    mutating func process(_ input: [TimedMIDIMessage], clock: EngineClock, output: inout [ScheduledMessage])
    /// The tempo the engine keeps, in quarter-note bpm, when it keeps one (a session recording's tempo map).
    var tempoBPM: Double? { get }
    /// What a synth newly connected to output `port` must hear before the music: each part's bank and
    /// program there. The daemon sends it on start and whenever a destination connects.
    func forEachSetupMessage(port: Int, _ body: (MIDIMessage) -> Void)
    /// Takes over from `old`, the engine a reload replaces, at `frame`: carries on what it can (the same
    /// parts, the grid) and returns the messages that end what it does not. Nil when it cannot take over
    /// anything; the daemon then silences everything the old engine sounded.
    mutating func takeOver(from old: any PerformanceEngine, at frame: UInt64) -> [ScheduledMessage]?
}

extension PerformanceEngine {
    public var tempoBPM: Double? { nil }
    public func forEachSetupMessage(port: Int, _ body: (MIDIMessage) -> Void) {}
    public mutating func takeOver(from old: any PerformanceEngine, at frame: UInt64) -> [ScheduledMessage]? { nil }
}

/// The engine until the musical one lands: MIDI thru, optionally moved to one channel and transposed.
/// Every event leaves exactly one period after it arrived, at the same offset: a fixed, jitter-free
/// latency of one period on top of JACK's own.
public struct ThruEngine: PerformanceEngine {
    /// False: the player's notes are not echoed (a preset whose parts do all the playing).
    public var enabled = true
    /// The player's channel (0...15); channel messages on other channels are not echoed. nil: all.
    public var inputChannel: MIDIChannel?
    /// Output channel (0...15), or nil to keep each event's channel.
    public var channel: MIDIChannel?
    /// Semitones added to notes; notes pushed outside 0...127 are dropped.
    public var transpose = 0
    /// Keys not echoed (before transposing): the chord hand's, when it only names the chord.
    public var silentKeys = PitchSet()

    public init(
        enabled: Bool = true, inputChannel: MIDIChannel? = nil, channel: MIDIChannel? = nil, transpose: Int = 0,
        silentKeys: PitchSet = PitchSet()
    ) {
        self.enabled = enabled
        self.inputChannel = inputChannel
        self.channel = channel
        self.transpose = transpose
        self.silentKeys = silentKeys
    }

    /// The thru a preset asks for: its `thru` section, on the listener's channel, the chord hand left out
    /// when `thru.chord_hand` is false.
    public init(preset: Preset) {
        self.init(
            enabled: preset.thru.enabled, inputChannel: preset.listener.inputChannel, channel: preset.thru.channel,
            transpose: preset.thru.transpose,
            silentKeys: preset.thru.chordHand ? PitchSet() : KeyboardSplit(preset.listener.chordInput).chordHandOnly)
    }

    public mutating func process(_ input: [TimedMIDIMessage], clock: EngineClock, output: inout [ScheduledMessage]) {
        guard enabled else { return }
        for event in input {
            guard let message = mapped(event.message) else { continue }
            output.append(ScheduledMessage(frame: event.time + UInt64(clock.cycleLength), port: 0, message: message))
        }
    }

    public func mapped(_ message: MIDIMessage) -> MIDIMessage? {
        if let inputChannel, let channel = message.channel, channel != inputChannel { return nil }
        var result = message
        if let channel, message.channel != nil { result = result.onChannel(channel) }
        switch result {
        case .noteOn(_, let n, _), .noteOff(_, let n, _), .polyPressure(_, let n, _):
            if silentKeys.contains(n & 0x7F) { return nil }
        default:
            break
        }
        switch result {
        case .noteOn(let c, let n, let v): return shifted(n).map { .noteOn(channel: c, note: $0, velocity: v) }
        case .noteOff(let c, let n, let v): return shifted(n).map { .noteOff(channel: c, note: $0, velocity: v) }
        case .polyPressure(let c, let n, let p): return shifted(n).map { .polyPressure(channel: c, note: $0, pressure: p) }
        default: return result
        }
    }

    private func shifted(_ note: UInt8) -> UInt8? {
        let moved = Int(note) + transpose
        return (0...127).contains(moved) ? UInt8(moved) : nil
    }
}
