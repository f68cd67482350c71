/// The built-in GEMM: op(A) and op(B) are packed into contiguous row-major panels, then a 6×16 register tile
/// (12 AVX2 accumulators) runs over K in blocks that keep a 16-column panel of B in L1.
enum SIMDGemm {
    static let rowsPerTile = 6
    static let kBlock = 256

    static func multiply(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, _ a: UnsafePointer<Float>, lda: Int,
        _ b: UnsafePointer<Float>, ldb: Int, beta: Float, _ c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        // Scale C by β first; the tiles then only accumulate α·A·B.
        for i in 0..<m {
            let row = c + i * ldc
            if beta == 0 { row.update(repeating: 0, count: n) } else if beta != 1 { for j in 0..<n { row[j] *= beta } }
        }
        if k == 0 || alpha == 0 { return }
        let panels = (n + 15) / 16
        // Packed B: for each 16-column panel, k rows of 16 floats (zero beyond n).
        let packedB = UnsafeMutablePointer<Float>.allocate(capacity: panels * k * 16)
        defer { packedB.deallocate() }
        for p in 0..<panels {
            let base = packedB + p * k * 16
            for kk in 0..<k {
                for j in 0..<16 {
                    let col = p * 16 + j
                    base[kk * 16 + j] = col < n ? (transB ? b[col * ldb + kk] : b[kk * ldb + col]) * alpha : 0
                }
            }
        }
        // Packed A: m rows of k, padded to whole tiles with zero rows.
        let tiles = (m + rowsPerTile - 1) / rowsPerTile
        let packedA = UnsafeMutablePointer<Float>.allocate(capacity: tiles * rowsPerTile * k)
        defer { packedA.deallocate() }
        for i in 0..<(tiles * rowsPerTile) {
            for kk in 0..<k {
                packedA[i * k + kk] = i < m ? (transA ? a[kk * lda + i] : a[i * lda + kk]) : 0
            }
        }
        var k0 = 0
        while k0 < k {
            let kc = min(kBlock, k - k0)
            for p in 0..<panels {
                let panel = packedB + p * k * 16 + k0 * 16
                let cols = min(16, n - p * 16)
                for t in 0..<tiles {
                    let rows = min(rowsPerTile, m - t * rowsPerTile)
                    tile(packedA + t * rowsPerTile * k + k0, k: k, count: kc, panel, c + t * rowsPerTile * ldc + p * 16,
                         ldc: ldc, rows: rows, cols: cols)
                }
            }
            k0 += kc
        }
    }

    /// C[rows×cols] += A[6×count] (row stride k) · panel[count×16].
    @inline(never)
    static func tile(
        _ a: UnsafePointer<Float>, k: Int, count: Int, _ panel: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
        ldc: Int, rows: Int, cols: Int
    ) {
        var c0 = SIMD16<Float>(), c1 = SIMD16<Float>(), c2 = SIMD16<Float>()
        var c3 = SIMD16<Float>(), c4 = SIMD16<Float>(), c5 = SIMD16<Float>()
        let raw = UnsafeRawPointer(panel)
        var kk = 0
        while kk < count {
            let bv = raw.loadUnaligned(fromByteOffset: kk * 64, as: SIMD16<Float>.self)
            c0 = c0.addingProduct(SIMD16(repeating: a[kk]), bv)
            c1 = c1.addingProduct(SIMD16(repeating: a[k + kk]), bv)
            c2 = c2.addingProduct(SIMD16(repeating: a[2 * k + kk]), bv)
            c3 = c3.addingProduct(SIMD16(repeating: a[3 * k + kk]), bv)
            c4 = c4.addingProduct(SIMD16(repeating: a[4 * k + kk]), bv)
            c5 = c5.addingProduct(SIMD16(repeating: a[5 * k + kk]), bv)
            kk &+= 1
        }
        for r in 0..<rows {
            let v: SIMD16<Float>
            switch r {
            case 0: v = c0
            case 1: v = c1
            case 2: v = c2
            case 3: v = c3
            case 4: v = c4
            default: v = c5
            }
            if cols == 16 {
                let out = UnsafeMutableRawPointer(c + r * ldc)
                out.storeBytes(of: out.loadUnaligned(as: SIMD16<Float>.self) + v, as: SIMD16<Float>.self)
            } else {
                for j in 0..<cols { c[r * ldc + j] += v[j] }
            }
        }
    }
}
