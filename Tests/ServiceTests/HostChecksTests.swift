import Service
import Testing

#if canImport(Glibc)
    import Glibc
#endif

struct HostChecksTests {
    @Test func cpuFlagsComeFromTheFirstProcessorEntry() {
        let text = """
            processor\t: 0
            model name\t: Example CPU 9000
            flags\t\t: fpu sse2 avx2 fma avx512f avx512_vnni
            
            processor\t: 1
            model name\t: Other
            flags\t\t: fpu
            """
        let features = CPUFeatures(cpuinfo: text)
        #expect(features.modelName == "Example CPU 9000")
        #expect(features.hasAVX2FMA && features.hasAVX512VNNI)
        let old = CPUFeatures(cpuinfo: "model name : Old\nflags : fpu sse2 avx\n")
        #expect(!old.hasAVX2FMA && !old.hasAVX512VNNI)
    }

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
