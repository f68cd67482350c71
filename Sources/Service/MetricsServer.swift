#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif
import Synchronization

/// A tiny blocking HTTP/1.1 server for `GET /metrics`, on one plain thread: a scraper asks every few
/// seconds, so one connection at a time, closed after each answer, is all it needs, and nothing of it
/// comes near the engine. Requests are read with a time limit and a size limit, so a client that
/// stalls or floods cannot hold it.
public final class MetricsServer: @unchecked Sendable {
    // @unchecked: `thread` is set by `start` and cleared by `stop`, both on the owner's thread; the
    // serving thread reads only `listener` (immutable) and `stopping` (atomic).

    public let address: MetricsAddress
    /// The port actually bound (differs from `address.port` when that was 0).
    public let boundPort: UInt16
    private let listener: Int32
    private let render: @Sendable () -> String
    private let stopping = Atomic<Bool>(false)
    private var thread: pthread_t?

    /// Largest request accepted; a scraper's GET is a few hundred bytes.
    static let maxRequestBytes = 16 * 1024

    /// Binds and listens at once, so a port in use is reported at startup, not later.
    public init(address: MetricsAddress, render: @escaping @Sendable () -> String) throws(MetricsServerError) {
        self.address = address
        self.render = render
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw MetricsServerError(address, "cannot create a socket: \(Self.errorText())") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var socketAddress = Self.socketAddress(address)
        let bound = withUnsafePointer(to: &socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 8) == 0 else {
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

    /// Stops serving and waits for the thread (at most one poll interval plus one request).
    public func stop() {
        guard let thread else { return }
        stopping.store(true, ordering: .releasing)
        pthread_join(thread, nil)
        self.thread = nil
    }

    private func serve() {
        while !stopping.load(ordering: .acquiring) {
            var ready = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, 200) > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            answer(client)
            close(client)
        }
    }

    private func answer(_ client: Int32) {
        var limit = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        guard let request = readRequest(client) else {
            respond(client, status: "400 Bad Request", body: "bad request\n")
            return
        }
        let fields = request.split(separator: " ")
        guard fields.count == 3, fields[2].hasPrefix("HTTP/1.") else {
            respond(client, status: "400 Bad Request", body: "bad request\n")
            return
        }
        let path = fields[1].split(separator: "?", maxSplits: 1).first.map(String.init) ?? ""
        guard fields[0] == "GET" || fields[0] == "HEAD" else {
            respond(client, status: "405 Method Not Allowed", body: "only GET\n", extra: "Allow: GET, HEAD\r\n")
            return
        }
        guard path == "/metrics" else {
            respond(client, status: "404 Not Found", body: "try /metrics\n")
            return
        }
        respond(
            client, status: "200 OK", body: render(), contentType: "text/plain; version=0.0.4; charset=utf-8",
            headOnly: fields[0] == "HEAD")
    }

    /// The request line, once the whole header has arrived; nil on timeout, overflow or close.
    private func readRequest(_ client: Int32) -> String? {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 2048)
        let terminator: [UInt8] = Array("\r\n\r\n".utf8)
        while received.count < Self.maxRequestBytes {
            let count = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return nil }
            received += chunk[0..<count]
            let tail = received.suffix(count + 3)
            if tail.firstRange(of: terminator) != nil {
                let lineEnd = received.firstIndex(of: 0x0D) ?? received.count
                return String(decoding: received[0..<lineEnd], as: UTF8.self)
            }
        }
        return nil
    }

    private func respond(
        _ client: Int32, status: String, body: String, contentType: String = "text/plain; charset=utf-8",
        extra: String = "", headOnly: Bool = false
    ) {
        let bodyBytes = Array(body.utf8)
        let head =
            "HTTP/1.1 \(status)\r\nContent-Type: \(contentType)\r\nContent-Length: \(bodyBytes.count)\r\n\(extra)Connection: close\r\n\r\n"
        let bytes = Array(head.utf8) + (headOnly ? [] : bodyBytes)
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { return }
            offset += sent
        }
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
