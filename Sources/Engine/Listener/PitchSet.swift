/// A set of MIDI pitches as 128 bits: fixed size, no allocation, cheap to copy.
public struct PitchSet: Hashable, Sendable {
    public var low: UInt64 = 0
    public var high: UInt64 = 0

    public init() {}

    public init<S: Sequence>(_ pitches: S) where S.Element == UInt8 {
        for p in pitches { insert(p) }
    }

    /// Every pitch below `limit` (0 gives none, 128 every pitch): one side of a keyboard split.
    public init(below limit: Int) {
        let n = max(0, min(128, limit))
        low = n >= 64 ? ~0 : (1 << UInt64(n)) &- 1
        high = n <= 64 ? 0 : n == 128 ? ~0 : (1 << UInt64(n - 64)) &- 1
    }

    public var isEmpty: Bool { low == 0 && high == 0 }
    public var count: Int { low.nonzeroBitCount + high.nonzeroBitCount }

    public func contains(_ pitch: UInt8) -> Bool {
        pitch < 64 ? low & (1 << UInt64(pitch)) != 0 : high & (1 << UInt64(pitch & 63)) != 0
    }

    public mutating func insert(_ pitch: UInt8) {
        if pitch < 64 { low |= 1 << UInt64(pitch) } else { high |= 1 << UInt64(pitch & 63) }
    }

    public mutating func remove(_ pitch: UInt8) {
        if pitch < 64 { low &= ~(1 << UInt64(pitch)) } else { high &= ~(1 << UInt64(pitch & 63)) }
    }

    public func union(_ other: PitchSet) -> PitchSet {
        var u = self
        u.low |= other.low
        u.high |= other.high
        return u
    }

    /// Pitches in both (set algebra on the bits: no array, for the real-time path).
    public func intersection(_ other: PitchSet) -> PitchSet {
        var i = self
        i.low &= other.low
        i.high &= other.high
        return i
    }

    /// Pitches in self and not in `other`.
    public func subtracting(_ other: PitchSet) -> PitchSet {
        var d = self
        d.low &= ~other.low
        d.high &= ~other.high
        return d
    }

    public var lowest: UInt8? {
        if low != 0 { return UInt8(low.trailingZeroBitCount) }
        if high != 0 { return UInt8(64 + high.trailingZeroBitCount) }
        return nil
    }

    public var highest: UInt8? {
        if high != 0 { return UInt8(127 - high.leadingZeroBitCount) }
        if low != 0 { return UInt8(63 - low.leadingZeroBitCount) }
        return nil
    }

    /// Which of the 12 pitch classes occur, bit n for pitch class n.
    public var pitchClasses: UInt16 {
        var classes: UInt16 = 0
        var bits = low
        while bits != 0 {
            let p = bits.trailingZeroBitCount
            classes |= 1 << UInt16(p % 12)
            bits &= bits - 1
        }
        bits = high
        while bits != 0 {
            let p = 64 + bits.trailingZeroBitCount
            classes |= 1 << UInt16(p % 12)
            bits &= bits - 1
        }
        return classes
    }

    /// The pitches in ascending order (allocates: for tests and reports, not the real-time path).
    public var sorted: [UInt8] { (0..<128).compactMap { contains(UInt8($0)) ? UInt8($0) : nil } }
}
