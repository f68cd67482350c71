/// Writes the Prometheus text exposition format: `# HELP`, `# TYPE`, then the samples.
struct PrometheusText {
    private(set) var body = ""

    mutating func counter(_ name: String, _ help: String, _ value: UInt64) {
        header(name, help, "counter")
        body += "\(name) \(value)\n"
    }

    mutating func gauge(_ name: String, _ help: String, _ value: Int64) {
        header(name, help, "gauge")
        body += "\(name) \(value)\n"
    }

    /// Cumulative buckets with `le` in seconds, then `_sum` (seconds) and `_count`.
    mutating func histogram(_ name: String, _ help: String, _ snapshot: LatencyHistogram.Snapshot) {
        header(name, help, "histogram")
        var cumulative: UInt64 = 0
        for (index, count) in snapshot.counts.enumerated() {
            cumulative += count
            let bound = index < snapshot.boundsNanoseconds.count ? Self.seconds(snapshot.boundsNanoseconds[index]) : "+Inf"
            body += "\(name)_bucket{le=\"\(bound)\"} \(cumulative)\n"
        }
        body += "\(name)_sum \(Self.seconds(snapshot.sumNanoseconds))\n"
        body += "\(name)_count \(cumulative)\n"
    }

    private mutating func header(_ name: String, _ help: String, _ type: String) {
        body += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    /// Nanoseconds as decimal seconds without exponent or rounding: 5000 -> "0.000005".
    static func seconds(_ nanoseconds: UInt64) -> String {
        let whole = nanoseconds / 1_000_000_000
        var fraction = String(nanoseconds % 1_000_000_000)
        fraction = String(repeating: "0", count: 9 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return fraction.isEmpty ? "\(whole)" : "\(whole).\(fraction)"
    }
}
