import Foundation
import Synchronization

/// A thread of its own for a model too slow for the engine's step (a MusicVAE's phrase, MidiNet's bar):
/// it waits to be asked, runs `work()`, and leaves the result for the engine thread, which never waits for
/// it. One job at a time: the engine asks only while the worker is idle and takes the result when it is
/// done. Subclasses hold the job's buffers and say what `work()` does.
///
/// The thread holds the worker until `stop()`: whoever owns one stops it when done with it.
class DecodeWorker: @unchecked Sendable {
    // @unchecked: a subclass's job buffers belong to whoever the state says: the engine thread while idle
    // or done, the worker thread while asked.
    private let state = Atomic<Int>(DecodeWorker.idle)
    private let wake = DispatchSemaphore(value: 0)
    private let stopping = Atomic<Bool>(false)
    static let idle = 0, asked = 1, done = 2
    /// How long the last job took, in nanoseconds (0 before the first).
    private let lastJobNanoseconds = Atomic<Int>(0)
    var lastDecode: Duration { .nanoseconds(lastJobNanoseconds.load(ordering: .relaxed)) }

    init(threadName: String) {
        let thread = Thread { [self] in run() }
        thread.name = threadName
        thread.start()
    }

    var isIdle: Bool { state.load(ordering: .acquiring) == Self.idle }

    /// Runs the job set up in the subclass's buffers: on the worker thread, or with `inline` now, on the
    /// calling thread (rendering faster than real time, where the thread's milliseconds would be many
    /// simulated steps).
    func ask(inline: Bool) {
        state.store(Self.asked, ordering: .releasing)
        if inline { perform() } else { wake.signal() }
    }

    /// When a job is done: `read` takes its result out, and the worker is free again. False while none is.
    func collect(_ read: () -> Void) -> Bool {
        guard state.load(ordering: .acquiring) == Self.done else { return false }
        read()
        state.store(Self.idle, ordering: .releasing)
        return true
    }

    func stop() {
        stopping.store(true, ordering: .releasing)
        wake.signal()
    }

    /// The job; runs on the worker thread (or inline) while the state is `asked`.
    func work() {}

    private func run() {
        while true {
            wake.wait()
            if stopping.load(ordering: .acquiring) { return }
            guard state.load(ordering: .acquiring) == Self.asked else { continue }
            perform()
        }
    }

    private func perform() {
        let started = ContinuousClock.now
        work()
        let took = (ContinuousClock.now - started).components
        lastJobNanoseconds.store(max(1, Int(took.seconds) * 1_000_000_000 + Int(took.attoseconds / 1_000_000_000)), ordering: .relaxed)
        state.store(Self.done, ordering: .releasing)
    }
}
