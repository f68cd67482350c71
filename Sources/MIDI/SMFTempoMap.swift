/// Converts between ticks and seconds for a file's division and tempo changes.
///
/// Musical division: seconds grow piecewise linearly, each segment at the tempo in force (120 BPM,
/// 500,000 µs per quarter, until the first tempo event). SMPTE division: ticks are absolute time and
/// tempo events do not change it.
public struct TempoMap: Hashable, Sendable {
    public struct Segment: Hashable, Sendable {
        public var tick: Int
        public var microsecondsPerQuarter: UInt32
        /// Seconds from the start of the track to `tick`.
        public var seconds: Double

        public var beatsPerMinute: Double { 60_000_000 / Double(microsecondsPerQuarter) }
    }

    public static let defaultMicrosecondsPerQuarter: UInt32 = 500_000

    public let division: MIDIFile.Division
    /// Tempo segments in tick order; the first starts at tick 0. Empty for SMPTE division.
    public let segments: [Segment]

    /// Tempo changes from the given tracks. At equal ticks the last one read wins, as in a player.
    public init(tracks: [MIDITrack], division: MIDIFile.Division) {
        self.division = division
        guard case .ticksPerQuarter(let perQuarter) = division else {
            segments = []
            return
        }
        var changes: [(tick: Int, tempo: UInt32)] = []
        for track in tracks {
            for event in track.events {
                if case .meta(.tempo(let t)) = event.kind { changes.append((event.tick, t)) }
            }
        }
        // Stable by tick so that, for the same tick, a later track's tempo (or a later event) wins.
        let ordered = changes.enumerated().sorted { ($0.element.tick, $0.offset) < ($1.element.tick, $1.offset) }
        var segments = [Segment(tick: 0, microsecondsPerQuarter: Self.defaultMicrosecondsPerQuarter, seconds: 0)]
        let secondsPerTickPerMicro = 1 / (1_000_000 * Double(perQuarter))
        for (_, change) in ordered {
            let last = segments[segments.count - 1]
            if change.tick == last.tick {
                segments[segments.count - 1].microsecondsPerQuarter = change.tempo
                continue
            }
            let seconds = last.seconds + Double(change.tick - last.tick) * Double(last.microsecondsPerQuarter) * secondsPerTickPerMicro
            segments.append(Segment(tick: change.tick, microsecondsPerQuarter: change.tempo, seconds: seconds))
        }
        self.segments = segments
    }

    /// The map that governs a whole file: all tracks together for formats 0 and 1 (tempo normally sits
    /// in track 0, but players honour it anywhere); for format 2 use `init(tracks: [track], ...)` per song.
    public init(file: MIDIFile) {
        self.init(tracks: file.tracks, division: file.division)
    }

    public func seconds(atTick tick: Int) -> Double {
        switch division {
        case .smpte:
            return Double(tick) / division.smpteTicksPerSecond!
        case .ticksPerQuarter(let perQuarter):
            let segment = segments[index(where: { $0.tick <= tick })]
            return segment.seconds + Double(tick - segment.tick) * Double(segment.microsecondsPerQuarter) / (1_000_000 * Double(perQuarter))
        }
    }

    /// The (fractional) tick that sounds at `seconds`; the inverse of `seconds(atTick:)`.
    public func ticks(atSeconds seconds: Double) -> Double {
        switch division {
        case .smpte:
            return seconds * division.smpteTicksPerSecond!
        case .ticksPerQuarter(let perQuarter):
            let segment = segments[index(where: { $0.seconds <= seconds })]
            return Double(segment.tick) + (seconds - segment.seconds) * 1_000_000 * Double(perQuarter) / Double(segment.microsecondsPerQuarter)
        }
    }

    /// The last segment satisfying a predicate that holds for a prefix of the segments (binary search).
    private func index(where isBefore: (Segment) -> Bool) -> Int {
        var low = 0
        var high = segments.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if isBefore(segments[mid]) { low = mid } else { high = mid - 1 }
        }
        return low
    }
}

extension MIDIFile {
    /// Playing time in seconds up to the last end-of-track. Format 2 songs play one after another, each
    /// with its own tempo map, so their durations add up.
    public var durationInSeconds: Double {
        if format == .sequentialTracks {
            return tracks.reduce(0) { $0 + TempoMap(tracks: [$1], division: division).seconds(atTick: $1.endTick) }
        }
        let end = tracks.map(\.endTick).max() ?? 0
        return TempoMap(file: self).seconds(atTick: end)
    }

    /// The tick of the last end-of-track (the file's length in ticks; for format 2, the longest song).
    public var endTick: Int { tracks.map(\.endTick).max() ?? 0 }
}
