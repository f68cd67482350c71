import Synchronization

/// One of the standard library's `Atomic` values in memory allocated once, reached through a plain
/// pointer: the shape the I/O thread needs. `Atomic` is noncopyable and must not move, so it cannot sit
/// in the copyable pointer-only structs (`CycleCounters`, `EventRing`) that the three threads each hold a
/// copy of, and a class holding it would be retained and released on the real-time thread. A cell is
/// created on the control thread, copied freely (copies share the value), and destroyed once by its
/// owner after every thread using it has stopped. Loads, stores and read-modify-writes go straight to
/// the `Atomic`: no allocation, lock or syscall.
struct AtomicCell<Value: AtomicRepresentable>: @unchecked Sendable {
    // @unchecked: the pointee is an `Atomic`, safe to use from any thread; the pointer never changes.
    private let storage: UnsafeMutablePointer<Atomic<Value>>

    init(_ initial: Value) {
        storage = .allocate(capacity: 1)
        storage.initialize(to: Atomic(initial))
    }

    /// Releases the value; once, by the owner, after every user has stopped.
    func destroy() {
        storage.deinitialize(count: 1)
        storage.deallocate()
    }
}

// `Atomic`'s operations are declared per storage size (its integer operations per type) and require
// their ordering as a compile-time constant at the call, so these forwarders are written per type and
// branch on the ordering to a call with a literal one. They are always inlined, and with the callers'
// constant orderings the branches fold away: each call compiles to the bare atomic instruction.

extension AtomicCell where Value == Bool {
    @inline(__always) func load(ordering: AtomicLoadOrdering) -> Bool {
        if ordering == .relaxed { return storage.pointee.load(ordering: .relaxed) }
        if ordering == .acquiring { return storage.pointee.load(ordering: .acquiring) }
        return storage.pointee.load(ordering: .sequentiallyConsistent)
    }

    @inline(__always) func store(_ value: Bool, ordering: AtomicStoreOrdering) {
        if ordering == .relaxed { storage.pointee.store(value, ordering: .relaxed); return }
        if ordering == .releasing { storage.pointee.store(value, ordering: .releasing); return }
        storage.pointee.store(value, ordering: .sequentiallyConsistent)
    }
}

extension AtomicCell where Value == Int {
    @inline(__always) func load(ordering: AtomicLoadOrdering) -> Int {
        if ordering == .relaxed { return storage.pointee.load(ordering: .relaxed) }
        if ordering == .acquiring { return storage.pointee.load(ordering: .acquiring) }
        return storage.pointee.load(ordering: .sequentiallyConsistent)
    }

    @inline(__always) func store(_ value: Int, ordering: AtomicStoreOrdering) {
        if ordering == .relaxed { storage.pointee.store(value, ordering: .relaxed); return }
        if ordering == .releasing { storage.pointee.store(value, ordering: .releasing); return }
        storage.pointee.store(value, ordering: .sequentiallyConsistent)
    }

    /// Stores `value` and returns the one it replaced.
    @inline(__always) func exchange(_ value: Int, ordering: AtomicUpdateOrdering) -> Int {
        if ordering == .relaxed { return storage.pointee.exchange(value, ordering: .relaxed) }
        if ordering == .acquiring { return storage.pointee.exchange(value, ordering: .acquiring) }
        if ordering == .releasing { return storage.pointee.exchange(value, ordering: .releasing) }
        if ordering == .acquiringAndReleasing { return storage.pointee.exchange(value, ordering: .acquiringAndReleasing) }
        return storage.pointee.exchange(value, ordering: .sequentiallyConsistent)
    }

    /// Sets the bits of `operand`; returns the value before.
    @inline(__always) func bitwiseOr(_ operand: Int, ordering: AtomicUpdateOrdering) -> Int {
        if ordering == .relaxed { return storage.pointee.bitwiseOr(operand, ordering: .relaxed).oldValue }
        if ordering == .acquiring { return storage.pointee.bitwiseOr(operand, ordering: .acquiring).oldValue }
        if ordering == .releasing { return storage.pointee.bitwiseOr(operand, ordering: .releasing).oldValue }
        if ordering == .acquiringAndReleasing { return storage.pointee.bitwiseOr(operand, ordering: .acquiringAndReleasing).oldValue }
        return storage.pointee.bitwiseOr(operand, ordering: .sequentiallyConsistent).oldValue
    }
}

extension AtomicCell where Value == UInt64 {
    @inline(__always) func load(ordering: AtomicLoadOrdering) -> UInt64 {
        if ordering == .relaxed { return storage.pointee.load(ordering: .relaxed) }
        if ordering == .acquiring { return storage.pointee.load(ordering: .acquiring) }
        return storage.pointee.load(ordering: .sequentiallyConsistent)
    }

    @inline(__always) func store(_ value: UInt64, ordering: AtomicStoreOrdering) {
        if ordering == .relaxed { storage.pointee.store(value, ordering: .relaxed); return }
        if ordering == .releasing { storage.pointee.store(value, ordering: .releasing); return }
        storage.pointee.store(value, ordering: .sequentiallyConsistent)
    }

    @inline(__always) func wrappingIncrement(ordering: AtomicUpdateOrdering) {
        if ordering == .relaxed { _ = storage.pointee.wrappingAdd(1, ordering: .relaxed); return }
        if ordering == .acquiring { _ = storage.pointee.wrappingAdd(1, ordering: .acquiring); return }
        if ordering == .releasing { _ = storage.pointee.wrappingAdd(1, ordering: .releasing); return }
        if ordering == .acquiringAndReleasing { _ = storage.pointee.wrappingAdd(1, ordering: .acquiringAndReleasing); return }
        _ = storage.pointee.wrappingAdd(1, ordering: .sequentiallyConsistent)
    }
}
