import Engine
import Service

/// The daemon's model steps, timed into the metrics' latency histogram: preallocated atomic buckets and a
/// vDSO clock, so timing stays real-time safe on the engine thread.
struct ModelStepMetrics: ModelStepTimer {
    func time(_ step: () -> UnsafeBufferPointer<Float>) -> UnsafeBufferPointer<Float> {
        let started = MonotonicClock.nanoseconds()
        let logits = step()
        ServiceMetrics.shared.recordModelStep(nanoseconds: MonotonicClock.nanoseconds() &- started)
        return logits
    }
}
