import CNeuralKernels

/// Row-major single-precision matrix product for training: C ← α·op(A)·op(B) + β·C, with op(X) = X or Xᵀ.
///
/// Runs on OpenBLAS when it can be loaded and on the built-in blocked SIMD kernel otherwise (or when asked),
/// so training works everywhere and is fast where the library is present.
public enum Gemm {
    public enum Backend: String, Sendable { case openBLAS = "openblas", builtIn = "builtin" }

    /// The backend the training layers use: OpenBLAS when available. Scoped, not global, so a test or a
    /// command can choose one with `Gemm.$backend.withValue(...)` without racing anything else.
    @TaskLocal public static var backend: Backend = OpenBLAS.shared == nil ? .builtIn : .openBLAS

    /// Describes the loaded library (or says there is none), for reports.
    public static var openBLASDescription: String? { OpenBLAS.shared?.configuration }
    public static var openBLASAvailable: Bool { OpenBLAS.shared != nil }

    /// C[m×n] ← α·op(A)·op(B) + β·C; op(A) is m×k, op(B) is k×n; lda/ldb/ldc are the row strides as stored.
    @inline(__always)
    public static func multiply(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
        _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
        beta: Float, _ c: UnsafeMutablePointer<Float>, ldc: Int, using chosen: Backend? = nil
    ) {
        if m == 0 || n == 0 { return }
        switch chosen ?? backend {
        case .openBLAS:
            if let blas = OpenBLAS.shared {
                blas.sgemm(101, transA ? 112 : 111, transB ? 112 : 111, Int32(m), Int32(n), Int32(k), alpha,
                           a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
                return
            }
            fallthrough
        case .builtIn:
            SIMDGemm.multiply(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a, lda: lda, b, ldb: ldb,
                              beta: beta, c, ldc: ldc)
        }
    }

    /// The same product by the textbook triple loop in Double: the reference both backends are tested against.
    public static func reference(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, _ a: [Float], lda: Int, _ b: [Float], ldb: Int,
        beta: Float, _ c: inout [Float], ldc: Int
    ) {
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    let x = transA ? a[p * lda + i] : a[i * lda + p]
                    let y = transB ? b[j * ldb + p] : b[p * ldb + j]
                    s += Double(x) * Double(y)
                }
                c[i * ldc + j] = Float(Double(alpha) * s + (beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])))
            }
        }
    }
}

/// The precision of training's step-by-step recurrent products (`sideman train --recurrent-precision`): fp32,
/// or bfloat16 operands with fp32 sums where the CPU has AVX-512 BF16 (twice the products per instruction;
/// the weights, their gradients and Adam stay fp32).
public enum RecurrentPrecision: String, Sendable, CaseIterable {
    case fp32, bf16

    /// bf16 where the CPU has AVX-512 BF16, fp32 elsewhere.
    public static var fastest: RecurrentPrecision { sideman_bf16_available() != 0 ? .bf16 : .fp32 }
}

/// A weight matrix the same chunk multiplies at every step (an LSTM's recurrent weights), packed once per chunk
/// into the 16-column panels `Gemm.multiply(packed:)` streams, so a step does not pack 1 MB again for a few
/// dozen rows as a BLAS call does.
public final class PackedWeights {
    /// op(B)'s shape: k rows (the product's inner length) by n columns.
    public let k: Int, n: Int
    public let precision: RecurrentPrecision
    let panels: TrainingBuffer
    /// bf16: the panels in pairs along k, and room for `maxRows` rows of A in pairs.
    let halves: AlignedBuffer<UInt16>, pairs: AlignedBuffer<UInt32>

    /// `maxRows`: the most rows of A a bf16 product takes.
    public init(k: Int, n: Int, precision: RecurrentPrecision = .fp32, maxRows: Int = 0) {
        (self.k, self.n, self.precision) = (k, n, precision)
        let bf16 = precision == .bf16
        panels = TrainingBuffer(count: bf16 ? 0 : (n + 15) / 16 * 16 * k)
        halves = AlignedBuffer(count: bf16 ? ((n + 15) / 16 * 16) * ((k + 1) / 2 * 2) : 0)
        pairs = AlignedBuffer(count: bf16 ? maxRows * ((k + 1) / 2) : 0)
    }

