/// Sparse rows (CSR): row r holds the (index, value) pairs offsets[r]..<offsets[r+1]. One row per step and
/// sequence of a batch: the one-hot / multi-hot / ±1-clock inputs, and the target events or note sets.
public struct SparseRows: Sendable, Equatable {
    public var offsets: [Int32] = [0]
    public var indices: [Int32] = []
    public var values: [Float] = []

    public init() {}

    public var rowCount: Int { offsets.count - 1 }

    public mutating func append(_ entries: [(Int, Float)]) {
        for (i, v) in entries {
            indices.append(Int32(i))
            values.append(v)
        }
        offsets.append(Int32(indices.count))
    }

    public mutating func append(indices row: [Int]) { append(row.map { ($0, 1) }) }

    @inline(__always) public func range(_ r: Int) -> Range<Int> { Int(offsets[r])..<Int(offsets[r + 1]) }

    public func row(_ r: Int) -> [Int] { range(r).map { Int(indices[$0]) } }

    public mutating func removeAll() {
        offsets = [0]
        indices.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
    }
}
