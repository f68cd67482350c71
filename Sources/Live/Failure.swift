/// The sysexits codes and the one-line failure of the command-line contract (docs/DESIGN-NOTES.md §8). They live
/// here, beside the daemon, because loading a preset for `run` or for a reload fails in these terms; the
/// command line prints them (`Failure.report`).
public enum ExitStatus: Int32, Sendable {
    case ok = 0
    case usage = 64
    case dataError = 65
    case noInput = 66
    case unavailable = 69
    case software = 70
    case cannotCreate = 73
    case ioError = 74
}

/// A failure the user can act on: printed as one line `sideman: <subject>: <problem>` on stderr, and
/// the process exits with `status`.
public struct Failure: Error {
    public var subject: String
    public var problem: String
    public var status: ExitStatus

    public init(_ subject: String, _ problem: String, status: ExitStatus) {
        self.subject = subject
        self.problem = problem
        self.status = status
    }
}

