#if canImport(Glibc)
    import Glibc
#endif

/// A counting semaphore one thread posts and another sleeps on: how the process callback wakes the
/// engine thread (sem_post is async-signal and real-time safe), and how callbacks and signals wake the
/// daemon's control thread.
public final class Wakeup: @unchecked Sendable {
    // @unchecked: sem_t is designed for concurrent use from any thread; the pointer never changes.
    public let semaphore: UnsafeMutablePointer<sem_t>

    public init() {
        semaphore = .allocate(capacity: 1)
        sem_init(semaphore, 0, 0)
    }

    deinit {
        sem_destroy(semaphore)
        semaphore.deallocate()
    }

    public func post() { sem_post(semaphore) }

    /// Sleeps until posted or `seconds` pass. Returns true when woken by a post. Extra posts that piled
    /// up are absorbed, so a burst of wake-ups costs the sleeper one pass.
    @discardableResult
    public func wait(seconds: Double) -> Bool {
        var deadline = timespec()
        clock_gettime(CLOCK_REALTIME, &deadline)
        let nanos = Int(deadline.tv_nsec) + Int(max(0, seconds) * 1e9)
        deadline.tv_sec += nanos / 1_000_000_000
        deadline.tv_nsec = nanos % 1_000_000_000
        var woken = false
        while sem_timedwait(semaphore, &deadline) != 0 {
            if errno != EINTR { return false }
        }
        woken = true
        while sem_trywait(semaphore) == 0 {}
        return woken
    }
}
