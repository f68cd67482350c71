import Glibc
import TestSupport
import Testing

@testable import Service


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
