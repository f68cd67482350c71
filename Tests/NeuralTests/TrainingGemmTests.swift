import CNeuralKernels
import Testing
@testable import Neural

/// Both GEMM backends against the Double triple loop, on odd shapes with every transpose combination, β = 0 and 1.
@Suite struct TrainingGemmTests {
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func matchesPlainMatmul(_ transposes: (Bool, Bool)) {
        let (ta, tb) = transposes
        let (m, n, k) = (13, 37, 29)
        var rng = TrainingRandom(seed: 1)
        let a = (0..<(m * k)).map { _ in rng.uniform(-1, 1) }
        let b = (0..<(k * n)).map { _ in rng.uniform(-1, 1) }
        let c0 = (0..<(m * n)).map { _ in rng.uniform(-1, 1) }
        let (lda, ldb) = (ta ? m : k, tb ? k : n)
        var backends: [Gemm.Backend] = [.builtIn]
        if Gemm.openBLASAvailable { backends.append(.openBLAS) }
        for beta: Float in [0, 1] {
            var expected = c0
            Gemm.reference(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 0.5, a, lda: lda, b, ldb: ldb, beta: beta, &expected, ldc: n)
            for backend in backends {
                var c = c0
                c.withUnsafeMutableBufferPointer { cp in
                    Gemm.multiply(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 0.5, a, lda: lda, b, ldb: ldb, beta: beta,
                                  cp.baseAddress!, ldc: n, using: backend)
                }
                let worst = zip(c, expected).map { Swift.abs($0 - $1) }.max()!
                #expect(worst < 1e-4, "\(backend) β=\(beta)")
            }
        }
    }

    /// The product on weights packed once (the LSTM's recurrent and step-by-step input products), on every
    /// kernel this CPU has, against the Double triple loop: rows that are not a whole tile, panels cut short
    /// past n, K longer than a block, and C's padding beyond n untouched.
    @Test(arguments: [(32, 1024, 256, true), (32, 256, 1024, false), (9, 37, 300, true), (5, 20, 129, false),
                      (1, 16, 1, true), (13, 3, 0, false)])
    func packedWeightsMatchPlainMatmul(_ shape: (Int, Int, Int, Bool)) {
        let (m, n, k, transB) = shape
        var rng = TrainingRandom(seed: 2)
        let a = (0..<(m * k)).map { _ in rng.uniform(-1, 1) }
        let b = (0..<(k * n)).map { _ in rng.uniform(-1, 1) }
        let ldc = n + 3
        let c0 = (0..<(m * ldc)).map { _ in rng.uniform(-1, 1) }
        let ldb = transB ? k : n
        let weights = PackedWeights(k: k, n: n)
        b.withUnsafeBufferPointer { weights.pack($0.baseAddress!, ldb: ldb, transB: transB) }
        for accumulate in [false, true] {
            var expected = c0
            Gemm.reference(transA: false, transB: transB, m: m, n: n, k: k, alpha: 1, a, lda: k, b, ldb: ldb,
                           beta: accumulate ? 1 : 0, &expected, ldc: ldc)
            for kernel in 0...sideman_gemm_packed_kernel() {
                var c = c0
                c.withUnsafeMutableBufferPointer { cp in
                    sideman_gemm_packed_using(kernel, Int32(m), Int32(n), Int32(k), a, Int32(k), weights.panels.base,
                                              cp.baseAddress!, Int32(ldc), accumulate ? 1 : 0)
                }
                let worst = zip(c, expected).map { Swift.abs($0 - $1) }.max()!
                #expect(worst < 2e-4 * Float(max(k, 1)).squareRoot(), "kernel \(kernel), accumulate \(accumulate)")
                let padding = (0..<m).flatMap { r in (n..<ldc).map { r * ldc + $0 } }
                #expect(padding.allSatisfy { c[$0] == c0[$0] }, "kernel \(kernel) wrote past n")
            }
        }
    }

