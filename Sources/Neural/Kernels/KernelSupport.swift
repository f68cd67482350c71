import CNeuralKernels

/// Which of the C kernels' fast paths this CPU runs (decided once, at first use).
public enum KernelSupport {
    /// AVX-512 attention scores and LSTM gates; otherwise their Swift forms run.
    public static var avx512: Bool { CPUFeatures.current.hasAVX512 }
    /// AVX-512 VNNI int8 products; otherwise the portable loop (same results, much slower) runs.
    public static var int8VNNI: Bool { CPUFeatures.current.hasAVX512VNNI }
}
