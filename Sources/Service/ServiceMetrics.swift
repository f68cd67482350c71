import Synchronization

/// Everything `sideman run --metrics` exposes. One process-wide instance (`shared`), so the engine
/// (any part, any model) records into it without plumbing; recording is lock-free and allocation-free,
/// and costs a few relaxed atomic adds whether or not anyone scrapes.
public final class ServiceMetrics: Sendable {
    public static let shared = ServiceMetrics()

    /// Passes of the daemon's engine loop: one per backend cycle, more when input wakes it early.
    public let engineSteps = MetricCounter()
    /// Wall time of one model step of one part (the engine records it around `model.step`).
    public let modelStepLatency = LatencyHistogram()
    /// Totals over the whole run, across reconnections (the backend's own counters restart with it).
    public let lateEvents = MetricCounter()
    public let xruns = MetricCounter()
    public let droppedEvents = MetricCounter()
    /// Cycles in which the server's clock read earlier than the engine's frame clock (the engine held its
    /// own: a clock that stepped back, or a server restarted under a running engine).
    public let clockHeldCycles = MetricCounter()
    /// Times the backend came back after the server went away.
    public let reconnects = MetricCounter()
    /// Notes Sideman has sent and not yet ended.
    public let notesOn = MetricGauge()
    /// 1 while the backend is connected and the engine runs, 0 while waiting for a server.
    public let up = MetricGauge()

    /// The backend's counters as last seen, to turn them into deltas.
    private let lastPortCounters = Mutex<PortCounters>(PortCounters())
    /// Runs before each exposition (the daemon folds the backend's current counters in).
    private let collector = Mutex<(@Sendable () -> Void)?>(nil)

    public init() {}

    /// Records one model step's duration. Real-time safe.
    @inline(__always)
    public func recordModelStep(nanoseconds: UInt64) { modelStepLatency.record(nanoseconds: nanoseconds) }

    /// A backend's running counters (xruns, late, dropped, clock held), which restart from zero on each
    /// connection.
    public struct PortCounters: Sendable, Equatable {
        public var xruns: UInt64 = 0
        public var lateEvents: UInt64 = 0
        public var droppedEvents: UInt64 = 0
        public var clockHeldCycles: UInt64 = 0
        public init(xruns: UInt64 = 0, lateEvents: UInt64 = 0, droppedEvents: UInt64 = 0, clockHeldCycles: UInt64 = 0) {
            self.xruns = xruns
            self.lateEvents = lateEvents
            self.droppedEvents = droppedEvents
            self.clockHeldCycles = clockHeldCycles
        }
    }

    /// Folds a backend's counters into the run's totals: what grew since the last call is added; a
    /// counter smaller than last time means the backend restarted, and all of it is new.
    public func absorb(_ current: PortCounters) {
        let delta = lastPortCounters.withLock { last -> PortCounters in
            func grown(_ now: UInt64, _ before: UInt64) -> UInt64 { now >= before ? now - before : now }
            let delta = PortCounters(
                xruns: grown(current.xruns, last.xruns), lateEvents: grown(current.lateEvents, last.lateEvents),
                droppedEvents: grown(current.droppedEvents, last.droppedEvents),
                clockHeldCycles: grown(current.clockHeldCycles, last.clockHeldCycles))
            last = current
            return delta
        }
        xruns.add(delta.xruns)
        lateEvents.add(delta.lateEvents)
        droppedEvents.add(delta.droppedEvents)
        clockHeldCycles.add(delta.clockHeldCycles)
    }

    /// Sets what runs before each exposition (nil: nothing).
    public func setCollector(_ body: (@Sendable () -> Void)?) { collector.withLock { $0 = body } }

    /// The Prometheus text exposition format (version 0.0.4).
    public func exposition() -> String {
        collector.withLock { $0 }?()
        var text = PrometheusText()
        text.counter("sideman_engine_steps_total", "Passes of the engine loop (one per backend cycle, more when input wakes it early).", engineSteps.value)
        text.histogram(
            "sideman_model_step_seconds", "Duration of one model step of one part.", modelStepLatency.snapshot())
        text.counter("sideman_late_events_total", "Output events written after their frame had passed.", lateEvents.value)
        text.counter("sideman_xruns_total", "Cycles the audio server reported as overrun.", xruns.value)
        text.counter(
            "sideman_dropped_events_total", "Events that did not fit a ring or a port buffer.", droppedEvents.value)
        text.counter(
            "sideman_clock_held_cycles_total", "Cycles in which the server's clock read earlier than the engine's, which held its own.",
            clockHeldCycles.value)
        text.counter("sideman_reconnects_total", "Times the backend came back after losing its server.", reconnects.value)
        text.gauge("sideman_notes_on", "Notes sent and not yet ended.", notesOn.value)
        text.gauge("sideman_up", "1 while connected to a server and running, 0 while waiting for one.", up.value)
        return text.body
    }
}
