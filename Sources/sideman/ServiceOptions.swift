import ArgumentParser
import Live
import Logging
import Service

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// `sideman run`'s service options: log level, the metrics endpoint and the reload time limit.
struct ServiceOptions: ParsableArguments {
    @Option(help: "Least severe log level printed: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    @Option(
        help: ArgumentHelp(
            "Serve Prometheus metrics at GET http://HOST:PORT/metrics (off by default; loopback only unless --metrics-allow-remote).",
            valueName: "HOST:PORT"))
    var metrics: String?

    @Flag(
        help: "Allow --metrics on an address other machines can reach (the metrics say what you play and when); needs --metrics-token-file.")
    var metricsAllowRemote = false

    @Option(
        help: ArgumentHelp(
            "Answer only requests carrying `Authorization: Bearer TOKEN`, TOKEN being this file's content (16 characters or more; the file readable by its owner only, chmod 600). Required with --metrics-allow-remote.",
            valueName: "PATH"))
    var metricsTokenFile: String?

    @Option(
        help: ArgumentHelp(
            "Seconds a reload (SIGHUP) may take to read the preset and load its models; past that it is abandoned and the running preset kept.",
            valueName: "SECONDS"))
    var reloadTimeout: Double = 30

    func validate() throws {
        guard reloadTimeout > 0, reloadTimeout <= 3600 else {
            throw ValidationError("--reload-timeout must be more than 0 and at most 3600 seconds, got \(reloadTimeout)")
        }
        if metricsTokenFile != nil && metrics == nil { throw usage("--metrics-token-file", "needs --metrics HOST:PORT") }
        guard let metrics else { return }
        let address: MetricsAddress
        do { address = try MetricsAddress(parsing: metrics) } catch { throw ValidationError("--metrics \(error)") }
        if !address.isLoopback && !metricsAllowRemote {
            throw usage(
                "--metrics", "\(metrics) is not a loopback address; use 127.0.0.1:PORT, or add --metrics-allow-remote with --metrics-token-file")
        }
        if metricsAllowRemote && metricsTokenFile == nil {
            throw usage(
                "--metrics-allow-remote", "needs --metrics-token-file PATH: other machines must send a bearer token to read the metrics")
        }
    }

    /// A usage error as one line, like every other error of the daemon (ArgumentParser's own adds the
    /// usage text below it, which a journal splits into many entries).
    private func usage(_ subject: String, _ problem: String) -> ExitCode {
        Failure(subject, problem, status: .usage).report()
    }

    /// Installs the stderr log handler at the chosen level, and creates the metrics registry now: the
    /// engine thread records into it and must not be the one that first allocates it.
    func prepare() {
        DaemonLogging.bootstrap(level: logLevel)
        _ = ServiceMetrics.shared
    }

    /// Starts the metrics server when asked. A token file that cannot be read is a failure (exit 66),
    /// one that others can read or that holds no usable token too (exit 65), and a port that cannot be
    /// bound (exit 69).
    func startMetrics(logger: Logger) throws -> MetricsServer? {
        guard let metrics, let address = try? MetricsAddress(parsing: metrics) else { return nil }
        var token: String?
        if let metricsTokenFile {
            do {
                token = try MetricsToken.read(path: metricsTokenFile)
            } catch {
                throw Failure(error.path, error.problem, status: error.isUnreadable ? .noInput : .dataError)
            }
        }
        let registry = ServiceMetrics.shared
        do {
            let server = try MetricsServer(address: address, token: token) { registry.exposition() }
            server.start()
            let access = token == nil ? "" : " (bearer token required)"
            logger.info("metrics: serving http://\(address.host):\(server.boundPort)/metrics\(access)")
            return server
        } catch {
            throw Failure(error.subject, error.problem, status: .unavailable)
        }
    }
}
