#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif
import Synchronization

/// A small HTTP/1.1 server for `GET /metrics`, on one plain thread that polls every open connection,
/// so nothing of it comes near the engine. Each connection has `requestDeadline` seconds, from accept
/// to the last byte of the answer, and is closed after one answer; at most `maxConnections` are open,
/// and one more arriving closes the oldest still sending its request. A client that trickles bytes
/// or sits idle therefore holds one slot for two seconds at most and never delays anyone else's scrape.
/// With a token, every request must carry `Authorization: Bearer TOKEN` or gets 401.
public final class MetricsServer: @unchecked Sendable {
    // @unchecked: `thread` is set by `start` and cleared by `stop`, both on the owner's thread; the
    // serving thread reads only immutable state and `stopping` (atomic), and owns the connections.

    public let address: MetricsAddress
    /// The port actually bound (differs from `address.port` when that was 0).
    public let boundPort: UInt16
    private let listener: Int32
    private let render: @Sendable () -> String
    private let token: [UInt8]?
    private let stopping = Atomic<Bool>(false)
    private var thread: pthread_t?

    /// Largest request accepted; a scraper's GET is a few hundred bytes.
    static let maxRequestBytes = 16 * 1024
    /// Seconds from accept to the end of the answer, for the whole request, not per read.
    public static let requestDeadline = 2.0
    /// Connections served at once: a scraper or two, and room for clients that stall.
    public static let maxConnections = 16

