import Logging
import MIDI
import Ports
import Service

/// The daemon's side of the metrics: what the control thread and the engine thread tell
/// `ServiceMetrics.shared` (a few hook lines in `Daemon` and `EngineRunner` call these).
extension Daemon {
    /// The backend came up (again): the daemon is up, and a comeback counts as a reconnect. Each
    /// scrape folds the backend's xrun/late/dropped/clock-held counters into the run's totals.
    func metricsConnected(reconnected: Bool) {
        let metrics = ServiceMetrics.shared
        if reconnected { metrics.reconnects.add() }
        metrics.up.set(1)
        // The scrape thread reads only the backend's atomic counters (`status()`).
        nonisolated(unsafe) let backend = self.backend
        metrics.setCollector { metrics.absorb(backend.status().serviceCounters) }
    }

    /// Folds the backend's counters in now (the control thread's regular pass, and before a close,
    /// whose counters the next connection restarts).
    func metricsAbsorb() { ServiceMetrics.shared.absorb(backend.status().serviceCounters) }

    /// The server went away or the daemon stops: down until the next `metricsConnected`.
    func metricsDisconnected() {
        metricsAbsorb()
        ServiceMetrics.shared.setCollector(nil)
        ServiceMetrics.shared.up.set(0)
    }
}

extension PortStatus {
    var serviceCounters: ServiceMetrics.PortCounters {
        ServiceMetrics.PortCounters(
            xruns: xruns, lateEvents: lateEvents, droppedEvents: droppedEvents, clockHeldCycles: clockHeldCycles)
    }
}

extension EngineRunner {
    /// One engine pass done: count it, and publish how many notes sound. Real-time safe: the count
    /// walks only the channels the trackers saw used (fixed-size, inline storage), then two atomics.
    func publishMetrics() {
        var sounding = 0
        for tracker in trackers where !tracker.isSilent {
            for channel in 0..<MIDIChannel(16) where tracker.usedChannels & (1 << UInt16(channel)) != 0 {
                for note in 0..<UInt8(128) where tracker.isSounding(channel: channel, note: note) { sounding += 1 }
            }
        }
        let metrics = ServiceMetrics.shared
        metrics.engineSteps.add()
        metrics.notesOn.set(Int64(sounding))
    }
}
