/// The instruction-set extensions the neural kernels choose between, as the kernel lists them in
/// /proc/cpuinfo's `flags` line.
public struct CPUFeatures: Sendable, Equatable {
    public var modelName: String
    public var flags: Set<String>

    public init(modelName: String, flags: Set<String>) {
        self.modelName = modelName
        self.flags = flags
    }

    /// Reads the first processor's entry of a /proc/cpuinfo text.
    public init(cpuinfo text: String) {
        var model = "unknown CPU"
        var flags = Set<String>()
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let key = parts[0].trimmingSpaces()
            if key == "model name" && model == "unknown CPU" { model = parts[1].trimmingSpaces() }
            if key == "flags" && flags.isEmpty { flags = Set(parts[1].split(separator: " ").map(String.init)) }
        }
        self.init(modelName: model, flags: flags)
    }

    /// AVX2 + FMA: what the whole Neural module is compiled for (x86-64-v3).
    public var hasAVX2FMA: Bool { flags.contains("avx2") && flags.contains("fma") }
    /// AVX-512 with VNNI: the fast int8 matrix-vector kernel.
    public var hasAVX512VNNI: Bool { flags.contains("avx512f") && flags.contains("avx512_vnni") }
}

extension Substring {
    fileprivate func trimmingSpaces() -> String {
        String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}
