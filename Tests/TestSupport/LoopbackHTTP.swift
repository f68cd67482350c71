#if canImport(Glibc)
    import Glibc
#endif

/// A one-shot HTTP/1.1 client for loopback servers in tests: sends `request` raw to 127.0.0.1:port
/// and returns the status code and body (or nil when the connection fails).
public enum LoopbackHTTP {
    public struct Response: Sendable {
        public var status: Int
        public var headers: [String]
        public var body: String
    }

    public static func get(port: UInt16, path: String = "/metrics") -> Response? {
        exchange(port: port, request: "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    }

    /// A GET of /metrics carrying `Authorization: Bearer <token>`.
    public static func get(port: UInt16, token: String) -> Response? {
        exchange(
            port: port,
            request: "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\nConnection: close\r\n\r\n")
    }

    /// A TCP connection to 127.0.0.1:port with a 5 s receive limit, or nil; the caller closes it.
    public static func connect(port: UInt16) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var limit = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr = in_addr(s_addr: UInt32(0x7F00_0001).bigEndian)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            return nil
        }
        return fd
    }

    /// Whether the server has closed `fd` (end of stream or reset), without waiting.
    public static func isClosedByServer(_ fd: Int32) -> Bool {
        var byte: UInt8 = 0
        let count = recv(fd, &byte, 1, Int32(MSG_DONTWAIT))
        return count == 0 || (count < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    }

    public static func exchange(port: UInt16, request: String) -> Response? {
        guard let fd = connect(port: port) else { return nil }
        defer { close(fd) }
        let bytes = Array(request.utf8)
        guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else { return nil }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            received += chunk[0..<count]
        }
        let text = String(decoding: received, as: UTF8.self)
        guard let split = text.firstRange(of: "\r\n\r\n") else { return nil }
        let head = text[..<split.lowerBound].split(separator: "\r\n").map(String.init)
        guard let statusLine = head.first, statusLine.hasPrefix("HTTP/1.1 "),
            let status = Int(statusLine.split(separator: " ")[1])
        else { return nil }
        return Response(status: status, headers: Array(head.dropFirst()), body: String(text[split.upperBound...]))
    }

    /// Parses Prometheus text exposition: sample name (with labels) -> value; comments skipped.
    public static func samples(_ exposition: String) -> [String: Double] {
        var result: [String: Double] = [:]
        for line in exposition.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            result[String(line[..<space])] = value
        }
        return result
    }
}
