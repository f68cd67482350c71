import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Running a program from a test and collecting what it wrote: the built `sideman` binary as a user runs it,
/// and the tools tests compare against (python3, systemd-analyze, a C compiler).
public enum Program {
    public struct Outcome: Sendable {
        public var status: Int32
        /// Whether a signal ended it (a crash, or the `killAfter` limit).
        public var killed: Bool
        public var stdout: String
        public var stderr: String
        public var stderrLines: [String] { stderr.split(separator: "\n").map(String.init) }
    }

    /// The `sideman` binary SwiftPM builds next to the test bundle (the folder of /proc/self/exe).
    public static var sideman: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("sideman").path
    }

    /// Runs `sideman` to completion; see `run`.
    public static func sideman(
        _ arguments: [String], environment: [String: String] = [:], killAfter: Double? = nil
    ) throws -> Outcome {
        guard FileManager.default.isExecutableFile(atPath: sideman) else { throw ProgramError("sideman not built at \(sideman)") }
        return try run(sideman, arguments, environment: environment, killAfter: killAfter)
    }

    /// Runs `path` to completion with `environment` added to ours, and returns its exit status and both
    /// outputs. `mergeOutput` sends stderr into stdout (one interleaved text, as a terminal shows it).
    /// `killAfter` seconds end a child that hangs with SIGKILL, so a hang fails the test instead of the run.
    public static func run(
        _ path: String, _ arguments: [String], environment: [String: String] = [:], mergeOutput: Bool = false,
        killAfter: Double? = nil
    ) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = mergeOutput ? out : err
        try process.run()
        if let killAfter {
            let pid = process.processIdentifier
            DispatchQueue.global().asyncAfter(deadline: .now() + killAfter) { if process.isRunning { kill(pid, SIGKILL) } }
        }
        // stderr is drained on another thread while stdout is read here, so a chatty child never blocks on
        // a full pipe.
        let errors = Drain(mergeOutput ? nil : err.fileHandleForReading)
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = errors.wait()
        process.waitUntilExit()
        return Outcome(
            status: process.terminationStatus, killed: process.terminationReason == .uncaughtSignal,
            stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
    }
}

/// Reads a pipe to its end on a background thread.
private final class Drain: @unchecked Sendable {
    // @unchecked: `data` is written once by the reading thread before `done` is signalled, and read after.
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle?) {
        guard let handle else {
            done.signal()
            return
        }
        Thread.detachNewThread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }
    }

    func wait() -> Data {
        done.wait()
        return data
    }
}

public struct ProgramError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
