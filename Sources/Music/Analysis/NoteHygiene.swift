/// Slips a listener hears as mistakes rather than style: notes struck and taken back at once (shorter
/// than 30 ms), and flams (the same pitch struck twice in one part within 30 ms). Counted per part: a
/// doubling by another instrument is not a flam.
public struct NoteHygiene: Sendable, Equatable {
    public static let threshold = 0.030
    public var notes = 0
    public var short = 0
    public var flams = 0

    public init() {}

    public init(_ parts: [[TimedNote]]) {
        for part in parts {
            notes += part.count
            short += part.filter { $0.duration < Self.threshold }.count
            let byPitch = part.sorted { ($0.pitch, $0.start) < ($1.pitch, $1.start) }
            for (a, b) in zip(byPitch, byPitch.dropFirst()) where a.pitch == b.pitch && b.start - a.start < Self.threshold {
                flams += 1
            }
        }
    }

    public var shortShare: Double? { notes == 0 ? nil : Double(short) / Double(notes) }
    public var flamsPerThousand: Double? { notes == 0 ? nil : Double(flams) * 1000 / Double(notes) }

    public static func + (a: Self, b: Self) -> Self {
        var sum = Self()
        sum.notes = a.notes + b.notes
        sum.short = a.short + b.short
        sum.flams = a.flams + b.flams
        return sum
    }
}

/// How far the band starts from the player's grid: in the bar of the band's first note, the largest
/// distance of an onset from its nearest 16th step, in milliseconds (one value per song).
public struct FirstBarTiming: Sendable, Equatable {
    public var songs = 0
    public var offsetSum = 0.0
    public var worst = 0.0

    public init() {}

    /// Nothing is counted when no part plays.
    public init(_ parts: [[TimedNote]], grid: StepGrid) {
        let onsets = parts.joined().map(\.start)
        guard let first = onsets.min() else { return }
        let bar = grid.step(first) / grid.stepsPerBar
        let offsets = onsets.filter { grid.step($0) / grid.stepsPerBar == bar }.map { onset in
            abs(grid.position(onset) - grid.position(onset).rounded()) * grid.secondsPerStep * 1000
        }
        songs = 1
        offsetSum = offsets.max() ?? 0
        worst = offsetSum
    }

    /// The mean over songs of each song's largest offset.
    public var meanMilliseconds: Double? { songs == 0 ? nil : offsetSum / Double(songs) }

    public static func + (a: Self, b: Self) -> Self {
        var sum = Self()
        sum.songs = a.songs + b.songs
        sum.offsetSum = a.offsetSum + b.offsetSum
        sum.worst = max(a.worst, b.worst)
        return sum
    }
}
