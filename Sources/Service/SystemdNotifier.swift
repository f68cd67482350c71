#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Talks to the service manager over the sd_notify datagram protocol: one datagram of
/// newline-separated `KEY=VALUE` lines to the AF_UNIX socket named by $NOTIFY_SOCKET (a path, or an
/// abstract name written with a leading '@'). Without $NOTIFY_SOCKET every call does nothing, so the
/// daemon behaves the same from a terminal. No libsystemd needed.
public struct SystemdNotifier: Sendable {
    private let socketAddress: [UInt8]?
    /// The watchdog interval the manager asked for ($WATCHDOG_USEC, when $WATCHDOG_PID is ours or unset).
    public let watchdogIntervalMicroseconds: UInt64?

    public init(environment: [String: String] = SystemdNotifier.processEnvironment()) {
        if let path = environment["NOTIFY_SOCKET"], !path.isEmpty,
            path.hasPrefix("/") || path.hasPrefix("@")
        {
            var bytes = Array(path.utf8)
            if bytes[0] == UInt8(ascii: "@") { bytes[0] = 0 }  // abstract namespace
            socketAddress = bytes
        } else {
            socketAddress = nil
        }
        let pidMatches = environment["WATCHDOG_PID"].map { $0 == String(getpid()) } ?? true
        if pidMatches, let text = environment["WATCHDOG_USEC"], let usec = UInt64(text), usec > 0 {
            watchdogIntervalMicroseconds = usec
        } else {
            watchdogIntervalMicroseconds = nil
        }
    }

    /// Whether a service manager is listening.
    public var isActive: Bool { socketAddress != nil }

    /// Ports are up and the daemon serves; `status` is the one-line state `systemctl status` shows.
    @discardableResult
    public func ready(status: String? = nil) -> Bool {
        send(["READY=1"] + (status.map { ["STATUS=\($0)"] } ?? []))
    }

    /// A reload began (SIGHUP). MONOTONIC_USEC lets Type=notify-reload units match it to the signal.
    @discardableResult
    public func reloading() -> Bool {
        send(["RELOADING=1", "MONOTONIC_USEC=\(MonotonicClock.microseconds())"])
    }

    @discardableResult
    public func stopping() -> Bool { send(["STOPPING=1"]) }

    /// Tells the manager the daemon is alive; call only while the engine makes progress.
    @discardableResult
    public func watchdog() -> Bool { send(["WATCHDOG=1"]) }

    @discardableResult
    public func status(_ text: String) -> Bool { send(["STATUS=\(text)"]) }

    /// Sends one datagram; returns whether it was delivered (false also when no manager listens).
    @discardableResult
    public func send(_ assignments: [String]) -> Bool {
        guard let socketAddress, socketAddress.count < 108 else { return false }
        // A newline inside a value would start a new assignment the daemon never meant to send.
        let message = assignments.map { $0.replacingNewlines() }.joined(separator: "\n")
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }

        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { path in
            for (i, byte) in socketAddress.enumerated() { path[i] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + socketAddress.count)
        let sent = message.utf8CString.withUnsafeBufferPointer { text in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketPointer in
                    sendto(fd, text.baseAddress, text.count - 1, Int32(MSG_NOSIGNAL), socketPointer, length)
                }
            }
        }
        return sent == message.utf8.count
    }

    public static func processEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let eq = text.firstIndex(of: "=") {
                result[String(text[..<eq])] = String(text[text.index(after: eq)...])
            }
            pointer += 1
        }
        return result
    }
}

extension String {
    fileprivate func replacingNewlines() -> String {
        String(map { $0 == "\n" || $0 == "\r" ? " " : $0 })
    }
}
