// Unaligned-tolerant 16-lane loads and stores. The buffers are 64-byte aligned, but the kernels take plain
// pointers (rows of a padded matrix, slices of a state vector), so they use the unaligned forms, which cost
// nothing extra on aligned data.

@inline(__always) func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}

@inline(__always) func load16(_ p: UnsafeMutablePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}

@inline(__always) func store16(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
}

/// Widens 16 half-precision weights. An element loop, not `SIMD16<Float>(SIMD16<Float16>)`: the loop becomes
/// one vcvtph2ps per 8 lanes, the stdlib initializer a lane-by-lane sequence several times slower (docs/DESIGN-NOTES.md §5).
@inline(__always) func load16(_ p: UnsafePointer<Float16>) -> SIMD16<Float> {
    var v = SIMD16<Float>()
    for i in 0..<16 { v[i] = Float(p[i]) }
    return v
}
