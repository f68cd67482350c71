/// One step's sparse input: the active features (index, value) of a one-hot / multi-hot / ±1-clock encoding.
///
/// Inline fixed capacity (32), so building and passing one never allocates; the Lookback encoding, the widest
/// here, has at most 10 active features.
public struct FeatureList: Sendable, Equatable {
    public static let capacity = 32
    public private(set) var indices = SIMD32<Int32>()
    public private(set) var values = SIMD32<Float>()
    public private(set) var count = 0

    public init() {}

    /// A one-hot input.
    public init(oneHot index: Int) { append(index) }

    public init(_ indices: [Int]) { for i in indices { append(i) } }

    /// Adds a feature; returns false (and drops it) when the list is full or the index cannot be one, so a
    /// bad input never becomes a write out of bounds (the module is built without runtime checks).
    @discardableResult
    public mutating func append(_ index: Int, value: Float = 1) -> Bool {
        guard count < Self.capacity, index >= 0, index <= Int(Int32.max) else { return false }
        indices[count] = Int32(index)
        values[count] = value
        count += 1
        return true
    }

    public var activeIndices: [Int] { (0..<count).map { Int(indices[$0]) } }

    /// The dense vector this list stands for (for plain reference code and tests, not the step path).
    public func dense(size: Int) -> [Float] {
        var x = [Float](repeating: 0, count: size)
        for k in 0..<count { x[Int(indices[k])] += values[k] }
        return x
    }

    /// True when every index is inside an input of `size` features.
    public func fits(size: Int) -> Bool { (0..<count).allSatisfy { indices[$0] >= 0 && Int(indices[$0]) < size } }
}
