import Foundation
import TestSupport

/// Every datagram a `NotifySocket` receives, with when it arrived, read on a thread of its own so that
/// the arrival times are the daemon's sending times (give or take scheduling), whatever the test
/// does meanwhile: the gaps between watchdog pings are measured from them.
final class NotifyRecorder: @unchecked Sendable {
    // @unchecked: `messages` and `stopped` are guarded by `condition`; the socket is used by the
    // reading thread only.
    private let socket: NotifySocket
    private let condition = NSCondition()
    private var messages: [(time: Double, text: String)] = []
    private var stopped = false

    init(_ socket: NotifySocket) {
        self.socket = socket
        Thread { [self] in
            while !isStopped {
                guard let text = self.socket.receive(timeout: 0.1) else { continue }
                let time = ProcessInfo.processInfo.systemUptime
                condition.lock()
                messages.append((time, text))
                condition.broadcast()
                condition.unlock()
            }
        }.start()
    }

    deinit { stop() }

    var socketPath: String { socket.path }

    private var isStopped: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopped
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.unlock()
    }

    /// How many datagrams so far start with `prefix`.
    func count(_ prefix: String) -> Int {
        condition.lock()
        defer { condition.unlock() }
        return messages.filter { $0.text.hasPrefix(prefix) }.count
    }

    /// Waits until `count` datagrams starting with `prefix` have come; false after `timeout` seconds.
    @discardableResult
    func waitFor(_ prefix: String, count: Int, timeout: Double = 20) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while messages.filter({ $0.text.hasPrefix(prefix) }).count < count {
            if !condition.wait(until: deadline) { return false }
        }
        return true
    }

    /// The longest time between two datagrams starting with `prefix`, and from the last of them to now.
    func longestGap(_ prefix: String) -> Double {
        condition.lock()
        defer { condition.unlock() }
        let times = messages.filter { $0.text.hasPrefix(prefix) }.map(\.time)
        guard let last = times.last else { return .infinity }
        let gaps = zip(times.dropFirst(), times).map { $0 - $1 }
        return max(gaps.max() ?? 0, ProcessInfo.processInfo.systemUptime - last)
    }
}
