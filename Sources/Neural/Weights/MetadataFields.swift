/// A weights file's metadata read field by field: a missing field, or one that is not a number in its
/// range, is refused with its key named, before anything is sized from it.
public struct MetadataFields {
    public let values: [String: String]

    public init(_ values: [String: String]) { self.values = values }

    public func text(_ key: String) throws(WeightsError) -> String {
        guard let value = values[key] else { throw WeightsError("metadata lacks \(key)") }
        return value
    }

    public func int(_ key: String, _ range: ClosedRange<Int>) throws(WeightsError) -> Int {
        let t = try text(key)
        guard let v = Int(t), range.contains(v) else { throw WeightsError("metadata \(key) = \(t) is not an integer in \(range)") }
        return v
    }

    public func float(_ key: String, _ range: ClosedRange<Float>) throws(WeightsError) -> Float {
        let t = try text(key)
        guard let v = Float(t), v.isFinite, range.contains(v) else { throw WeightsError("metadata \(key) = \(t) is not a number in \(range)") }
        return v
    }
}
