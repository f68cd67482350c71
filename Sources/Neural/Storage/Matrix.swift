import CNeuralKernels
import Synchronization

/// How the step path stores dense weight matrices.
public enum Precision: String, Sendable, CaseIterable {
    /// Full single precision: the reference numerics.
    case fp32
    /// Half-precision storage, single-precision arithmetic: halves the bytes each step streams from cache.
    case fp16
    /// 8-bit weights with a scale per row, and the input vector quantised to 8 bits (one scale per product):
    /// integer dot products (AVX-512 VNNI where the CPU has it, a portable loop with identical results
    /// elsewhere). A quarter of the fp32 bytes, so the 2-layer H256 LSTM's weights fit in L2.
    case int8
    /// int8, but a transformer's attention stays wide: its output projection at fp16 and its KV cache at
    /// fp32 (its q/k/v input is 16-bit under int8 anyway). For a model whose int8 cost comes from the
    /// attention: the folk transformer's is 1.2% of its NLL at int8 and 0.064% here, at 0.74x its fp16 step
    /// (docs/PRECISION.md). Every other family runs it as int8.
    case int8WideAttention = "int8-wide-attention"

    /// The storage a single product takes at this precision.
    public var products: Precision { self == .int8WideAttention ? .int8 : self }
}

/// How an int8 product quantises the vector it multiplies.
public enum Int8Input: Sendable {
    /// 8 bits, one scale per product: the int8 kernels' full rate (64 products an instruction with VNNI).
    case bytes
    /// 16 bits (`sideman_matvec_w8a16`): an input error 256x smaller, at about 0.85x the 8-bit rate on AVX2
    /// (with VNNI, the words split into two bytes: two 8-bit passes over the weights).
    /// For a product whose output the model magnifies, such as a transformer's q/k/v projection.
    case words
}

/// A matrix quantised for the int8 kernel: rows padded to 64 bytes, a scale and a weight sum per row, and the
/// scratch the quantised input goes to (bytes, or 16-bit words for `Int8Input.words`).
public struct QuantizedRows: @unchecked Sendable {
    public let stride: Int
    public let weights: AlignedBuffer<Int8>
    public let scales: AlignedBuffer<Float>
    public let rowSums: AlignedBuffer<Int32>
    let scratch: AlignedBuffer<UInt8>
    let wordScratch: AlignedBuffer<Int16>?

    init(_ m: Matrix, input: Int8Input) {
        stride = (m.columns + 63) & ~63
        weights = AlignedBuffer(count: m.rows * stride, hugePages: true)
        scales = AlignedBuffer(count: m.rows)
        rowSums = AlignedBuffer(count: m.rows)
        scratch = AlignedBuffer(count: stride)
        wordScratch = input == .words ? AlignedBuffer(count: stride) : nil
        for r in 0..<m.rows {
            var peak: Float = 0
            for c in 0..<m.columns { peak = max(peak, abs(m[r, c])) }
            // A subnormal scale would make every product of the row denormal arithmetic (~100x slower on
            // x86); such a row (all weights below 1.5e-36) is zero at 8 bits anyway, and scale 1 makes it so.
            let scale = (peak / 127).isNormal ? peak / 127 : 1
            scales[r] = scale
            var sum: Int32 = 0
            for c in 0..<m.columns {
                let q = Int8(max(-127, min(127, (m[r, c] / scale).rounded(.toNearestOrEven))))
                weights[r * stride + c] = q
                sum += Int32(q)
            }
            rowSums[r] = sum
        }
    }
}

/// A dense row-major weight matrix for matrix–vector products in the step path.
///
/// Rows are padded to a multiple of 16 columns (`stride`) with zeros, so a product over the padded length
/// equals the product over the real columns, provided the vector's padding is zero too (AlignedBuffer keeps it so).
/// With `.fp16` the rows are also held as Float16, with `.int8` as QuantizedRows, and the step reads that copy;
/// the fp32 values stay the master copy for saving, for the plain reference forward, and for re-preparing.
/// A class so that layers can hold it by `let` and the step touches no reference counts.
public final class Matrix: @unchecked Sendable {
    public let rows: Int
    public let columns: Int
    public let stride: Int
    public let values: AlignedBuffer<Float>
    public private(set) var half: AlignedBuffer<Float16>?
    public private(set) var quantized: QuantizedRows?
    // Raw views of the chosen storage for the step: reading them takes no reference counting.
    private var halfBase: UnsafeMutablePointer<Float16>?
    private var q8: (weights: UnsafeMutablePointer<Int8>, scales: UnsafeMutablePointer<Float>,
                     sums: UnsafeMutablePointer<Int32>, scratch: UnsafeMutablePointer<UInt8>, stride: Int32,
                     words: UnsafeMutablePointer<Int16>?)?

