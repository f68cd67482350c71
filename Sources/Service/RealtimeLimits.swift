#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// What the system lets this process do for real-time audio: the limits a systemd unit's
/// LimitRTPRIO/LimitMEMLOCK or /etc/security/limits.d/audio.conf set, and whether a thread can
/// actually get SCHED_FIFO (root or CAP_SYS_NICE may, whatever the limit says).
public struct RealtimeLimits: Sendable, Equatable {
    /// RLIMIT_RTPRIO soft limit: the highest SCHED_FIFO priority an unprivileged thread may take.
    public var realtimePriority: UInt64
    /// RLIMIT_MEMLOCK soft limit in bytes; `nil` when unlimited.
    public var lockedMemoryBytes: UInt64?
    /// Whether a throwaway thread was created at SCHED_FIFO (the priority tried), and why not.
    public var fifoGranted: Bool
    public var fifoRefusal: String?

    public static func current(tryPriority priority: Int32 = 10) -> RealtimeLimits {
        var limit = rlimit()
        getrlimit(__rlimit_resource_t(__RLIMIT_RTPRIO.rawValue), &limit)
        let rtprio = limit.rlim_cur == rlim_t.max ? UInt64(99) : UInt64(limit.rlim_cur)
        getrlimit(__rlimit_resource_t(__RLIMIT_MEMLOCK.rawValue), &limit)
        let memlock = limit.rlim_cur == rlim_t.max ? nil : UInt64(limit.rlim_cur)
        let refusal = tryFifoThread(priority: priority)
        return RealtimeLimits(
            realtimePriority: rtprio, lockedMemoryBytes: memlock, fifoGranted: refusal == nil, fifoRefusal: refusal)
    }

    /// Creates a thread at SCHED_FIFO `priority` that exits at once: the same request the engine
    /// thread makes. Returns nil when granted, else the reason.
    public static func tryFifoThread(priority: Int32) -> String? {
        let body: @convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? = { _ in nil }
        switch createFifoThread(priority: priority, body: body, context: nil) {
        case .success(let handle):
            pthread_join(handle, nil)
            return nil
        case .failure(let error):
            return String(cString: strerror(error.code))
        }
    }

    public struct ThreadError: Error {
        public var code: Int32
    }

    /// Starts `body(context)` on a new thread scheduled SCHED_FIFO at `priority`, or returns the
    /// pthread_create error (EPERM without the privilege or RLIMIT_RTPRIO).
    public static func createFifoThread(
        priority: Int32, body: @convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer?,
        context: UnsafeMutableRawPointer?
    ) -> Result<pthread_t, ThreadError> {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setinheritsched(&attributes, Int32(PTHREAD_EXPLICIT_SCHED))
        pthread_attr_setschedpolicy(&attributes, SCHED_FIFO)
        var parameters = sched_param(sched_priority: priority)
        pthread_attr_setschedparam(&attributes, &parameters)
        var handle = pthread_t()
        let result = pthread_create(&handle, &attributes, body, context)
        return result == 0 ? .success(handle) : .failure(ThreadError(code: result))
    }
}

/// The groups the process runs with, by name (the `audio` group grants the realtime limits on most
/// distributions).
public enum ProcessGroups {
    public static func names() -> [String] {
        let count = getgroups(0, nil)
        var ids = [gid_t](repeating: 0, count: Int(max(count, 0)))
        let filled = getgroups(count, &ids)
        var all = Array(ids.prefix(Int(max(filled, 0))))
        all.append(getegid())
        return Array(Set(all.compactMap { id in getgrgid(id).map { String(cString: $0.pointee.gr_name) } })).sorted()
    }

    /// Whether the group exists on this system at all.
    public static func exists(_ name: String) -> Bool { getgrnam(name) != nil }
}