    /// The bfloat16 product: the AVX-512 BF16 kernel (where the CPU has it) and the portable loop both equal the
    /// Double product of the bf16-rounded operands up to fp32 sums, odd k and short panels included; and against
    /// the fp32 operands the error stays within bf16's rounding (2⁻⁸ of each operand) over the terms' sizes.
    @Test(arguments: [(32, 1024, 256, true), (32, 256, 1024, false), (9, 37, 301, true), (3, 20, 1, false), (13, 3, 0, false)])
    func bf16PackedWeightsMatchTheRoundedProduct(_ shape: (Int, Int, Int, Bool)) {
        let (m, n, k, transB) = shape
        var rng = TrainingRandom(seed: 3)
        let a = (0..<(m * k)).map { _ in rng.uniform(-1, 1) }
        let b = (0..<(k * n)).map { _ in rng.uniform(-1, 1) }
        let ldc = n + 3
        let c0 = (0..<(m * ldc)).map { _ in rng.uniform(-1, 1) }
        let ldb = transB ? k : n
        let weights = PackedWeights(k: k, n: n, precision: .bf16, maxRows: m)
        b.withUnsafeBufferPointer { weights.pack($0.baseAddress!, ldb: ldb, transB: transB) }
        // The vector packing and the portable one lay out the same halves.
        let portable = AlignedBuffer<UInt16>(count: weights.halves.count)
        b.withUnsafeBufferPointer {
            sideman_pack_panels_bf16_portable($0.baseAddress!, Int32(ldb), transB ? 1 : 0, Int32(k), Int32(n), portable.base)
        }
        #expect((0..<portable.count).allSatisfy { portable[$0] == weights.halves[$0] }, "the packings differ")
        /// Round to nearest bfloat16, ties to even.
        func bf16(_ x: Float) -> Float {
            let bits = x.bitPattern
            return Float(bitPattern: (bits &+ 0x7fff &+ ((bits >> 16) & 1)) & 0xffff_0000)
        }
        for accumulate in [false, true] {
            var rounded = c0, exact = c0, magnitude = [Float](repeating: 0, count: m * ldc)
            Gemm.reference(transA: false, transB: transB, m: m, n: n, k: k, alpha: 1, a.map(bf16), lda: k, b.map(bf16),
                           ldb: ldb, beta: accumulate ? 1 : 0, &rounded, ldc: ldc)
            Gemm.reference(transA: false, transB: transB, m: m, n: n, k: k, alpha: 1, a, lda: k, b, ldb: ldb,
                           beta: accumulate ? 1 : 0, &exact, ldc: ldc)
            Gemm.reference(transA: false, transB: transB, m: m, n: n, k: k, alpha: 1, a.map(Swift.abs), lda: k,
                           b.map(Swift.abs), ldb: ldb, beta: 0, &magnitude, ldc: ldc)
            var kernels: [(String, Bool)] = [("portable", false)]
            if sideman_bf16_available() != 0 { kernels.append(("avx512bf16", true)) }
            for (name, vector) in kernels {
                var c = c0
                c.withUnsafeMutableBufferPointer { cp in
                    if vector {
                        Gemm.multiply(m: m, a, lda: k, weights, accumulate: accumulate, cp.baseAddress!, ldc: ldc)
                    } else {
                        sideman_gemm_packed_bf16_portable(Int32(m), Int32(n), Int32(k), a, Int32(k), weights.halves.base,
                                                          weights.pairs.base, cp.baseAddress!, Int32(ldc), accumulate ? 1 : 0)
                    }
                }
                let sums = zip(c, rounded).map { Swift.abs($0 - $1) }.max()!
                #expect(sums < 1e-4 * Float(max(k, 1)).squareRoot(), "\(name), accumulate \(accumulate)")
                let bound = zip(zip(c, exact), magnitude).allSatisfy { pair, size in Swift.abs(pair.0 - pair.1) <= size * 0.0079 + 1e-4 }
                #expect(bound, "\(name): beyond bf16's rounding of the operands")
                let padding = (0..<m).flatMap { r in (n..<ldc).map { r * ldc + $0 } }
                #expect(padding.allSatisfy { c[$0] == c0[$0] }, "\(name) wrote past n")
            }
        }
    }
}
