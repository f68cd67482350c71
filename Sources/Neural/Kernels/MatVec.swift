import CNeuralKernels

// Matrix–vector products for the streaming step: contiguous row-major weights, rows padded to 16 columns.
// Four rows share each load of x, so the loop streams four weight rows at once; the kernels stay out of line
// (`@inline(never)`) so the accumulators keep to registers whatever the caller looks like.

/// y[r] = Σ_c W[r, c]·x[c] over the padded `stride` (or y[r] += ... when `accumulate`), with fp32 weights or
/// fp16 ones widened in registers (arithmetic stays fp32).
@inline(never)
func matVec<T: StoredScalar>(
    _ w: UnsafePointer<T>, rows: Int, stride: Int, _ x: UnsafePointer<Float>,
    _ y: UnsafeMutablePointer<Float>, accumulate: Bool
) {
    // Each 16 columns of four rows take MemoryLayout<T>.size lines (2 in fp16, 4 in fp32); as many lines of
    // the next four rows are asked for meanwhile. A model's weights outgrow L2 and come from an L3 shared
    // with the rest of the machine or from memory: left to the hardware prefetcher, the transformer's fp16
    // step waited on them for half its time (median 1,340-1,420 µs → 750-810 on this box).
    let lines = MemoryLayout<T>.size
    var r = 0
    while r + 4 <= rows {
        let p0 = w + r * stride, p1 = p0 + stride, p2 = p1 + stride, p3 = p2 + stride
        let next = UnsafeRawPointer(p0 + 4 * stride)
        let ahead = r + 8 <= rows
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
        var c = 0
        while c < stride {
            if ahead {
                let line = next + c * 4 * lines
                for k in 0..<lines { sideman_prefetch(line + 64 * k) }
            }
            let xv = load16(x + c)
            a0 = a0.addingProduct(T.widen16(p0 + c), xv)
            a1 = a1.addingProduct(T.widen16(p1 + c), xv)
            a2 = a2.addingProduct(T.widen16(p2 + c), xv)
            a3 = a3.addingProduct(T.widen16(p3 + c), xv)
            c &+= 16
        }
        storeSums(a0, a1, a2, a3, y + r, accumulate)
        r &+= 4
    }
    while r < rows {
        let p = w + r * stride
        var a = SIMD16<Float>()
        var c = 0
        while c < stride {
            a = a.addingProduct(T.widen16(p + c), load16(x + c))
            c &+= 16
        }
        y[r] = (accumulate ? y[r] : 0) + a.sum()
        r &+= 1
    }
}

/// Reduces four 16-lane accumulators to four scalars with shared shuffles instead of four separate
/// horizontal sums.
@inline(__always)
func storeSums(
    _ a0: SIMD16<Float>, _ a1: SIMD16<Float>, _ a2: SIMD16<Float>, _ a3: SIMD16<Float>,
    _ y: UnsafeMutablePointer<Float>, _ accumulate: Bool
) {
    // 16 → 8 lanes each, then interleave pairs so one more fold handles two rows at a time.
    let b0 = a0.lowHalf + a0.highHalf, b1 = a1.lowHalf + a1.highHalf
    let b2 = a2.lowHalf + a2.highHalf, b3 = a3.lowHalf + a3.highHalf
    let c01 = SIMD8(lowHalf: b0.lowHalf + b0.highHalf, highHalf: b1.lowHalf + b1.highHalf)
    let c23 = SIMD8(lowHalf: b2.lowHalf + b2.highHalf, highHalf: b3.lowHalf + b3.highHalf)
    // c01 = [r0 x4, r1 x4]; fold each group of four.
    let s01 = c01.evenHalf + c01.oddHalf  // [r0 r0 r1 r1]
    let s23 = c23.evenHalf + c23.oddHalf
    let t = SIMD4(lowHalf: s01.evenHalf + s01.oddHalf, highHalf: s23.evenHalf + s23.oddHalf)  // [r0 r1 r2 r3]
    let out = UnsafeMutableRawPointer(y)
    if accumulate {
        out.storeBytes(of: out.loadUnaligned(as: SIMD4<Float>.self) + t, as: SIMD4<Float>.self)
    } else {
        out.storeBytes(of: t, as: SIMD4<Float>.self)
    }
}
