import Logging
import Service
import Synchronization

/// swift-log's handler for the daemon: one `LogLine` per event on stderr, written with a single
/// write(2) so lines from different threads never interleave.
struct StandardErrorLogHandler: LogHandler {
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(level: Logger.Level) { logLevel = level }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        printToStandardError(Self.line(level: event.level, message: "\(event.message)", metadata: merged))
    }

    /// The line for one event (no newline).
    static func line(level: Logger.Level, message: String, metadata: Logger.Metadata) -> String {
        LogLine.format(level: level.rawValue, message: message, metadata: metadata.mapValues { "\($0)" })
    }
}

/// Installs the handler once per process (swift-log allows one bootstrap); later calls only change
/// the level loggers made from now on get.
enum DaemonLogging {
    private static let level = Mutex<Logger.Level>(.info)
    private static let bootstrapped = Atomic<Bool>(false)

    static func bootstrap(level: Logger.Level) {
        Self.level.withLock { $0 = level }
        guard !bootstrapped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        LoggingSystem.bootstrap { _ in StandardErrorLogHandler(level: DaemonLogging.level.withLock { $0 }) }
    }
}
