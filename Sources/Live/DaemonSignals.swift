import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// SIGINT, SIGTERM, SIGHUP and SIGUSR1 (write the session recording), received by `sigwait` on an ordinary thread rather than in a handler:
/// the work a stop needs (silencing, flushing, closing) is not async-signal-safe.
public final class DaemonSignals: Sendable {
    /// The signal that asked the daemon to stop, or 0.
    public let stopSignal = Atomic<Int32>(0)

    /// Blocks the signals in the calling thread, so every thread created afterwards (the engine thread,
    /// JACK's threads) inherits the mask and only the waiting thread receives them. Call first thing.
    public static func blockInThisThread() {
        var set = Self.handled
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    private static var handled: sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGHUP)
        sigaddset(&set, SIGUSR1)
        return set
    }

    public init() {}

    /// Starts the waiting thread; `onStop` runs on it after a stop signal, `onReload` after SIGHUP,
    /// `onRecord` after SIGUSR1.
    public func start(
        onStop: @escaping @Sendable () -> Void, onReload: @escaping @Sendable () -> Void,
        onRecord: @escaping @Sendable () -> Void = {}
    ) {
        let box = Unmanaged.passRetained(Handlers(signals: self, onStop: onStop, onReload: onReload, onRecord: onRecord)).toOpaque()
        var thread = pthread_t()
        let body: @convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? = { raw in
            let handlers = Unmanaged<Handlers>.fromOpaque(raw!).takeRetainedValue()
            var set = DaemonSignals.handled
            var received: Int32 = 0
            while true {
                guard sigwait(&set, &received) == 0 else { continue }
                if received == SIGUSR1 {
                    handlers.onRecord()
                    continue
                }
                if received != SIGHUP { break }
                handlers.onReload()
            }
            handlers.signals.stopSignal.store(received, ordering: .releasing)
            handlers.onStop()
            // A second stop signal while stopping ends the process at once: the user insists. The
            // signals stay blocked and waited for, so nothing races with the orderly exit.
            while true {
                guard sigwait(&set, &received) == 0, received != SIGHUP, received != SIGUSR1 else { continue }
                _exit(128 + received)
            }
        }
        pthread_create(&thread, nil, body, box)
        pthread_detach(thread)
    }

    private final class Handlers: Sendable {
        let signals: DaemonSignals
        let onStop: @Sendable () -> Void
        let onReload: @Sendable () -> Void
        let onRecord: @Sendable () -> Void
        init(
            signals: DaemonSignals, onStop: @escaping @Sendable () -> Void, onReload: @escaping @Sendable () -> Void,
            onRecord: @escaping @Sendable () -> Void
        ) {
            self.signals = signals
            self.onStop = onStop
            self.onReload = onReload
            self.onRecord = onRecord
        }
    }
}
