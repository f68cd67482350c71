import Files
import MIDI
import Synchronization

/// What was played and generated in a session, kept so it can be written as a Standard MIDI File at any
/// moment (SIGUSR1) and always at the end: a tempo track, one track for the player, one per part.
///
/// The engine thread records (`player`, `output`, `tempo`); another thread writes (`file`, `write`). The
/// lock is held only to append or to copy, never across I/O. Storage is reserved up front; a session longer
/// than that grows it now and then (amortized), which the engine thread tolerates better than losing notes.
public final class SessionRecorder: Sendable {
    public struct Event: Sendable, Equatable {
        public var frame: UInt64
        /// 0 = the player, 1 + k = part k.
        public var track: Int
        public var message: MIDIMessage
    }

    struct State {
        var events: [Event] = []
        var tempos: [(frame: UInt64, bpm: Double)] = []
        var firstFrame: UInt64? = nil
    }

    public let partNames: [String]
    /// Part index by output channel.
    let trackOfChannel: [Int?]
    let state: Mutex<State>

    public init(partNames: [String], partChannels: [MIDIChannel], reserve: Int = 1 << 16) {
        self.partNames = partNames
        var map = [Int?](repeating: nil, count: 16)
        for (k, c) in partChannels.enumerated() where map[Int(c & 15)] == nil { map[Int(c & 15)] = k }
        trackOfChannel = map
        var s = State()
        s.events.reserveCapacity(reserve)
        s.tempos.reserveCapacity(1024)
        state = Mutex(s)
    }

    /// A message the player sent (channel messages only).
    public func player(_ message: MIDIMessage, at frame: UInt64) {
        guard message.channel != nil else { return }
        append(Event(frame: frame, track: 0, message: message))
    }

    /// A message Sideman sent: kept on its part's track when its channel is a part's, else dropped (the
    /// thru echo is the player's own track).
    public func output(_ message: MIDIMessage, at frame: UInt64) {
        guard let c = message.channel, let k = trackOfChannel[Int(c)] else { return }
        append(Event(frame: frame, track: 1 + k, message: message))
    }

    /// The transport's tempo from `frame` on; a change under 0.01 bpm is not a change.
    public func tempo(_ bpm: Double, at frame: UInt64) {
        state.withLock { s in
            if let last = s.tempos.last, abs(last.bpm - bpm) < 0.01 { return }
            s.tempos.append((frame, bpm))
        }
    }

    private func append(_ event: Event) {
        state.withLock { s in
            s.firstFrame = min(s.firstFrame ?? event.frame, event.frame)
            s.events.append(event)
        }
    }

    public var eventCount: Int { state.withLock { $0.events.count } }

    /// The session as a format-1 file at 480 ticks per quarter: track 0 the tempo map, track 1 the player,
    /// then a track per part named after it. Time 0 is the first recorded event.
    public func file(sampleRate: Int) -> MIDIFile {
        let (events, tempos, first) = state.withLock { ($0.events, $0.tempos, $0.firstFrame ?? 0) }
        let ppq = 480
        let rate = Double(max(1, sampleRate))
        var segments: [(frame: UInt64, tick: Double, bpm: Double)] = []
        let initial = tempos.first(where: { $0.frame <= first })?.bpm ?? tempos.first?.bpm ?? 120
        segments.append((first, 0, tempos.last(where: { $0.frame <= first })?.bpm ?? initial))
        // In frame order whatever order they were recorded in, so each segment starts at or after the one
        // before it (the live clock is monotonic, but the file must not depend on that to be written).
        for t in tempos.sorted(by: { $0.frame < $1.frame }) where t.frame > first {
            let last = segments[segments.count - 1]
            let tick = last.tick + Double(t.frame - last.frame) / rate * last.bpm / 60 * Double(ppq)
            segments.append((t.frame, tick, t.bpm))
        }
        func tick(_ frame: UInt64) -> Int {
            let f = max(frame, first)
            let s = segments.last(where: { $0.frame <= f }) ?? segments[0]
            return Int((s.tick + Double(f - s.frame) / rate * s.bpm / 60 * Double(ppq)).rounded())
        }
        var tempoTrack = MIDITrack(events: segments.map { s in
            SMFEvent(tick: Int(s.tick.rounded()), .tempo(microsecondsPerQuarter: UInt32((60_000_000 / s.bpm).rounded())))
        })
        tempoTrack.events.insert(SMFEvent(tick: 0, .text(.trackName, Array("tempo".utf8))), at: 0)
        var tracks = [tempoTrack]
        let names = ["player"] + partNames
        for (index, name) in names.enumerated() {
            var track = MIDITrack(events: [SMFEvent(tick: 0, .text(.trackName, Array(name.utf8)))])
            // Frame order, and arrival order within a frame (a note-off before the same pitch's next note-on).
            let mine = events.enumerated().filter { $0.element.track == index }
                .sorted { ($0.element.frame, $0.offset) < ($1.element.frame, $1.offset) }
            for (_, e) in mine { track.events.append(SMFEvent(tick: tick(e.frame), e.message)) }
            tracks.append(track)
        }
        return MIDIFile(format: .simultaneousTracks, division: .ticksPerQuarter(UInt16(ppq)), tracks: tracks)
    }

    /// Writes the file whole to a temporary name beside `path`, then renames it: a reader never sees half.
    public func write(to path: String, sampleRate: Int) throws(FileProblem) {
        try OutputFile.write(MIDIFileWriter.write(file(sampleRate: sampleRate)), to: path)
    }
}
