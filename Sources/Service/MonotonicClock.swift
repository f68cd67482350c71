#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The one clock for intervals and deadlines outside the engine: CLOCK_MONOTONIC, which wall-clock steps
/// (NTP, a user setting the date) never move, so a timeout or a measured step cannot jump or go negative.
/// It is also the clock systemd's MONOTONIC_USEC is read on.
public enum MonotonicClock {
    public static func nanoseconds() -> UInt64 {
        let time = read()
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    public static func microseconds() -> UInt64 {
        let time = read()
        return UInt64(time.tv_sec) * 1_000_000 + UInt64(time.tv_nsec) / 1_000
    }

    public static func seconds() -> Double {
        let time = read()
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    private static func read() -> timespec {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return time
    }
}
