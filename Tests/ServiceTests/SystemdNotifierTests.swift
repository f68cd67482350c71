import Glibc
import Testing

@testable import Service

/// A datagram socket standing in for systemd's notify socket: the real protocol, a real kernel socket.
private final class NotifySocket {
    let fd: Int32
    let path: String

    init() throws {
        path = "/tmp/sideman-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (i, byte) in path.utf8.enumerated() { buffer[i] = byte }
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        try #require(rc == 0)
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    func receive() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        guard n > 0 else { return nil }
        return String(decoding: buffer[..<n], as: UTF8.self)
    }

    deinit {
        close(fd)
        unlink(path)
    }
}

@Suite struct SystemdNotifierTests {
    @Test func sendsReadyWithStatusAsOneDatagram() throws {
        let socket = try NotifySocket()
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.path])
        #expect(notifier.isActive)
        #expect(notifier.ready(status: "preset default, ports sideman:in sideman:out"))
        #expect(socket.receive() == "READY=1\nSTATUS=preset default, ports sideman:in sideman:out")
    }

    @Test func reloadingCarriesMonotonicTimestamp() throws {
        let socket = try NotifySocket()
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.path])
        notifier.reloading()
        let lines = try #require(socket.receive()).split(separator: "\n")
        #expect(lines.first == "RELOADING=1")
        let stamp = try #require(lines.last?.split(separator: "=").last.flatMap { UInt64($0) })
        #expect(stamp > 0)
    }

    @Test func stoppingAndWatchdog() throws {
        let socket = try NotifySocket()
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.path])
        notifier.watchdog()
        #expect(socket.receive() == "WATCHDOG=1")
        notifier.stopping()
        #expect(socket.receive() == "STOPPING=1")
    }

    @Test func newlinesInStatusCannotInjectAssignments() throws {
        let socket = try NotifySocket()
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.path])
        notifier.status("bad\nREADY=1")
        #expect(socket.receive() == "STATUS=bad READY=1")
    }

    @Test func withoutNotifySocketNothingIsSent() {
        let notifier = SystemdNotifier(environment: [:])
        #expect(!notifier.isActive)
        #expect(!notifier.ready())
    }

    @Test func watchdogIntervalOnlyForOurPid() {
        let ours = SystemdNotifier(environment: ["WATCHDOG_USEC": "5000000", "WATCHDOG_PID": String(getpid())])
        #expect(ours.watchdogIntervalMicroseconds == 5_000_000)
        let other = SystemdNotifier(environment: ["WATCHDOG_USEC": "5000000", "WATCHDOG_PID": "1"])
        #expect(other.watchdogIntervalMicroseconds == nil)
        let unset = SystemdNotifier(environment: [:])
        #expect(unset.watchdogIntervalMicroseconds == nil)
    }
}
