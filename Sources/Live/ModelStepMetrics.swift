import Engine
import Service

#if canImport(Glibc)
    import Glibc
#endif

/// The daemon's model steps, timed into the metrics' latency histogram: preallocated atomic buckets and a
/// vDSO clock, so timing stays real-time safe on the engine thread.
struct ModelStepMetrics: ModelStepTimer {
    func time(_ step: () -> UnsafeBufferPointer<Float>) -> UnsafeBufferPointer<Float> {
        let started = Self.now()
        let logits = step()
        ServiceMetrics.shared.recordModelStep(nanoseconds: Self.now() &- started)
        return logits
    }

    @inline(__always)
    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }
}
