/// Every band measure of one or more performances, pooled: shares and means are over all the notes,
/// downbeats and bars of the songs added together. Computed the same way on a song's real parts and on
/// what a band played over its chords, so the two stand side by side.
public struct BandScore: Sendable, Equatable {
    public var songs = 0
    public var bassDownbeats = BassDownbeats()
    public var bassTones = ChordTones()
    public var keysTones = ChordTones()
    public var keys = CompingRhythm()
    public var drums = DrumStyle()
    public var bassHygiene = NoteHygiene()
    public var keysHygiene = NoteHygiene()
    public var drumsHygiene = NoteHygiene()
    public var timing = FirstBarTiming()

    public init() {}

    /// Measures `take` against the song's `real` take. A role is measured only where the song has a real
    /// part for it (there is nothing to hold it against otherwise): the bass at the downbeats of the bars
    /// where the real bass plays, the drums against the real drum bars. `stylePool`: the real drum bars of
    /// the song's style family; `primer`: the preset's drum primer bar, if any. `isReal`: `take` is `real`
    /// itself, so each real drum bar is held against the others.
    public init(take: BandTake, real: BandTake, stylePool: DrumBarPool, primer: DrumBar?, isReal: Bool) {
        songs = 1
        if !real.bass.isEmpty {
            bassDownbeats = BassDownbeats(bass: take.bass, take: take, bars: BassDownbeats.bars(playedBy: real.bass, grid: real.grid))
            bassTones = ChordTones(take.bass, take: take)
            bassHygiene = NoteHygiene(take.bass)
        }
        if !real.keys.isEmpty {
            keysTones = ChordTones(take.keys, take: take)
            keys = CompingRhythm(take.keys, grid: take.grid)
            keysHygiene = NoteHygiene(take.keys)
        }
        if !real.drums.isEmpty {
            let songPool = DrumBarPool(DrumBar.bars(real.drums, grid: real.grid))
            drums = DrumStyle(played: DrumBar.bars(take.drums, grid: take.grid), primer: primer, song: songPool, style: stylePool, isReal: isReal)
            drumsHygiene = NoteHygiene(take.drums)
        }
        timing = FirstBarTiming(take.bass + take.keys + take.drums, grid: take.grid)
    }

    public static func + (a: Self, b: Self) -> Self {
        var sum = Self()
        sum.songs = a.songs + b.songs
        sum.bassDownbeats = a.bassDownbeats + b.bassDownbeats
        sum.bassTones = a.bassTones + b.bassTones
        sum.keysTones = a.keysTones + b.keysTones
        sum.keys = a.keys + b.keys
        sum.drums = a.drums + b.drums
        sum.bassHygiene = a.bassHygiene + b.bassHygiene
        sum.keysHygiene = a.keysHygiene + b.keysHygiene
        sum.drumsHygiene = a.drumsHygiene + b.drumsHygiene
        sum.timing = a.timing + b.timing
        return sum
    }
}
