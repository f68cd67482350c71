import Foundation
import TestSupport
import Testing

/// `sideman run` under a service manager: the sd_notify datagrams systemd would receive, read from a
/// real AF_UNIX datagram socket while the daemon runs against a real jackd.
@Suite(.serialized, .enabled(if: TestPaths.jackMissing == nil, "needs jackd and python3-jack-client (scripts/setup.sh)"))
struct DaemonServiceTests {

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
