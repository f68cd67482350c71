/// Element types a safetensors file may declare. Everything the step path reads is widened to Float.
public enum DType: String, Sendable, CaseIterable {
    case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
    case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8", u8 = "U8", bool = "BOOL"

    public var byteSize: Int {
        switch self {
        case .f64, .i64: 8
        case .f32, .i32: 4
        case .f16, .bf16, .i16: 2
        case .i8, .u8, .bool: 1
        }
    }
}

/// A named weight tensor: shape and row-major values, held as Float whatever the file's dtype.
public struct Tensor: Sendable, Equatable {
    public var shape: [Int]
    public var values: [Float]

    public init(shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "shape \(shape) does not match \(values.count) values")
        self.shape = shape
        self.values = values
    }

    public init(shape: [Int], repeating value: Float = 0) {
        self.init(shape: shape, values: [Float](repeating: value, count: shape.reduce(1, *)))
    }
}

/// The tensors and metadata of one model, as read from or written to a safetensors file.
public struct WeightSet: Sendable, Equatable {
    public var tensors: [String: Tensor]
    public var metadata: [String: String]

    public init(tensors: [String: Tensor] = [:], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }
}

/// Hands a model its tensors by name, checking each shape, and afterwards that none was left unused, so a
/// file built for another configuration is refused rather than half-loaded.
public final class WeightReader {
    private let set: WeightSet
    private var used: Set<String> = []

    public init(_ set: WeightSet) { self.set = set }

    public func take(_ name: String, shape: [Int]) throws(WeightsError) -> [Float] {
        guard let tensor = set.tensors[name] else { throw WeightsError("missing tensor \(name)") }
        guard tensor.shape == shape else {
            throw WeightsError("tensor \(name) has shape \(tensor.shape), the configuration needs \(shape)")
        }
        used.insert(name)
        return tensor.values
    }

    public func finish() throws(WeightsError) {
        let extra = set.tensors.keys.filter { !used.contains($0) }.sorted()
        if let first = extra.first {
            throw WeightsError("unexpected tensor \(first) for this configuration")
        }
    }

    public func metadata(_ key: String) throws(WeightsError) -> String {
        guard let value = set.metadata[key] else { throw WeightsError("metadata lacks \(key)") }
        return value
    }

    /// A key the configuration may leave out (nil when absent).
    public func optionalMetadata(_ key: String) -> String? { set.metadata[key] }

    public func integer(_ key: String, in range: ClosedRange<Int>) throws(WeightsError) -> Int {
        let text = try metadata(key)
        guard let value = Int(text), range.contains(value) else {
            throw WeightsError("metadata \(key) = \(text) is not an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }
}