    /// Binds and listens at once, so a port in use is reported at startup, not later. With a `token`,
    /// only requests that present it are answered.
    public init(
        address: MetricsAddress, token: String? = nil, render: @escaping @Sendable () -> String
    ) throws(MetricsServerError) {
        self.address = address
        self.render = render
        self.token = token.map { Array($0.utf8) }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw MetricsServerError(address, "cannot create a socket: \(Self.errorText())") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var socketAddress = Self.socketAddress(address)
        let bound = withUnsafePointer(to: &socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            let reason = Self.errorText()
            close(fd)
            throw MetricsServerError(address, "cannot listen: \(reason)")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        boundPort = UInt16(bigEndian: actual.sin_port)
    }

    deinit {
        stop()
        close(listener)
    }

    /// Starts serving on a new thread.
    public func start() {
        guard thread == nil else { return }
        let context = Unmanaged.passRetained(self).toOpaque()
        let body: @convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? = { raw in
            let server = Unmanaged<MetricsServer>.fromOpaque(raw!).takeRetainedValue()
            server.serve()
            return nil
        }
        var handle = pthread_t()
        guard pthread_create(&handle, nil, body, context) == 0 else {
            Unmanaged<MetricsServer>.fromOpaque(context).release()
            return
        }
        thread = handle
    }

    /// Stops serving and waits for the thread (at most one poll interval); open connections are closed.
    public func stop() {
        guard let thread else { return }
        stopping.store(true, ordering: .releasing)
        pthread_join(thread, nil)
        self.thread = nil
    }

    /// One client: its request as it arrives, then its answer as it leaves.
    private struct Connection {
        let fd: Int32
        let deadline: Double
        var received: [UInt8] = []
        var answer: [UInt8] = []
        var sent = 0
        var isAnswering: Bool { !answer.isEmpty }
    }

    private func serve() {
        var connections: [Connection] = []
        defer { for connection in connections { close(connection.fd) } }
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !stopping.load(ordering: .acquiring) {
            let time = MonotonicClock.seconds()
            // Out of time: closed without an answer (the client was too slow to deserve one).
            connections.removeAll { connection in
                guard connection.deadline <= time else { return false }
                close(connection.fd)
                return true
            }
            var watched = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
            for connection in connections {
                watched.append(pollfd(fd: connection.fd, events: Int16(connection.isAnswering ? POLLOUT : POLLIN), revents: 0))
            }
            let nearest = connections.map(\.deadline).min().map { max(0, $0 - time) } ?? 0.2
            let timeout = Int32(min(200, (nearest * 1000).rounded(.up)) + 1)
            guard poll(&watched, nfds_t(watched.count), timeout) > 0 else { continue }
            for index in connections.indices.reversed() where watched[index + 1].revents != 0 {
                if !progress(&connections[index], chunk: &chunk) {
                    close(connections[index].fd)
                    connections.remove(at: index)
                }
            }
            if watched[0].revents & Int16(POLLIN) != 0 { acceptWaiting(into: &connections) }
        }
    }

    /// Accepts every connection waiting; past `maxConnections`, the oldest still sending its request
    /// is closed for each newcomer (one being answered is about to finish anyway).
    private func acceptWaiting(into connections: inout [Connection]) {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            // accept4 is out of Glibc's Swift overlay; a listener's flags are not inherited on Linux.
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            _ = fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK)
            if connections.count >= Self.maxConnections {
                let victim = connections.firstIndex { !$0.isAnswering } ?? 0
                close(connections[victim].fd)
                connections.remove(at: victim)
            }
            connections.append(Connection(fd: client, deadline: MonotonicClock.seconds() + Self.requestDeadline))
        }
    }

    /// Reads what has arrived, or sends what the socket takes. False when the connection is done:
    /// answered, closed by the client, or broken.
    private func progress(_ connection: inout Connection, chunk: inout [UInt8]) -> Bool {
        if !connection.isAnswering {
            let count = chunk.withUnsafeMutableBytes { recv(connection.fd, $0.baseAddress, $0.count, 0) }
            if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) { return true }
            guard count > 0 else { return false }
            let searchFrom = max(0, connection.received.count - 3)
            connection.received += chunk[0..<count]
            let terminator: [UInt8] = Array("\r\n\r\n".utf8)
            if let end = connection.received[searchFrom...].firstRange(of: terminator) {
                connection.answer = answer(connection.received[..<end.lowerBound])
            } else if connection.received.count >= Self.maxRequestBytes {
                connection.answer = Self.response(status: "400 Bad Request", body: "bad request\n")
            } else {
                return true
            }
        }
        while connection.sent < connection.answer.count {
            let sent = connection.answer[connection.sent...].withUnsafeBytes {
                send(connection.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) { return true }
            guard sent > 0 else { return false }
            connection.sent += sent
        }
        return false
    }

    /// The answer to a request, given its head (request line and header fields, without the blank line).
    private func answer(_ head: ArraySlice<UInt8>) -> [UInt8] {
        let lines = String(decoding: head, as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: false)
        let fields = lines.first?.split(separator: " ") ?? []
        guard fields.count == 3, fields[2].hasPrefix("HTTP/1.") else {
            return Self.response(status: "400 Bad Request", body: "bad request\n")
        }
        if let token, !Self.presents(token, in: lines.dropFirst()) {
            return Self.response(
                status: "401 Unauthorized", body: "a bearer token is required\n",
                extra: "WWW-Authenticate: Bearer realm=\"sideman\"\r\n")
        }
        let path = fields[1].split(separator: "?", maxSplits: 1).first.map(String.init) ?? ""
        guard fields[0] == "GET" || fields[0] == "HEAD" else {
            return Self.response(status: "405 Method Not Allowed", body: "only GET\n", extra: "Allow: GET, HEAD\r\n")
        }
        guard path == "/metrics" else {
            return Self.response(status: "404 Not Found", body: "try /metrics\n")
        }
        return Self.response(
            status: "200 OK", body: render(), contentType: "text/plain; version=0.0.4; charset=utf-8",
            headOnly: fields[0] == "HEAD")
    }

    /// Whether one `Authorization: Bearer TOKEN` field carries the token (field name and scheme in
    /// any case, as HTTP has them).
    static func presents(_ token: [UInt8], in fields: some Sequence<Substring>) -> Bool {
        var found = false
        for field in fields {
            guard let colon = field.firstIndex(of: ":"),
                field[..<colon].lowercased() == "authorization"
            else { continue }
            let value = field[field.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
            let parts = value.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else { continue }
            var presented = Array(parts[1].utf8)
            while presented.last == 0x20 || presented.last == 0x09 { presented.removeLast() }
            // Every field is compared, so the time taken does not say which one matched.
            if MetricsToken.matches(presented, token) { found = true }
        }
        return found
    }

    private static func response(
        status: String, body: String, contentType: String = "text/plain; charset=utf-8", extra: String = "",
        headOnly: Bool = false
    ) -> [UInt8] {
        let bodyBytes = Array(body.utf8)
        let head =
            "HTTP/1.1 \(status)\r\nContent-Type: \(contentType)\r\nContent-Length: \(bodyBytes.count)\r\n\(extra)Connection: close\r\n\r\n"
        return Array(head.utf8) + (headOnly ? [] : bodyBytes)
    }

    private static func socketAddress(_ address: MetricsAddress) -> sockaddr_in {
        var result = sockaddr_in()
        result.sin_family = sa_family_t(AF_INET)
        result.sin_port = address.port.bigEndian
        let value = address.octets.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        result.sin_addr = in_addr(s_addr: value.bigEndian)
        return result
    }

    static func errorText() -> String { String(cString: strerror(errno)) }
}

public struct MetricsServerError: Error, Sendable, CustomStringConvertible {
    public var subject: String
    public var problem: String
    init(_ address: MetricsAddress, _ problem: String) {
        subject = "metrics \(address)"
        self.problem = problem
    }
    public var description: String { "\(subject): \(problem)" }
}
