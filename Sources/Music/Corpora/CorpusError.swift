/// A data file that cannot be used: names the file and what is wrong, for a one-line CLI error.
public struct CorpusError: Error, CustomStringConvertible {
    public var file: String
    public var problem: String

    public init(file: String, problem: String) {
        self.file = file
        self.problem = problem
    }

    public var description: String { "\(file): \(problem)" }
}
