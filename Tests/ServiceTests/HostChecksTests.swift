import Service
import Testing

#if canImport(Glibc)
    import Glibc
#endif

struct HostChecksTests {
    @Test func realtimeLimitsAgreeWithGetrlimitAndTheFifoProbeWithTheScheduler() {
        let limits = RealtimeLimits.current(tryPriority: 1)
        var memlock = rlimit()
        getrlimit(__rlimit_resource_t(__RLIMIT_MEMLOCK.rawValue), &memlock)
        #expect(limits.lockedMemoryBytes == (memlock.rlim_cur == rlim_t.max ? nil : UInt64(memlock.rlim_cur)))
        // The probe's verdict must match what the scheduler says about the same request, made directly.
        var parameters = sched_param(sched_priority: 1)
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        pthread_attr_setinheritsched(&attributes, Int32(PTHREAD_EXPLICIT_SCHED))
        pthread_attr_setschedpolicy(&attributes, SCHED_FIFO)
        pthread_attr_setschedparam(&attributes, &parameters)
        var thread = pthread_t()
        let result = pthread_create(&thread, &attributes, { _ in nil }, nil)
        if result == 0 { pthread_join(thread, nil) }
        pthread_attr_destroy(&attributes)
        #expect(limits.fifoGranted == (result == 0))
        #expect(limits.fifoGranted == (limits.fifoRefusal == nil))
    }

    @Test func groupNamesIncludeTheEffectiveGroup() {
        let name = getgrgid(getegid()).map { String(cString: $0.pointee.gr_name) }
        #expect(name.map { ProcessGroups.names().contains($0) } ?? true)
        #expect(!ProcessGroups.exists("no-such-group-\(getpid())"))
    }
}
