import Foundation
import CNeuralKernels
import Testing
@testable import Neural

@Suite struct KernelTests {
    /// Shapes with row counts off the 4-row blocks and columns off the 16-lane strides.
    static let shapes = [(1, 1), (3, 17), (4, 16), (7, 33), (130, 256), (64, 5), (1024, 512)]

    @Test(arguments: shapes) func matrixVectorMatchesPlainSum(rows: Int, columns: Int) {
        var rng = SeededRandom(seed: UInt64(rows * 1000 + columns))
        let m = Matrix(rows: rows, columns: columns)
        let x = AlignedBuffer<Float>(count: columns)
        for r in 0..<rows { for c in 0..<columns { m[r, c] = rng.uniform(-1, 1) } }
        for c in 0..<columns { x[c] = rng.uniform(-1, 1) }
        let expected = (0..<rows).map { r in (0..<columns).reduce(Double(0)) { $0 + Double(m[r, $1]) * Double(x[$1]) } }
        let y = AlignedBuffer<Float>(count: rows)
        m.multiply(x.base, into: y.base, accumulate: false)
        for r in 0..<rows { #expect(abs(Double(y[r]) - expected[r]) < 1e-4 * Double(columns).squareRoot()) }
        // Accumulating adds onto what is there.
        m.multiply(x.base, into: y.base, accumulate: true)
        for r in 0..<rows { #expect(abs(Double(y[r]) - 2 * expected[r]) < 2e-4 * Double(columns).squareRoot()) }
        // Half storage: the same product on the weights rounded to fp16.
        m.prepare(.fp16)
        let rounded = (0..<rows).map { r in
            (0..<columns).reduce(Double(0)) { $0 + Double(Float(Float16(m[r, $1]))) * Double(x[$1]) }
        }
        m.multiply(x.base, into: y.base, accumulate: false)
        for r in 0..<rows { #expect(abs(Double(y[r]) - rounded[r]) < 1e-4 * Double(columns).squareRoot()) }
    }

    @Test func gatherSumsTheSelectedColumnsWithTheirValues() {
        let layer = SparseLinear(inputs: 50, outputs: 37)
        var rng = SeededRandom(seed: 9)
        layer.randomize(&rng)
        var x = FeatureList(oneHot: 3)
        x.append(40, value: -1)
        x.append(49, value: 0.5)
        let y = AlignedBuffer<Float>(count: 37)
        layer.forward(x, into: y.base)
        let expected = layer.reference(x.dense(size: 50))
        #expect(maxAbsDifference(y.array, expected) < 1e-6)
        // An index past the inputs is ignored rather than read out of bounds; a full list refuses more.
        var bad = x
        bad.append(50)
        bad.append(1 << 30)
        layer.forward(bad, into: y.base)
        #expect(maxAbsDifference(y.array, expected) < 1e-6)
        var full = FeatureList()
        var accepted = 0
        for i in 0..<FeatureList.capacity where full.append(i) { accepted += 1 }
        #expect(accepted == FeatureList.capacity)
        let overflow = full.append(0)
        #expect(!overflow && full.count == FeatureList.capacity)
        var empty = FeatureList()
        let negative = empty.append(-1)
        #expect(!negative && empty.count == 0)
    }

    @Test func vectorExpSigmoidTanhAgreeWithLibmEverywhere() {
        var worstExp: Float = 0, worstSigmoid: Float = 0, worstTanh: Float = 0
        var x: Float = -120
        while x < 120 {
            var v = SIMD16<Float>()
            for i in 0..<16 { v[i] = x + Float(i) * 0.0037 }
            let e = exp16(v), s = sigmoid16(v), t = tanh16(v)
            for i in 0..<16 {
                #expect(e[i].isFinite && s[i].isFinite && t[i].isFinite)
                let ref = expf(v[i])
                // Below -87 the vector exp clamps (at the edge of normal floats); above 88.3 both overflow.
                if v[i] > -87 && v[i] < 88.3 { worstExp = max(worstExp, abs(e[i] - ref) / ref) }
                worstSigmoid = max(worstSigmoid, abs(s[i] - Float(1 / (1 + Foundation.exp(-Double(v[i]))))))
                worstTanh = max(worstTanh, abs(t[i] - Float(Foundation.tanh(Double(v[i])))))
            }
            x += 0.0613
        }
        #expect(worstExp < 4e-7)
        #expect(worstSigmoid < 2e-7)
        #expect(worstTanh < 3e-7)
    }

    @Test func softmaxAndLogSoftmaxAreStableForHugeLogits() {
        let logits: [Float] = [1000, 999, -1000, 0, 1000]
        var p = [Float](repeating: 0, count: 5), lp = p
        logits.withUnsafeBufferPointer { l in
            softmax(l.baseAddress!, count: 5, into: &p)
            logSoftmax(l.baseAddress!, count: 5, into: &lp)
        }
        #expect(p.allSatisfy { $0.isFinite })
        #expect(abs(p.reduce(0, +) - 1) < 1e-6)
        #expect(abs(p[0] - p[4]) < 1e-7 && p[2] == 0)
        #expect(abs(lp[0] - Float(-Foundation.log(2 + Foundation.exp(-1.0)))) < 1e-5)
        #expect(lp[2] < -1999 && lp[2].isFinite)
    }

    /// The attention read's register-held sums give the same bits as adding each row in turn (y += a·x),
    /// for floats and halves, every vector count through the 4-, 2- and 1-vector paths, and on top of what
    /// `out` holds.
    @Test func rowSumsHeldInRegistersAreBitForBitTheRowByRowSums() {
        var rng = SeededRandom(seed: 31)
        let (count, rowStride) = (37, 7 * 16 + 16)
        let floats = AlignedBuffer<Float>(count: count * rowStride)
        let halves = AlignedBuffer<Float16>(count: count * rowStride)
        for i in 0..<(count * rowStride) {
            floats[i] = rng.uniform(-1, 1)
            halves[i] = Float16(rng.uniform(-1, 1))
        }
        let coefficients = AlignedBuffer<Float>((0..<count).map { _ in rng.uniform(-2, 2) })
        let start = (0..<(7 * 16)).map { _ in rng.uniform(-1, 1) }
        func check<T: StoredScalar>(_ rows: AlignedBuffer<T>) {
            for n in 1...7 {
                for accumulate in [false, true] {
                    let expected = AlignedBuffer<Float>(accumulate ? start : [Float](repeating: 0, count: start.count))
                    for r in 0..<count {
                        addScaled(coefficients[r] * 0.37, UnsafePointer(rows.base + r * rowStride), into: expected.base, 16 * n)
                    }
                    let got = AlignedBuffer<Float>(start)
                    accumulateRows(UnsafePointer(rows.base), rowStride: rowStride, count: count, coefficients: coefficients.base,
                                   scale: 0.37, vectors: n, into: got.base, accumulate: accumulate)
                    #expect(Array(got.array[..<(16 * n)]) == Array(expected.array[..<(16 * n)]), "\(T.self), \(n) vectors")
                    #expect(Array(got.array[(16 * n)...]) == Array(start[(16 * n)...]), "nothing past \(n) vectors is written")
                }
            }
        }
        check(floats)
        check(halves)
    }

    @Test func lstmGatesFollowPyTorchOrder() {
        let hidden = 3, stride = 16
        let z = AlignedBuffer<Float>(count: 4 * stride), c = AlignedBuffer<Float>(count: stride)
        let h = AlignedBuffer<Float>(count: stride)
        let gates: [[Float]] = [[0.5, -1, 2], [1, 0.2, -3], [-0.7, 0.1, 4], [2, -2, 0.3]]  // i, f, g, o
        for g in 0..<4 { for j in 0..<hidden { z[g * stride + j] = gates[g][j] } }
        for j in 0..<hidden { c[j] = Float(j) - 1 }
        lstmGates(z.base, hidden: hidden, stride: stride, cell: c.base, output: h.base)
        for j in 0..<hidden {
            let s = { (x: Float) in 1 / (1 + Foundation.exp(-x)) }
            let cell = s(gates[1][j]) * (Float(j) - 1) + s(gates[0][j]) * Foundation.tanh(gates[2][j])
            #expect(abs(c[j] - cell) < 1e-6)
            #expect(abs(h[j] - s(gates[3][j]) * Foundation.tanh(cell)) < 1e-6)
        }
        #expect(c[hidden] == 0 && h[hidden] == 0)
    }
}

@Suite struct Int8KernelTests {
    /// The int8 product against fp32: the error is bounded by the weight and input quantisation steps
    /// (half a step of each per term), so it is checked against that bound, not a guess.
    @Test(arguments: [(4, 16), (7, 33), (130, 256), (1024, 512), (3, 100)])
    func int8ProductStaysWithinItsQuantisationBound(rows: Int, columns: Int) {
        var rng = SeededRandom(seed: UInt64(rows + 31 * columns))
        let m = Matrix(rows: rows, columns: columns)
        let x = AlignedBuffer<Float>(count: columns)
        for r in 0..<rows { for c in 0..<columns { m[r, c] = rng.uniform(-1, 1) } }
        for c in 0..<columns { x[c] = rng.uniform(-1, 1) }
        let exact = AlignedBuffer<Float>(count: rows), approx = AlignedBuffer<Float>(count: rows)
        m.multiply(x.base, into: exact.base, accumulate: false)
        m.prepare(.int8)
        m.multiply(x.base, into: approx.base, accumulate: false)
        let xMax = (0..<columns).map { abs(x[$0]) }.max()!
        for r in 0..<rows {
            let wMax = (0..<columns).map { abs(m[r, $0]) }.max()!
            let rowAbs = (0..<columns).reduce(Float(0)) { $0 + abs(m[r, $1]) }
            let xAbs = (0..<columns).reduce(Float(0)) { $0 + abs(x[$1]) }
            let bound = 0.5 * (wMax / 127) * xAbs + 0.5 * (xMax / 127) * rowAbs + 0.25 * wMax * xMax / (127 * 127) * Float(columns)
            #expect(abs(approx[r] - exact[r]) <= bound * 1.001 + 1e-6)
        }
        // A zero input gives exactly zero, and accumulate adds.
        let zero = AlignedBuffer<Float>(count: columns)
        approx.base.update(repeating: 2, count: rows)
        m.multiply(zero.base, into: approx.base, accumulate: true)
        #expect((0..<rows).allSatisfy { approx[$0] == 2 })
    }

    @Test func int8ModelsStayCloseToFullPrecision() {
        let model = AttentionRNN(config: AttentionRNNConfig(inputSize: 40, hidden: 64, layers: 2, window: 8, outputs: 40), seed: 13)
        let inputs = randomInputs(60, size: 40, oneHot: 40, extra: 0, seed: 14)
        let full = inputs.map { Array(model.step($0)) }
        model.prepare(.int8)
        model.reset()
        let reduced = inputs.map { Array(model.step($0)) }
        let worst = zip(full, reduced).map { maxAbsDifference($0, $1) }.max()!
        #expect(worst > 0 && worst < 0.05)
    }
}

extension Int8KernelTests {
    /// Integer dot products are exact, so the dispatched kernel (VNNI or AVX2), the AVX2 kernel and the portable
    /// loop must agree bit for bit, with and without accumulate, on row counts that leave remainders.
    @Test(arguments: [(71, 200), (8, 16), (130, 256), (1024, 449), (3, 64)])
    func int8KernelsAgreeExactly(rows: Int, columns: Int) throws {
        var rng = SeededRandom(seed: UInt64(21 + rows * columns))
        let m = Matrix(rows: rows, columns: columns)
        let x = AlignedBuffer<Float>(count: m.stride)
        for r in 0..<rows { for c in 0..<columns { m[r, c] = rng.normal() } }
        for c in 0..<columns { x[c] = rng.normal() }
        m.prepare(.int8)
        let q = try #require(m.quantized)
        for accumulate in [false, true] {
            let dispatched = AlignedBuffer<Float>(count: rows), portable = AlignedBuffer<Float>(count: rows)
            let avx2 = AlignedBuffer<Float>(count: rows)
            for r in 0..<rows { (dispatched[r], portable[r], avx2[r]) = (Float(r), Float(r), Float(r)) }
            m.multiply(x.base, into: dispatched.base, accumulate: accumulate)
            sideman_matvec_int8_portable(q.weights.base, Int32(rows), Int32(q.stride), Int32(columns), x.base, q.scales.base,
                                         q.rowSums.base, q.scratch.base, portable.base, accumulate ? 1 : 0)
            #expect(dispatched.array == portable.array)
            if sideman_matvec_int8_avx2(q.weights.base, Int32(rows), Int32(q.stride), Int32(columns), x.base, q.scales.base,
                                        q.scratch.base, avx2.base, accumulate ? 1 : 0) == 1 {
                #expect(avx2.array == portable.array)
            }
        }
        print("Int8KernelTests: int8 kernel here: \(KernelSupport.int8Kernel)")
    }
}

extension Int8KernelTests {
    /// The 16-bit input's limit L: the largest |q| for which 127 · L · columns stays within 32 bits.
    static func wordLimit(_ columns: Int) -> Float { Float(min(32767, Int(Int32.max) / (127 * columns))) }

    /// 8-bit weights against a 16-bit input: the 8-bit product's bound with the input's step at max|x| / L,
    /// and the dispatched kernel equal to the portable loop bit for bit. 1,100 columns take L under 32,767
    /// (15,375); a row of equal weights against an input of equal magnitudes is the largest sum there is.
    @Test(arguments: [(71, 200), (8, 16), (768, 256), (256, 1100), (3, 64), (9, 517)])
    func wordInputProductIsExactAcrossKernelsAndWithinItsBound(rows: Int, columns: Int) throws {
        var rng = SeededRandom(seed: UInt64(5 + rows * columns))
        let m = Matrix(rows: rows, columns: columns)
        let x = AlignedBuffer<Float>(count: m.stride)
        for r in 0..<rows { for c in 0..<columns { m[r, c] = r == rows - 1 ? 0.5 : rng.normal() } }
        for c in 0..<columns { x[c] = c % 3 == 0 ? 2 : rng.uniform(-2, 2) }
        let exact = AlignedBuffer<Float>(count: rows)
        m.multiply(x.base, into: exact.base, accumulate: false)
        m.prepare(.int8, int8Input: .words)
        let q = try #require(m.quantized)
        let words = try #require(q.wordScratch)
        let limit = Self.wordLimit(columns)
        #expect(Int32(limit) == sideman_w8a16_limit(Int32(columns)))
        let xMax = (0..<columns).map { abs(x[$0]) }.max()!
        for accumulate in [false, true] {
            let dispatched = AlignedBuffer<Float>(count: rows), portable = AlignedBuffer<Float>(count: rows)
            for r in 0..<rows { (dispatched[r], portable[r]) = (Float(r), Float(r)) }
            m.multiply(x.base, into: dispatched.base, accumulate: accumulate)
            sideman_matvec_w8a16_portable(q.weights.base, Int32(rows), Int32(q.stride), Int32(columns), x.base, q.scales.base,
                                          words.base, portable.base, accumulate ? 1 : 0)
            #expect(dispatched.array == portable.array)
            let avx2 = AlignedBuffer<Float>(count: rows)
            for r in 0..<rows { avx2[r] = Float(r) }
            if sideman_matvec_w8a16_avx2(q.weights.base, Int32(rows), Int32(q.stride), Int32(columns), x.base, q.scales.base,
                                         words.base, avx2.base, accumulate ? 1 : 0) == 1 {
                #expect(avx2.array == portable.array, "the AVX2 kernel")
            }
            guard !accumulate else { continue }
            for r in 0..<rows {
                let wMax = (0..<columns).map { abs(m[r, $0]) }.max()!
                let rowAbs = (0..<columns).reduce(Float(0)) { $0 + abs(m[r, $1]) }
                let xAbs = (0..<columns).reduce(Float(0)) { $0 + abs(x[$1]) }
                let bound = 0.5 * (wMax / 127) * xAbs + 0.5 * (xMax / limit) * rowAbs + 0.25 * wMax * xMax / (127 * limit) * Float(columns)
                #expect(abs(dispatched[r] - exact[r]) <= bound * 1.001 + 1e-5, "row \(r)")
            }
        }
        // The all-equal row meets the all-maximal input: the largest sum, exact (no wrap), in both kernels.
        let flat = AlignedBuffer<Float>(count: m.stride)
        for c in 0..<columns { flat[c] = 2 }
        let top = AlignedBuffer<Float>(count: rows)
        m.multiply(flat.base, into: top.base, accumulate: false)
        #expect(abs(top[rows - 1] - Float(columns)) <= Float(columns) * 1e-5)
        // Weights on the 8-bit grid (each row's peak 127 steps of 1/64) leave only the input's error: within
        // half a 16-bit step per term, where the 8-bit input is off by far more.
        let grid = Matrix(rows: rows, columns: columns)
        for r in 0..<rows { for c in 0..<columns { grid[r, c] = c == 0 ? 127.0 / 64 : Float(Int(rng.uniform(-127, 127))) / 64 } }
        let onGrid = AlignedBuffer<Float>(count: rows), fine = AlignedBuffer<Float>(count: rows), coarse = AlignedBuffer<Float>(count: rows)
        grid.multiply(x.base, into: onGrid.base, accumulate: false)
        grid.prepare(.int8, int8Input: .words)
        grid.multiply(x.base, into: fine.base, accumulate: false)
        grid.prepare(.int8)
        grid.multiply(x.base, into: coarse.base, accumulate: false)
        var fineError: Float = 0, coarseError: Float = 0
        for r in 0..<rows {
            let rowAbs = (0..<columns).reduce(Float(0)) { $0 + abs(grid[r, $1]) }
            #expect(abs(fine[r] - onGrid[r]) <= 0.5 * (xMax / limit) * rowAbs * 1.001 + 1e-4, "row \(r) on the grid")
            fineError += abs(fine[r] - onGrid[r])
            coarseError += abs(coarse[r] - onGrid[r])
        }
        #expect(fineError * 20 < coarseError, "16-bit input \(fineError), 8-bit \(coarseError)")
    }
}

/// Where the CPU has AVX-512 the step's transcendental loops run in C; the Swift forms must agree with them.
@Suite struct AVX512KernelTests {
    @Test func lstmGatesAgreeWithTheSwiftForm() {
        let stride = 64
        let z = AlignedBuffer<Float>(count: 4 * stride)
        var rng = SeededRandom(seed: 31)
        for i in 0..<(4 * stride) { z[i] = rng.uniform(-12, 12) }
        let c1 = AlignedBuffer<Float>(count: stride), c2 = AlignedBuffer<Float>(count: stride)
        for j in 0..<stride { c1[j] = rng.uniform(-3, 3); c2[j] = c1[j] }
        let h1 = AlignedBuffer<Float>(count: stride), h2 = AlignedBuffer<Float>(count: stride)
        lstmGates(z.base, hidden: stride, stride: stride, cell: c1.base, output: h1.base)
        lstmGatesPortable(z.base, stride: stride, cell: c2.base, output: h2.base)
        #expect(maxAbsDifference(c1.array, c2.array) < 1e-6)
        #expect(maxAbsDifference(h1.array, h2.array) < 1e-6)
        print("AVX512KernelTests: AVX-512 \(sideman_avx512_available() == 1 ? "used" : "not available, both sides ran Swift")")
    }

    @Test func attentionScoresAgreeWithTheSwiftForm() {
        let window = 7, stride = 48
        let keys = AlignedBuffer<Float>(count: window * stride), q = AlignedBuffer<Float>(count: stride)
        let v = AlignedBuffer<Float>(count: stride)
        var rng = SeededRandom(seed: 32)
        for i in 0..<(window * stride) { keys[i] = rng.uniform(-4, 4) }
        for j in 0..<stride { q[j] = rng.uniform(-4, 4); v[j] = rng.uniform(-1, 1) }
        let (a, b) = scoresBothWays(keys: keys, query: q, score: v, window: window, stride: stride)
        #expect(maxAbsDifference(a, b) < 1e-5)
    }

    /// Σ_j v_j tanh(K_ij + q_j) by the dispatched kernel and by the Swift loop; turns `keys` and `query` into
    /// the powers the kernels read (`applyTanhExponent`) on the way.
    private func scoresBothWays(
        keys: AlignedBuffer<Float>, query q: AlignedBuffer<Float>, score v: AlignedBuffer<Float>, window: Int, stride: Int
    ) -> (dispatched: [Float], portable: [Float]) {
        applyTanhExponent(keys.base, count: window * stride)
        applyTanhExponent(q.base, count: stride)
        let a = AlignedBuffer<Float>(count: window), b = AlignedBuffer<Float>(count: window)
        if sideman_attention_scores(keys.base, Int32(window), Int32(stride), q.base, v.base, a.base) == 0 {
            attentionScoresPortable(keys.base, window: window, stride: stride, queryPowers: q.base, score: v.base, into: a.base)
        }
        attentionScoresPortable(keys.base, window: window, stride: stride, queryPowers: q.base, score: v.base, into: b.base)
        return (a.array, b.array)
    }

    @Test func tanhExponentAgreesWithTheSwiftFormAndLibm() {
        let n = 96
        let x = AlignedBuffer<Float>(count: n)
        var rng = SeededRandom(seed: 34)
        for i in 0..<n { x[i] = rng.uniform(-50, 50) }
        x[0] = 0; x[1] = 43; x[2] = -43; x[3] = 1e-3
        let a = AlignedBuffer<Float>(count: n), b = AlignedBuffer<Float>(count: n)
        a.copy(from: x.array)
        b.copy(from: x.array)
        applyTanhExponent(a.base, count: n)
        applyTanhExponentPortable(b.base, count: n)
        for i in 0..<n {
            let expected = Foundation.exp(Double(max(-86, min(86, 2 * x[i]))))
            #expect(abs(Double(a[i]) / expected - 1) < 1e-6, "e^(2·\(x[i])): \(a[i]) against \(expected)")
            #expect(abs(Double(b[i]) / expected - 1) < 1e-6, "e^(2·\(x[i])): \(b[i]) against \(expected)")
            #expect(a[i].isNormal && b[i].isNormal)
        }
    }

    /// The scores from e^{2K} and e^{2q} equal Σ v·tanh(K + q) in double precision, where both are large and
    /// of opposite sign too (a sum near zero from two saturated halves) and where the power's product leaves
    /// the float range (the tanh is then ±1).
    @Test func attentionScoresFromPowersAreTheTanhSums() {
        let window = 6, stride = 32
        let keys = AlignedBuffer<Float>(count: window * stride), q = AlignedBuffer<Float>(count: stride)
        let v = AlignedBuffer<Float>(count: stride)
        var rng = SeededRandom(seed: 33)
        for j in 0..<stride { q[j] = rng.uniform(-5, 5); v[j] = rng.uniform(-1, 1) }
        for i in 0..<(window * stride) { keys[i] = rng.uniform(-5, 5) }
        // Row 1: keys and query far out with opposite signs, meeting near zero.
        for j in 0..<8 { q[j] = 30 + Float(j); keys[stride + j] = -30 - Float(j) + rng.uniform(-2, 2) }
        // Row 2: a product past the float range both ways (|K + q| > 44).
        for j in 8..<16 { q[j] = j % 2 == 0 ? 40 : -40; keys[2 * stride + j] = j % 2 == 0 ? 38 : -38 }
        let expected = (0..<window).map { i in
            (0..<stride).reduce(0.0) { $0 + Double(v[$1]) * Foundation.tanh(Double(keys[i * stride + $1]) + Double(q[$1])) }
        }
        let (a, b) = scoresBothWays(keys: keys, query: q, score: v, window: window, stride: stride)
        for i in 0..<window {
            #expect(abs(Double(a[i]) - expected[i]) < 2e-5, "row \(i): \(a[i]) against \(expected[i])")
            #expect(abs(Double(b[i]) - expected[i]) < 2e-5, "row \(i): \(b[i]) against \(expected[i])")
        }
    }
}
