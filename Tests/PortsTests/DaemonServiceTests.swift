import Foundation
import Testing

/// `sideman run` under a service manager: the sd_notify datagrams systemd would receive, read from a
/// real AF_UNIX datagram socket while the daemon runs against a real jackd.
@Suite(.serialized, .enabled(if: TestPaths.jackMissing == nil, "needs jackd and python3-jack-client (scripts/setup.sh)"))
struct DaemonServiceTests {
    /// Stands in for systemd's notify socket.
    final class NotifySocket {
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
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard rc == 0 else { throw HarnessError("cannot bind \(path)") }
        }

        /// The next datagram, or nil after `timeout` seconds.
        func receive(timeout: Double = 20) -> String? {
            var timeoutValue = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1e6))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeoutValue, socklen_t(MemoryLayout<timeval>.size))
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = recv(fd, &buffer, buffer.count, 0)
            return n > 0 ? String(decoding: buffer[..<n], as: UTF8.self) : nil
        }

        /// Datagrams until one starts with `prefix` (returned), or nil.
        func waitFor(_ prefix: String, timeout: Double = 20) -> String? {
            let deadline = Date(timeIntervalSinceNow: timeout)
            while Date() < deadline {
                if let message = receive(timeout: max(0.1, deadline.timeIntervalSinceNow)), message.hasPrefix(prefix) {
                    return message
                }
            }
            return nil
        }

        deinit {
            close(fd)
            unlink(path)
        }
    }

    @Test func readyWatchdogReloadAndStopping() throws {
        let server = try JackServer()
        defer { server.stop() }
        let notify = try NotifySocket()
        let preset = TestPaths.packageRoot.appendingPathComponent("presets/default.yaml").path
        let daemon = try ChildProcess(
            TestPaths.sideman, ["run", "--backend", "jack", "--preset", preset],
            environment: server.environment.merging(["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "400000"]) { $1 })
        defer { daemon.stop() }

        let ready = try #require(notify.waitFor("READY=1"), "no READY: \(daemon.errorLines)")
        #expect(ready.contains("STATUS=preset \(preset); jack sideman:in -> sideman:out"))
        // 400 ms watchdog: pings come at least every 200 ms while the engine runs.
        #expect(notify.waitFor("WATCHDOG=1", timeout: 2) != nil)
        #expect(notify.waitFor("WATCHDOG=1", timeout: 2) != nil)

        daemon.signal(SIGHUP)
        let reloading = try #require(notify.waitFor("RELOADING=1", timeout: 5))
        #expect(reloading.contains("MONOTONIC_USEC="))
        #expect(notify.waitFor("READY=1", timeout: 5) != nil)

        daemon.signal(SIGTERM)
        #expect(notify.waitFor("STOPPING=1", timeout: 10) != nil)
        #expect(daemon.waitForExit() == 0)
    }

    /// Without a server there is no engine thread to make progress; the control thread, alive and
    /// retrying, keeps the watchdog fed so systemd does not restart a daemon that is only waiting.
    @Test func waitingForAServerStillFeedsTheWatchdog() throws {
        let server = try JackServer(startNow: false)
        let notify = try NotifySocket()
        let daemon = try ChildProcess(
            TestPaths.sideman, ["run", "--backend", "jack"],
            environment: server.environment.merging(["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "400000"]) { $1 })
        defer { daemon.stop() }
        let status = try #require(notify.waitFor("STATUS=waiting", timeout: 10))
        #expect(status.contains("no server running"))
        #expect(notify.waitFor("WATCHDOG=1", timeout: 3) != nil)
        daemon.signal(SIGTERM)
        #expect(notify.waitFor("STOPPING=1", timeout: 10) != nil)
        #expect(daemon.waitForExit() == 0)
    }
}
