/// Zero-initialised, 64-byte aligned floats for training activations, parameters and gradients. A class so
/// layers can hand the same storage to the next layer without copying; reached through `base`.
public final class TrainingBuffer: @unchecked Sendable {
    public let count: Int
    public let base: UnsafeMutablePointer<Float>

    public init(count: Int) {
        precondition(count >= 0)
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 16) * 4, alignment: 64)
        base = raw.bindMemory(to: Float.self, capacity: max(count, 16))
        base.initialize(repeating: 0, count: max(count, 16))
    }

    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        for i in 0..<values.count { base[i] = values[i] }
    }

    deinit { base.deallocate() }

    @inline(__always) public subscript(i: Int) -> Float {
        get { base[i] }
        set { base[i] = newValue }
    }

    public func zero() { base.update(repeating: 0, count: count) }
    public var array: [Float] { Array(UnsafeBufferPointer(start: base, count: count)) }
    public func copy(from values: [Float]) {
        precondition(values.count == count)
        for i in 0..<count { base[i] = values[i] }
    }
}
