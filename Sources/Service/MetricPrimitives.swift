import Synchronization

/// A Prometheus counter: only ever goes up. Lock-free, so the engine thread may add to it.
public final class MetricCounter: Sendable {
    private let count = Atomic<UInt64>(0)

    public init() {}

    @inline(__always)
    public func add(_ amount: UInt64 = 1) { count.add(amount, ordering: .relaxed) }

    public var value: UInt64 { count.load(ordering: .relaxed) }
}

/// A Prometheus gauge holding a whole number (notes sounding, up/down). Lock-free.
public final class MetricGauge: Sendable {
    private let current = Atomic<Int64>(0)

    public init() {}

    @inline(__always)
    public func set(_ value: Int64) { current.store(value, ordering: .relaxed) }

    public var value: Int64 { current.load(ordering: .relaxed) }
}

/// A latency histogram with fixed bucket bounds in nanoseconds, recorded from the engine thread:
/// the buckets are preallocated atomics, so `record` neither allocates, locks nor calls the kernel.
/// Each observation lands in exactly one bucket; exposition makes them cumulative.
public final class LatencyHistogram: @unchecked Sendable {
    // @unchecked: the buffers are written only in init/deinit; in between every access is atomic.

    /// Upper bounds (inclusive, nanoseconds) of the finite buckets, ascending; one more bucket (+Inf)
    /// takes the rest.
    public let boundsNanoseconds: [UInt64]
    private let bounds: UnsafeMutableBufferPointer<UInt64>
    private let buckets: UnsafeMutablePointer<Atomic<UInt64>>
    private let sumNanoseconds = Atomic<UInt64>(0)

    /// Model-step latencies: 5 µs (an H256 step on these cores takes tens of µs) to 10 ms (several
    /// JACK periods: anything there is an xrun in the making).
    public static let modelStepBounds: [UInt64] = [
        5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000,
    ]

    public init(boundsNanoseconds: [UInt64] = LatencyHistogram.modelStepBounds) {
        precondition(!boundsNanoseconds.isEmpty && zip(boundsNanoseconds, boundsNanoseconds.dropFirst()).allSatisfy { $0 < $1 })
        self.boundsNanoseconds = boundsNanoseconds
        bounds = .allocate(capacity: boundsNanoseconds.count)
        _ = bounds.initialize(from: boundsNanoseconds)
        buckets = .allocate(capacity: boundsNanoseconds.count + 1)
        for index in 0...boundsNanoseconds.count { (buckets + index).initialize(to: Atomic(0)) }
    }

    deinit {
        buckets.deinitialize(count: bounds.count + 1)
        buckets.deallocate()
        bounds.deallocate()
    }

    /// Records one observation. Real-time safe.
    @inline(__always)
    public func record(nanoseconds: UInt64) {
        var index = 0
        let count = bounds.count
        while index < count && nanoseconds > bounds[index] { index += 1 }
        buckets[index].add(1, ordering: .relaxed)
        sumNanoseconds.add(nanoseconds, ordering: .relaxed)
    }

    /// Counts per bucket (not cumulative; the last is +Inf) and the sum, read bucket by bucket: an
    /// observation racing the read shows up in this snapshot or the next, never twice.
    public struct Snapshot: Sendable, Equatable {
        public var boundsNanoseconds: [UInt64]
        public var counts: [UInt64]
        public var sumNanoseconds: UInt64
        public var count: UInt64 { counts.reduce(0, +) }
    }

    public func snapshot() -> Snapshot {
        Snapshot(
            boundsNanoseconds: boundsNanoseconds,
            counts: (0...bounds.count).map { buckets[$0].load(ordering: .relaxed) },
            sumNanoseconds: sumNanoseconds.load(ordering: .relaxed))
    }
}
