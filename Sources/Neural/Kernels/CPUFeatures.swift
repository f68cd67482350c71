import CNeuralKernels

/// The instruction-set extensions this CPU offers, from the one probe the kernels dispatch on
/// (`sideman_cpu_features`), so `sideman doctor` reports exactly what the step kernels will use.
public struct CPUFeatures: Sendable, Equatable {
    public let bits: Int32

    public init(bits: Int32) { self.bits = bits }

    /// This machine's, probed once.
    public static var current: CPUFeatures { CPUFeatures(bits: sideman_cpu_features()) }

    private func has(_ mask: Int32) -> Bool { bits & mask == mask }

    /// AVX2 + FMA: what the whole Neural module is compiled for (x86-64-v3).
    public var hasAVX2FMA: Bool { has(Int32(SIDEMAN_CPU_AVX2 | SIDEMAN_CPU_FMA)) }
    /// AVX-512 (F and DQ): the attention-score and LSTM-gate kernels.
    public var hasAVX512: Bool { has(Int32(SIDEMAN_CPU_AVX512F | SIDEMAN_CPU_AVX512DQ)) }
    /// AVX-512 with VNNI: the fast int8 matrix-vector kernel.
    public var hasAVX512VNNI: Bool {
        has(Int32(SIDEMAN_CPU_AVX512F | SIDEMAN_CPU_AVX512BW | SIDEMAN_CPU_AVX512VNNI))
    }
}
