import CNeuralKernels

/// Which of the C kernels' fast paths this CPU runs (decided once, at first use).
public enum KernelSupport {
    /// AVX-512 attention scores and LSTM gates; otherwise their Swift forms run.
    public static var avx512: Bool { CPUFeatures.current.hasAVX512 }
    /// AVX-512 VNNI int8 products (the fastest int8 path).
    public static var int8VNNI: Bool { CPUFeatures.current.hasAVX512VNNI }

    /// The int8 matrix-vector kernel the step runs here: "avx512-vnni", "avx2" or "portable" (same results, each
    /// slower than the one before).
    public static var int8Kernel: String {
        if sideman_int8_vnni_available() == 1 { return "avx512-vnni" }
        return sideman_int8_avx2_available() == 1 ? "avx2" : "portable"
    }
}

/// This core's best figures, measured on the spot (machine_limits.c), for setting a step's time against.
public enum MachineLimits {
    /// The fastest of `passes` reads of a cached buffer of `bytes`, in seconds (0 without AVX2).
    public static func readSeconds(bytes: Int, passes: Int = 50) -> Double { sideman_limit_read_seconds(bytes, Int32(passes)) }

    /// Runs a fixed, memory-free piece of work of `iterations` dependent links (about a nanosecond each)
    /// and returns its result, so that timing it tells what the machine does to any work of that length.
    public static func fixedWork(iterations: Int) -> UInt64 { sideman_fixed_work(iterations) }

    /// How often and for how long this core is taken away from a running task (timer ticks, the hypervisor):
    /// a loop reading the clock for `seconds`, where a gap over 2 µs is one interruption. The rate a second
    /// and the median and 90th-percentile lengths in µs.
    public static func interruptions(seconds: Double = 1) -> (perSecond: Double, medianMicroseconds: Double, p90Microseconds: Double) {
        var gaps = [Double](repeating: 0, count: 100_000)
        let count = gaps.withUnsafeMutableBufferPointer { sideman_interruptions(seconds, 2_000, $0.baseAddress!, $0.count) }
        let kept = gaps[..<min(count, gaps.count)].sorted()
        guard !kept.isEmpty else { return (0, 0, 0) }
        return (Double(count) / seconds, kept[kept.count / 2] / 1e3, kept[kept.count * 9 / 10] / 1e3)
    }

    /// Multiply-adds a second the precision's inner loop retires from registers and L1 (0 without AVX2).
    public static func multiplyAddsPerSecond(_ precision: Precision) -> Double {
        sideman_limit_multiply_adds_per_second(precision.products == .fp32 ? 0 : precision.products == .fp16 ? 1 : 2)
    }
}
