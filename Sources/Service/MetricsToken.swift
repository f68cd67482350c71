#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The bearer token a metrics scraper must send, read from a file the way credentials are kept on a
/// Linux box: the file is the secret, so one that others can read is refused rather than trusted
/// (`chmod 600`, or systemd's `LoadCredential=`, which gives the service a private copy).
public enum MetricsToken {
    /// Shortest token accepted: anything shorter is guessable over a network (`openssl rand -hex 32`
    /// gives 64 characters).
    public static let minimumLength = 16
    static let maximumFileBytes = 4096

    /// The token: the file's content less surrounding whitespace (an editor's final newline).
    public static func read(path: String) throws(MetricsTokenError) -> String {
        // O_NONBLOCK: a FIFO must not hang the start; fstat below refuses anything but a file.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            throw MetricsTokenError(path: path, problem: "cannot read the metrics token: \(String(cString: strerror(errno)))", isUnreadable: true)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw MetricsTokenError(path: path, problem: "the metrics token must be a regular file")
        }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw MetricsTokenError(
                path: path, problem: "the metrics token file is open to group or others (mode \(String(mode, radix: 8))); chmod 600 it")
        }
        var bytes = [UInt8](repeating: 0, count: maximumFileBytes + 1)
        var count = 0
        while count < bytes.count {
            let n = bytes[count...].withUnsafeMutableBytes { readBytes(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            count += n
        }
        guard count <= maximumFileBytes else {
            throw MetricsTokenError(path: path, problem: "the metrics token file is over \(maximumFileBytes) bytes")
        }
        let token = String(decoding: bytes[..<count], as: UTF8.self).trimmingWhitespace()
        // Only what may stand in an Authorization header (RFC 7235's token68 and a little more).
        guard token.utf8.count >= minimumLength, token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw MetricsTokenError(
                path: path,
                problem: "the metrics token must be one line of at least \(minimumLength) printable ASCII characters without spaces (e.g. openssl rand -hex 32)")
        }
        return token
    }

    /// Compares a presented token with the expected one in time that depends only on the expected
    /// token's length, so response times do not reveal how much of a guess was right.
    public static func matches(_ presented: some Collection<UInt8>, _ expected: [UInt8]) -> Bool {
        var difference: UInt8 = presented.count == expected.count ? 0 : 1
        var iterator = presented.makeIterator()
        for byte in expected { difference |= byte ^ (iterator.next() ?? ~byte) }
        return difference == 0
    }
}

public struct MetricsTokenError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var problem: String
    /// The file could not be opened at all (missing, no permission), as opposed to unusable.
    public var isUnreadable = false
    public var description: String { "\(path): \(problem)" }
}

/// read(2), named apart from `MetricsToken.read`.
private func readBytes(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int { read(fd, buffer, count) }

extension String {
    fileprivate func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0.isWhitespace }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
