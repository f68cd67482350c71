import Engine
import Synchronization

/// What MIDI learn did, as the control thread reads it.
public enum LearnEvent: Equatable, Sendable {
    case learning(Bool)
    case learned(PerformanceControls.Function, controller: UInt8)
}

/// The engine thread's MIDI learn, handed to the control thread without a lock or an allocation: the
/// engine stores packed events into a preallocated ring and publishes the count; the control thread
/// drains it when it wakes (within half a second while learning) to log and save them.
public final class LearnBoard: LearnObserver, @unchecked Sendable {
    // @unchecked: `events` is written only by the engine thread before it publishes `written`, and read
    // by the control thread only below the published count; `read` belongs to the control thread.
    /// The one board of the daemon: engines built by a reload tell the same control thread.
    public static let shared = LearnBoard()

    static let capacity = 64
    private let events: UnsafeMutablePointer<UInt32>
    private let written = Atomic<Int>(0)
    private let active = Atomic<Bool>(false)
    private var read = 0

    init() {
        events = .allocate(capacity: Self.capacity)
        events.initialize(repeating: 0, count: Self.capacity)
    }

    deinit { events.deallocate() }

    /// Whether MIDI learn is on (the control thread then wakes often enough to answer each touch).
    public var isLearning: Bool { active.load(ordering: .relaxed) }

    public func learning(_ on: Bool) {
        active.store(on, ordering: .relaxed)
        push(on ? 1 << 24 : 0)
    }

    public func learned(_ function: PerformanceControls.Function, controller: UInt8) {
        push(2 << 24 | UInt32(Self.index(of: function)) << 8 | UInt32(controller))
    }

    private func push(_ event: UInt32) {
        let count = written.load(ordering: .relaxed)
        events[count % Self.capacity] = event
        written.store(count + 1, ordering: .releasing)
    }

    /// Everything since the last drain (the last `capacity` of it, if the control thread fell that far behind).
    public func drain() -> [LearnEvent] {
        let count = written.load(ordering: .acquiring)
        let first = max(read, count - Self.capacity)
        read = count
        return (first..<count).map { n in
            let event = events[n % Self.capacity]
            switch event >> 24 {
            case 0: return .learning(false)
            case 1: return .learning(true)
            default: return .learned(Self.function(at: Int(event >> 8 & 0xFFFF)), controller: UInt8(event & 0xFF))
            }
        }
    }

    static func index(of function: PerformanceControls.Function) -> Int {
        if case .mute(let part) = function { return PerformanceControls.Function.global.count + part }
        return PerformanceControls.Function.global.firstIndex(of: function) ?? 0
    }

    static func function(at index: Int) -> PerformanceControls.Function {
        let global = PerformanceControls.Function.global
        return index < global.count ? global[index] : .mute(part: index - global.count)
    }
}
