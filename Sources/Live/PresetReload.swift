import Engine
import Service
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One preset reload (SIGHUP), read and built on a thread of its own: parsing a preset and loading
/// its models can take seconds and gigabytes, and a model path that is a FIFO or a hung network mount
/// blocks its read for good. On the control thread that would starve the systemd watchdog and get the
/// service killed; here the control thread only looks at `outcome` between its other work, keeps
/// pinging, and gives up on the reload after its time limit. A read that never returns leaves this
/// thread blocked (there is no safe way to cancel it) and costs nothing else: the daemon plays on
/// with the preset it has, and the late result, if one ever comes, is dropped.
final class PresetReload: @unchecked Sendable {
    // @unchecked: `result` is written once by the worker before `done` is stored with release
    // ordering, and read by the control thread only after loading `done` with acquire ordering.

    /// What a finished reload produced: the settings and the engine built from them, ready to hand
    /// to the runner; or the one line that says why not.
    enum Outcome {
        case ready(DaemonSettings, any PerformanceEngine)
        case failed(String)
    }

    /// When the worker started (monotonic seconds).
    let startedAt: Double
    private let load: () throws -> DaemonSettings
    private let finished: @Sendable () -> Void
    private var result: Outcome?
    private let done = Atomic<Bool>(false)

    private init(load: @escaping () throws -> DaemonSettings, finished: @escaping @Sendable () -> Void) {
        self.load = load
        self.finished = finished
        startedAt = MonotonicClock.seconds()
    }

    /// Starts a worker thread that reads the preset and builds its engine, then calls `finished`
    /// (to wake the control thread). Nil when no thread could be created.
    static func start(load: @escaping () throws -> DaemonSettings, finished: @escaping @Sendable () -> Void) -> PresetReload? {
        let reload = PresetReload(load: load, finished: finished)
        let context = Unmanaged.passRetained(reload).toOpaque()
        let body: @convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? = { raw in
            let reload = Unmanaged<PresetReload>.fromOpaque(raw!).takeRetainedValue()
            reload.work()
            return nil
        }
        var thread = pthread_t()
        guard pthread_create(&thread, nil, body, context) == 0 else {
            Unmanaged<PresetReload>.fromOpaque(context).release()
            return nil
        }
        pthread_detach(thread)
        return reload
    }

    private func work() {
        do {
            let settings = try load()
            result = .ready(settings, settings.engine.makeEngine())
        } catch let failure as Failure {
            result = .failed("\(failure.subject): \(failure.problem); keeping the running preset")
        } catch {
            result = .failed("reload: \(error); keeping the running preset")
        }
        done.store(true, ordering: .releasing)
        finished()
    }

    /// The outcome once the worker has finished, nil while it still works.
    var outcome: Outcome? { done.load(ordering: .acquiring) ? result : nil }

    /// Whether the worker thread has returned (an abandoned one may never).
    var isFinished: Bool { done.load(ordering: .acquiring) }
}
