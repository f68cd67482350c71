#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// OpenBLAS's sgemm, found at run time with dlopen rather than linked, so that the core type can be chosen
/// before the library initialises: Debian's 0.3.21 does not recognise these CPUs and falls back to its
/// Prescott kernel (~36 GFLOP/s) unless OPENBLAS_CORETYPE is in the environment when it loads (docs/DESIGN-NOTES.md §12);
/// measured here: SkylakeX ~235 GFLOP/s, Haswell ~100, Prescott ~48 on one core.
/// Loading late also lets a machine without the library train on the built-in kernel instead of failing to start.
struct OpenBLAS: @unchecked Sendable {
    typealias SGEMM = @convention(c) (
        Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
        UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32
    ) -> Void
    typealias SetThreads = @convention(c) (Int32) -> Void

    let sgemm: SGEMM
    let setThreads: SetThreads?
    /// What the library reports about itself (build options and core), for the benchmark report.
    let configuration: String

    /// The shared instance, or nil when no libopenblas can be loaded.
    static let shared: OpenBLAS? = load()

    private static func load() -> OpenBLAS? {
        // Read by the library's constructor during dlopen. An inherited OPENBLAS_CORETYPE wins: an
        // administrator pins it where some kernel of an older OpenBLAS computes wrong results or crashes on
        // the CPU, and we must not undo that (on these machines it pins Haswell, about half SkylakeX's
        // speed). SIDEMAN_OPENBLAS_CORETYPE chooses for sideman alone; with neither set, the best kernel
        // the CPU can run, since this OpenBLAS does not recognise newer CPUs and falls back to Prescott.
        if let core = getenv("SIDEMAN_OPENBLAS_CORETYPE").map({ String(cString: $0) }) {
            setenv("OPENBLAS_CORETYPE", core, 1)
        } else if getenv("OPENBLAS_CORETYPE") == nil, let core = recommendedCoreType {
            setenv("OPENBLAS_CORETYPE", core, 0)
        }
        let names = ["libopenblas.so.0", "libopenblas.so", "/usr/lib/x86_64-linux-gnu/libopenblas.so.0", "libopenblas.dylib"]
        guard let handle = names.lazy.compactMap({ dlopen($0, RTLD_NOW | RTLD_LOCAL) }).first,
              let gemm = dlsym(handle, "cblas_sgemm")
        else { return nil }
        let threads = dlsym(handle, "openblas_set_num_threads").map { unsafeBitCast($0, to: SetThreads.self) }
        // Training batches are sized for one thread; the other core belongs to whoever else is running.
        if getenv("OPENBLAS_NUM_THREADS") == nil { threads?(1) }
        var config = "OpenBLAS"
        if let f = dlsym(handle, "openblas_get_config") {
            typealias GetConfig = @convention(c) () -> UnsafePointer<CChar>?
            if let text = unsafeBitCast(f, to: GetConfig.self)() { config = String(cString: text) }
        }
        if let f = dlsym(handle, "openblas_get_corename") {
            typealias GetCore = @convention(c) () -> UnsafePointer<CChar>?
            if let text = unsafeBitCast(f, to: GetCore.self)() { config += " core=" + String(cString: text) }
        }
        return OpenBLAS(sgemm: unsafeBitCast(gemm, to: SGEMM.self), setThreads: threads, configuration: config)
    }

    /// The core type to force through OPENBLAS_CORETYPE: SkylakeX where /proc/cpuinfo lists avx512f (only
    /// then is that kernel safe), else none.
    static var recommendedCoreType: String? { cpuHasAVX512() ? "SkylakeX" : nil }

    /// True when /proc/cpuinfo lists avx512f.
    private static func cpuHasAVX512() -> Bool {
        guard let file = fopen("/proc/cpuinfo", "r") else { return false }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>? = nil
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0 {
            let text = String(cString: line!)
            if text.hasPrefix("flags") { return text.contains(" avx512f") }
        }
        return false
    }
}
