import ArgumentParser
import Logging
import Service

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// `sideman run`'s service options: log level and the metrics endpoint.
struct ServiceOptions: ParsableArguments {
    @Option(help: "Least severe log level printed: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    @Option(
        help: ArgumentHelp(
            "Serve Prometheus metrics at GET http://HOST:PORT/metrics (off by default; loopback only unless --metrics-allow-remote).",
            valueName: "HOST:PORT"))
    var metrics: String?

    @Flag(help: "Allow --metrics on an address other machines can reach (the metrics say what you play and when).")
    var metricsAllowRemote = false

    func validate() throws {
        guard let metrics else { return }
        let address: MetricsAddress
        do { address = try MetricsAddress(parsing: metrics) } catch { throw ValidationError("--metrics \(error)") }
        if !address.isLoopback && !metricsAllowRemote {
            throw ValidationError(
                "--metrics \(metrics) is not a loopback address; use 127.0.0.1:PORT, or add --metrics-allow-remote")
        }
    }

    /// Installs the stderr log handler at the chosen level, and creates the metrics registry now: the
    /// engine thread records into it and must not be the one that first allocates it.
    func prepare() {
        DaemonLogging.bootstrap(level: logLevel)
        _ = ServiceMetrics.shared
    }

    /// Starts the metrics server when asked; a port that cannot be bound is a failure (exit 69).
    func startMetrics(logger: Logger) throws -> MetricsServer? {
        guard let metrics, let address = try? MetricsAddress(parsing: metrics) else { return nil }
        let registry = ServiceMetrics.shared
        do {
            let server = try MetricsServer(address: address) { registry.exposition() }
            server.start()
            logger.info("metrics: serving http://\(address.host):\(server.boundPort)/metrics")
            return server
        } catch {
            throw Failure(error.subject, error.problem, status: .unavailable)
        }
    }
}
