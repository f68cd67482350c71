#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reading presets, models and MIDI files: only regular files are opened, so a FIFO, a device or a socket
/// named by mistake is refused at once instead of hanging the command (or the daemon's reload) forever.
public enum InputFile {
    /// Requires `path` to name a regular file (links followed) without opening it; returns its status.
    @discardableResult
    public static func check(_ path: String) throws(FileProblem) -> FileStatus {
        guard let status = FileStatus(path: path) else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { throw FileProblem(path, "no such file", .missing) }
            throw FileProblem(path, "cannot be read: \(systemMessage(code))", .unreadable)
        }
        guard status.kind == .regular else {
            throw FileProblem(path, "is \(status.kind.noun), not a regular file", .notRegular)
        }
        return status
    }

    /// The whole file, at most `limit` bytes. Checked before it is opened, then opened non-blocking and
    /// checked again on the descriptor, so a file swapped for a FIFO in between cannot hang the read either.
    public static func read(_ path: String, limit: Int) throws(FileProblem) -> [UInt8] {
        let before = try check(path)
        guard before.size <= limit else { throw FileProblem(path, "is too large", .tooLarge(bytes: before.size)) }
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw FileProblem(path, "cannot be read: \(systemMessage(errno))", .unreadable) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw FileProblem(path, "cannot be read: \(systemMessage(errno))", .unreadable) }
        let opened = FileStatus(info)
        guard opened.kind == .regular else {
            throw FileProblem(path, "is \(opened.kind.noun), not a regular file", .notRegular)
        }
        guard opened.size <= limit else { throw FileProblem(path, "is too large", .tooLarge(bytes: opened.size)) }
        // One byte more than the limit allows, to notice a file that grew since fstat.
        var bytes = [UInt8](repeating: 0, count: opened.size + 1)
        var count = 0
        while count < bytes.count {
            let n = bytes.withUnsafeMutableBytes { readBytes(fd, $0.baseAddress! + count, $0.count - count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileProblem(path, "cannot be read: \(systemMessage(errno))", .unreadable)
            }
            if n == 0 { break }
            count += n
        }
        guard count <= limit else { throw FileProblem(path, "is too large", .tooLarge(bytes: count)) }
        bytes.removeSubrange(count...)
        return bytes
    }
}

/// read(2), named apart from `InputFile.read`, which would otherwise hide it.
private func readBytes(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(fd, buffer, count)
}
