/// Frame arithmetic that cannot trap. Frames come from a server's clock, which a live set can make
/// jump (a restarted server, a clock stepping back under an xrun burst; the ports layer hides both, but
/// the engine must not depend on that to stay alive), and from tempo estimates, which garbage input can
/// push to extremes. Swift traps on an unsigned underflow or an out-of-range conversion, and in a daemon
/// a trap is a silent band with notes hanging; so every difference of two frames and every frame computed
/// in floating point goes through here.
extension UInt64 {
    /// Signed frames from `earlier` to this frame, in either order. Exact for any two frames within 2^63
    /// of each other (all real ones), and never traps.
    @inlinable public func frames(since earlier: UInt64) -> Int64 { Int64(bitPattern: self &- earlier) }

    /// A frame computed in floating point: NaN and negatives give 0, values past the range the last frame.
    @inlinable public init(saturating value: Double) {
        if !(value > 0) {
            self = 0
        } else if value >= 18_446_744_073_709_549_568 {  // the largest Double below 2^64
            self = .max
        } else {
            self = UInt64(value)
        }
    }

    /// This frame moved by `offset` frames, held inside the range instead of wrapping.
    @inlinable public func offset(by offset: Double) -> UInt64 {
        guard offset.isFinite else { return offset > 0 ? .max : self }
        if offset >= 0 {
            let (sum, overflow) = addingReportingOverflow(UInt64(saturating: offset))
            return overflow ? .max : sum
        }
        let back = UInt64(saturating: -offset)
        return back >= self ? 0 : self - back
    }
}

extension Int64 {
    /// A step or tick count computed in floating point: NaN gives 0, values past the range its ends.
    @inlinable public init(saturating value: Double) {
        if value.isNaN {
            self = 0
        } else if value >= 9_223_372_036_854_774_784 {  // the largest Double below 2^63
            self = .max
        } else if value <= -9_223_372_036_854_775_808 {
            self = .min
        } else {
            self = Int64(value)
        }
    }
}