    /// Packs op(B): `b` as stored with row stride `ldb`, read transposed when `transB`.
    public func pack(_ b: UnsafePointer<Float>, ldb: Int, transB: Bool) {
        switch precision {
        case .fp32: sideman_pack_panels(b, Int32(ldb), transB ? 1 : 0, Int32(k), Int32(n), panels.base)
        case .bf16: sideman_pack_panels_bf16(b, Int32(ldb), transB ? 1 : 0, Int32(k), Int32(n), halves.base)
        }
    }

    /// Whether this CPU has a vector kernel for the packed product (AVX2 with FMA, or AVX-512); without one the
    /// layers keep to `Gemm.multiply`, whose BLAS is then faster.
    public static let vectorKernel = sideman_gemm_packed_kernel() > 0
}

extension Gemm {
    /// C[m×n] ← A[m×k]·op(B) (+ C when `accumulate`), op(B) packed in `weights`.
    @inline(__always)
    public static func multiply(
        m: Int, _ a: UnsafePointer<Float>, lda: Int, _ weights: PackedWeights, accumulate: Bool,
        _ c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        switch weights.precision {
        case .fp32:
            sideman_gemm_packed(Int32(m), Int32(weights.n), Int32(weights.k), a, Int32(lda), weights.panels.base, c,
                                Int32(ldc), accumulate ? 1 : 0)
        case .bf16:
            precondition(m * ((weights.k + 1) / 2) <= weights.pairs.count, "more rows than the packed weights were sized for")
            sideman_gemm_packed_bf16(Int32(m), Int32(weights.n), Int32(weights.k), a, Int32(lda), weights.halves.base,
                                     weights.pairs.base, c, Int32(ldc), accumulate ? 1 : 0)
        }
    }
}

/// op(W) of one parameter as the right operand of the products a chunk repeats (an LSTM's W_hh at every step):
/// packed by the first product after `invalidate()`, which the layer calls when a chunk begins (the optimizer
/// changes the values only between chunks). The values are read where the parameter holds them at packing
/// time, so a data-parallel replica that shares the master's weights packs those. Without a vector kernel for
/// the packed product an fp32 product runs on `Gemm.multiply`.
final class ChunkWeights {
    let weight: Parameter
    let transB: Bool
    /// op(W)'s shape: k × n.
    let k: Int, n: Int
    private let packed: PackedWeights?
    private var current = false

    init(_ weight: Parameter, transB: Bool, precision: RecurrentPrecision = .fp32, maxRows: Int = 0) {
        precondition(weight.shape.count == 2 && !weight.transposed)
        self.weight = weight
        self.transB = transB
        (k, n) = transB ? (weight.shape[1], weight.shape[0]) : (weight.shape[0], weight.shape[1])
        packed = PackedWeights.vectorKernel || precision == .bf16
            ? PackedWeights(k: k, n: n, precision: precision, maxRows: maxRows) : nil
    }

    /// The values changed (a new chunk): the next product packs them again.
    func invalidate() { current = false }

    /// C[m×n] ← A[m×k]·op(W) (+ C when `accumulate`).
    func multiply(m: Int, _ a: UnsafePointer<Float>, lda: Int, accumulate: Bool, _ c: UnsafeMutablePointer<Float>, ldc: Int) {
        let ldb = weight.shape[1]
        guard let packed else {
            Gemm.multiply(transB: transB, m: m, n: n, k: k, a, lda: lda, weight.value.base, ldb: ldb,
                          beta: accumulate ? 1 : 0, c, ldc: ldc)
            return
        }
        if !current {
            packed.pack(weight.value.base, ldb: ldb, transB: transB)
            current = true
        }
        Gemm.multiply(m: m, a, lda: lda, packed, accumulate: accumulate, c, ldc: ldc)
    }
}
