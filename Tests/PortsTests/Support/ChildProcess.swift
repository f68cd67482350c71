import Foundation

/// A child process with its stdout (and optionally stderr) read line by line on background threads,
/// so tests can wait for a line with a timeout instead of sleeping.
final class ChildProcess: @unchecked Sendable {
    // @unchecked: the line buffers are guarded by `condition`; `process` is only used by the test.
    let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let errors = Pipe()
    private let condition = NSCondition()
    private var outLines: [String] = []
    private var errLines: [String] = []
    private var outEOF = false
    private var errEOF = false

    init(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        // A child that died must not take the test process with it when we write to its stdin.
        Glibc.signal(SIGPIPE, SIG_IGN)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        startReading(output.fileHandleForReading, isError: false)
        startReading(errors.fileHandleForReading, isError: true)
    }

    var pid: Int32 { process.processIdentifier }

    private func startReading(_ handle: FileHandle, isError: Bool) {
        let thread = Thread { [self] in
            var pending = Data()
            while true {
                let chunk = handle.availableData
                condition.lock()
                if chunk.isEmpty {
                    if !pending.isEmpty { append(String(decoding: pending, as: UTF8.self), isError: isError) }
                    if isError { errEOF = true } else { outEOF = true }
                    condition.broadcast()
                    condition.unlock()
                    return
                }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: 0x0A) {
                    append(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self), isError: isError)
                    pending.removeSubrange(pending.startIndex...newline)
                }
                condition.broadcast()
                condition.unlock()
            }
        }
        thread.start()
    }

    private func append(_ line: String, isError: Bool) {
        if isError { errLines.append(line) } else { outLines.append(line) }
    }

    func send(_ line: String) {
        try? input.fileHandleForWriting.write(contentsOf: Data((line + "\n").utf8))
    }

    /// The next stdout line, or nil after `timeout` seconds or at end of output.
    func nextLine(timeout: Double = 20) -> String? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while outLines.isEmpty && !outEOF {
            if !condition.wait(until: deadline) { return nil }
        }
        return outLines.isEmpty ? nil : outLines.removeFirst()
    }

    /// Waits until some stderr line contains `text`; returns that line.
    func waitForError(containing text: String, timeout: Double = 20) -> String? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let line = errLines.first(where: { $0.contains(text) }) { return line }
            if !condition.wait(until: deadline) { return nil }
        }
    }

    var errorLines: [String] {
        condition.lock()
        defer { condition.unlock() }
        return errLines
    }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits for exit, and for its output to be read to the end (so `errorLines` is complete);
    /// returns the status, or nil when it did not exit in time.
    func waitForExit(timeout: Double = 20) -> Int32? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while process.isRunning {
            if Date() > deadline { return nil }
            usleep(10_000)
        }
        condition.lock()
        // A grandchild holding the pipes open must not hang the test: the wait for EOF is bounded.
        let drained = Date(timeIntervalSinceNow: 5)
        while !(outEOF && errEOF) && condition.wait(until: drained) {}
        condition.unlock()
        return process.terminationStatus
    }

    /// Ends the process if still running (SIGKILL after a grace period) and reaps it.
    func stop() {
        if process.isRunning {
            signal(SIGTERM)
            if waitForExit(timeout: 5) == nil {
                signal(SIGKILL)
                _ = waitForExit(timeout: 5)
            }
        }
        try? input.fileHandleForWriting.close()
    }
}
