#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Every file Sideman writes (rendered MIDI, piano rolls, models, checkpoints, session recordings) goes
/// through here, so that an output never replaces one of the command's inputs, never blocks on a FIFO, and
/// a reader never sees half a file: the bytes go to a temporary file beside the target, which is then
/// renamed over it.
public enum OutputFile {
    /// Refuses a path that cannot be written or that names one of `inputs`, before any work is done:
    /// a mistake found after an hour of training or rendering costs the hour.
    public static func check(_ path: String, notOver inputs: [String] = []) throws(FileProblem) {
        let target = resolved(path)
        let existing = FileStatus(path: target)
        if let existing, existing.kind != .regular {
            throw FileProblem(path, "cannot create: is \(existing.kind.noun), not a regular file", .cannotCreate)
        }
        for input in inputs {
            let sameInode = existing.map { FileStatus(path: input)?.isSameFile(as: $0) == true } ?? false
            if sameInode || canonical(input) == canonical(target) {
                let which = input == path ? "an input of this command" : "the same file as the input \(input)"
                throw FileProblem(path, "is \(which); write the output to another file", .sameAsInput)
            }
        }
        let folder = parent(of: target)
        guard let place = FileStatus(path: folder) else { throw cannotCreate(path, errno) }
        guard place.kind == .directory else { throw cannotCreate(path, ENOTDIR) }
        guard access(folder, W_OK | X_OK) == 0 else { throw cannotCreate(path, errno) }
    }

    /// Writes `bytes` to `path` after `check`. Atomically (temporary file, fsync, rename) where the folder
    /// lets us create files; in place where only the existing file itself is writable.
    public static func write(_ bytes: [UInt8], to path: String, notOver inputs: [String] = []) throws(FileProblem) {
        try check(path, notOver: inputs)
        let target = resolved(path)
        let existing = FileStatus(path: target)
        let temporary = temporaryName(for: target)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard fd >= 0 else {
            let code = errno
            if existing != nil, code == EACCES || code == EPERM { return try writeInPlace(bytes, path: path, target: target) }
            throw cannotCreate(path, code)
        }
        var renamed = false
        defer { if !renamed { unlink(temporary) } }
        if let existing { _ = fchmod(fd, existing.permissions) }
        try finish(fd, bytes, path: path)
        guard rename(temporary, target) == 0 else {
            throw FileProblem(path, "I/O error: \(systemMessage(errno))", .ioError)
        }
        renamed = true
    }

    /// Creates `path` and the folders above it, like `mkdir -p`, and requires that files can be made in it.
    public static func makeFolder(_ path: String) throws(FileProblem) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o777) != 0, errno != EEXIST {
                throw cannotCreate(path, errno)
            }
        }
        guard let status = FileStatus(path: path) else {
            throw cannotCreate(path, errno)
        }
        guard status.kind == .directory else {
            throw cannotCreate(path, ENOTDIR)
        }
        guard access(path, W_OK | X_OK) == 0 else {
            throw cannotCreate(path, errno)
        }
    }

    // MARK: -

    /// `cannot create: <the C library's words for code>`.
    private static func cannotCreate(_ path: String, _ code: Int32) -> FileProblem {
        FileProblem(path, "cannot create: \(systemMessage(code))", .cannotCreate)
    }

    private static func writeInPlace(_ bytes: [UInt8], path: String, target: String) throws(FileProblem) {
        // Non-blocking, and checked on the descriptor: the check above looked at the path, not at this file.
        let fd = open(target, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw cannotCreate(path, errno) }
        var info = stat()
        guard fstat(fd, &info) == 0, FileStatus(info).kind == .regular, ftruncate(fd, 0) == 0 else {
            let code = errno
            close(fd)
            throw cannotCreate(path, code)
        }
        try finish(fd, bytes, path: path)
    }

    /// Writes everything, flushes it to the disk and closes `fd`, which is closed whatever happens.
    private static func finish(_ fd: Int32, _ bytes: [UInt8], path: String) throws(FileProblem) {
        var written = 0
        var failure: Int32 = 0
        bytes.withUnsafeBytes { buffer in
            while written < buffer.count {
                let n = writeBytes(fd, buffer.baseAddress! + written, buffer.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                written += n
            }
        }
        if failure == 0, fsync(fd) != 0, errno != EINVAL { failure = errno }
        if close(fd) != 0, failure == 0 { failure = errno }
        guard failure == 0 else { throw FileProblem(path, "I/O error: \(systemMessage(failure))", .ioError) }
    }

    /// Where a link points, so that writing through it replaces the file it names, not the link.
    private static func resolved(_ path: String) -> String {
        realPath(path) ?? path
    }

    /// The absolute path without links, for a file that may not exist yet (its folder resolved instead).
    private static func canonical(_ path: String) -> String {
        realPath(path) ?? realPath(parent(of: path)).map { $0 + "/" + (path.split(separator: "/").last ?? "") } ?? path
    }

    private static func realPath(_ path: String) -> String? {
        guard let real = realpath(path, nil) else { return nil }
        defer { free(real) }
        return String(cString: real)
    }

    private static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// A name beside `target`, hidden, unique to this process and call.
    private static func temporaryName(for target: String) -> String {
        let folder = parent(of: target)
        let name = target.split(separator: "/").last.map(String.init) ?? "output"
        return "\(folder)/.\(name).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).partial"
    }
}

/// write(2), named apart from `OutputFile.write`, which would otherwise hide it.
private func writeBytes(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}
