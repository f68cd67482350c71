#if canImport(Glibc)
    import Glibc
#endif

/// A datagram socket standing in for systemd's notify socket: the real protocol on a real kernel socket.
public final class NotifySocket {
    public struct SetupError: Error, CustomStringConvertible {
        public var description: String
    }

    public let path: String
    private let fd: Int32

    public init() throws {
        path = "/tmp/sideman-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (i, byte) in path.utf8.enumerated() { buffer[i] = byte }
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard fd >= 0, rc == 0 else { throw SetupError(description: "cannot bind \(path)") }
    }

    /// The next datagram, or nil after `timeout` seconds.
    public func receive(timeout: Double = 2) -> String? {
        var wait = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n > 0 ? String(decoding: buffer[..<n], as: UTF8.self) : nil
    }

    /// Datagrams until one starts with `prefix` (returned), or nil after `timeout` seconds.
    public func waitFor(_ prefix: String, timeout: Double = 20) -> String? {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let deadline = Double(now.tv_sec) + Double(now.tv_nsec) / 1e9 + timeout
        while true {
            clock_gettime(CLOCK_MONOTONIC, &now)
            let left = deadline - (Double(now.tv_sec) + Double(now.tv_nsec) / 1e9)
            guard left > 0 else { return nil }
            if let message = receive(timeout: max(0.05, left)), message.hasPrefix(prefix) { return message }
        }
    }

    deinit {
        close(fd)
        unlink(path)
    }
}
