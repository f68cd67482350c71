// One-hot and multi-hot inputs: W·x for a sparse x is the sum of the selected columns of W, scaled by their
// values. Weights for sparse inputs are stored transposed (one contiguous padded row per input feature), so
// each selected column is one contiguous run instead of a strided walk over the whole matrix.

/// y[0..<stride] += Σ_k value_k · Wᵀ[index_k, :] for the active features of `input`. Features outside the
/// `rows` inputs are ignored: a bad index must not read outside the weights.
@inline(never)
public func gatherColumns(
    _ wt: UnsafePointer<Float>, rows: Int, stride: Int, _ input: FeatureList, into y: UnsafeMutablePointer<Float>
) {
    var k = 0
    while k < input.count {
        let index = Int(input.indices[k])
        if index >= rows {
            k &+= 1
            continue
        }
        let column = wt + index * stride
        let value = SIMD16<Float>(repeating: input.values[k])
        var c = 0
        while c < stride {
            store16(load16(y + c).addingProduct(load16(column + c), value), y + c)
            c &+= 16
        }
        k &+= 1
    }
}
