/// The pieces a drummer has, and what it plays a learned groove's other pieces on: a drummer without a
/// hi-hat keeps time on the ride, one with a single tom plays every tom's fill on it. A piece goes to the
/// nearest piece of the kit that does the same job in a groove (the groups below, each in an order of
/// likeness); a piece whose group the kit lacks is left out.
public struct DrumKit: Equatable, Sendable {
    public let pieces: PitchSet
    /// What each GM note is played on (0: left out); a note in the kit is played as it is.
    private let played: [UInt8]

    /// GM drum notes by the job they do in a groove, each list ordered so that neighbours sound alike.
    static let groups: [[UInt8]] = [
        [35, 36],  // bass drums
        [38, 40, 37, 39],  // snares, side stick, clap: the backbeat
        [44, 42, 46, 53, 51, 59],  // pedal, closed and open hi-hat, ride bell and rides: time
        [49, 57, 55, 52],  // crashes, splash, china
        [41, 43, 45, 47, 48, 50],  // toms, low to high
        [54, 69, 70, 82],  // tambourine, cabasa, maracas, shaker
        [64, 63, 62, 61, 60, 65, 66],  // congas, bongos, timbales: hand drums, low to high
        [56, 67, 68, 75, 76, 77, 80, 81],  // cowbell, agogo, claves, wood blocks, triangle: the bell pattern
        [73, 74, 78, 79, 58, 71, 72],  // guiro, cuica, vibraslap, whistles
    ]

    public init(_ pieces: PitchSet) {
        self.pieces = pieces
        var played = [UInt8](repeating: 0, count: 128)
        for p in 0..<128 where pieces.contains(UInt8(p)) { played[p] = UInt8(p) }
        for group in Self.groups {
            let owned = group.indices.filter { pieces.contains(group[$0]) }
            for (i, note) in group.enumerated() where !pieces.contains(note) {
                // The nearest in the group's order that the kit has; of two as near, the one listed first.
                if let j = owned.min(by: { abs($0 - i) < abs($1 - i) }) { played[Int(note)] = group[j] }
            }
        }
        self.played = played
    }

    /// The note `note` is played on, nil where the kit has nothing like it.
    public func piece(for note: UInt8) -> UInt8? {
        let p = played[Int(note & 127)]
        return p == 0 ? nil : p
    }
}
