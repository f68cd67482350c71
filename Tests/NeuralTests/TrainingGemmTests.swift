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
}
