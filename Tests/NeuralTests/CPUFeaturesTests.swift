import Foundation
import Neural
import Testing

/// The one CPU probe (the kernels' dispatch and `sideman doctor` read it) against the kernel's own view of
/// the same CPU in /proc/cpuinfo.
struct CPUFeaturesTests {
    static var cpuinfoFlags: Set<String>? {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("flags") {
            return Set(line.split(separator: ":", maxSplits: 1).last?.split(separator: " ").map(String.init) ?? [])
        }
        return nil
    }

    @Test(.enabled(if: cpuinfoFlags != nil, "needs /proc/cpuinfo"))
    func theProbeAgreesWithTheKernelsFlags() throws {
        let flags = try #require(Self.cpuinfoFlags)
        let features = CPUFeatures.current
        #expect(features.hasAVX2FMA == (flags.contains("avx2") && flags.contains("fma")))
        #expect(features.hasAVX512 == (flags.contains("avx512f") && flags.contains("avx512dq")))
        #expect(features.hasAVX512VNNI == (flags.contains("avx512f") && flags.contains("avx512bw") && flags.contains("avx512_vnni")))
        // The kernels dispatch on the same answer.
        #expect(KernelSupport.int8VNNI == features.hasAVX512VNNI)
        #expect(KernelSupport.avx512 == features.hasAVX512)
    }

    @Test func featuresAreReadFromTheirBits() {
        #expect(!CPUFeatures(bits: 0).hasAVX2FMA)
        #expect(CPUFeatures(bits: 1 | 2).hasAVX2FMA && !CPUFeatures(bits: 1 | 2).hasAVX512)
        #expect(CPUFeatures(bits: 4 | 8 | 32).hasAVX512VNNI && !CPUFeatures(bits: 4 | 32).hasAVX512VNNI)
    }
}
