/// A weights file or tensor set that cannot be used, with a one-line description for `sideman: <file>: ...`.
public struct WeightsError: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