    public init(rows: Int, columns: Int) {
        self.rows = rows
        self.columns = columns
        stride = padded16(columns)
        values = AlignedBuffer(count: rows * stride, hugePages: true)
    }

    /// Element (r, c) of the logical matrix.
    @inline(__always) public subscript(r: Int, c: Int) -> Float {
        get { values.base[r * stride + c] }
        set { values.base[r * stride + c] = newValue }
    }

    @inline(__always) public func row(_ r: Int) -> UnsafeMutablePointer<Float> { values.base + r * stride }

    /// Fills from a row-major array of exactly rows × columns values.
    public func load(rowMajor source: [Float]) {
        precondition(source.count == rows * columns)
        for r in 0..<rows {
            for c in 0..<columns { values.base[r * stride + c] = source[r * columns + c] }
        }
    }

    /// The logical row-major values, without padding.
    public var rowMajor: [Float] {
        var out = [Float](repeating: 0, count: rows * columns)
        for r in 0..<rows {
            for c in 0..<columns { out[r * columns + c] = values.base[r * stride + c] }
        }
        return out
    }

    /// Chooses the storage the step reads; call after the values are final (load or training). `int8Input`
    /// says how an int8 product quantises its input (ignored at fp32 and fp16).
    public func prepare(_ precision: Precision, int8Input: Int8Input = .bytes) {
        half = nil
        quantized = nil
        halfBase = nil
        q8 = nil
        switch precision.products {
        case .fp32:
            break
        case .int8, .int8WideAttention:
            let q = QuantizedRows(self, input: int8Input)
            quantized = q
            q8 = (q.weights.base, q.scales.base, q.rowSums.base, q.scratch.base, Int32(q.stride), q.wordScratch?.base)
        case .fp16:
            let h = AlignedBuffer<Float16>(count: rows * stride, hugePages: true)
            for i in 0..<(rows * stride) { h.base[i] = Float16(values.base[i]) }
            half = h
            halfBase = h.base
        }
    }

    /// Reads one byte per cache line of the storage the step uses, so that a step after an idle wait finds
    /// its weights in cache instead of memory. Allocation-free; meant for the idle time before a step.
    public func touch() {
        let base: UnsafeRawPointer, bytes: Int
        if let q8 {
            base = UnsafeRawPointer(q8.weights)
            bytes = rows * Int(q8.stride)
            touchLines(UnsafeRawPointer(q8.scales), rows * 4)
            touchLines(UnsafeRawPointer(q8.sums), rows * 4)
        } else if let halfBase {
            (base, bytes) = (UnsafeRawPointer(halfBase), rows * stride * 2)
        } else {
            (base, bytes) = (UnsafeRawPointer(values.base), rows * stride * 4)
        }
        touchLines(base, bytes)
        Matrix.touchedBytes.add(q8 != nil ? bytes + rows * 8 : bytes, ordering: .relaxed)
        Matrix.touchedMultiplyAdds.add(rows * columns, ordering: .relaxed)
    }

    private var touched: UInt8 = 0

    /// Bytes and multiply-adds of every product `touch` has covered, summed over all matrices: a model's
    /// `touchStepData()` touches exactly what its step multiplies, so the difference across one call is what
    /// one step streams and computes (the bench's limits). Relaxed counters; only the bench reads them.
    static let touchedBytes = Atomic<Int>(0)
    static let touchedMultiplyAdds = Atomic<Int>(0)

    public static var touchedTotals: (bytes: Int, multiplyAdds: Int) {
        (touchedBytes.load(ordering: .relaxed), touchedMultiplyAdds.load(ordering: .relaxed))
    }

    private func touchLines(_ base: UnsafeRawPointer, _ bytes: Int) {
        touched &+= touchCacheLines(base, bytes)  // a stored result, so the loads cannot be dropped
    }

    /// y = W·x (or y += W·x), reading whichever storage `prepare` chose. x must hold `stride` readable floats.
    @inline(__always)
    public func multiply(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, accumulate: Bool) {
        if let q8, let words = q8.words {
            sideman_matvec_w8a16(q8.weights, Int32(rows), q8.stride, Int32(columns), x, q8.scales, q8.sums, words, y, accumulate ? 1 : 0)
        } else if let q8 {
            sideman_matvec_int8(
                q8.weights, Int32(rows), q8.stride, Int32(columns), x, q8.scales, q8.sums, q8.scratch, y,
                accumulate ? 1 : 0)
        } else if let halfBase {
            matVec(UnsafePointer(halfBase), rows: rows, stride: stride, x, y, accumulate: accumulate)
        } else {
            matVec(values.base, rows: rows, stride: stride, x, y, accumulate: accumulate)
        }
    }
}
