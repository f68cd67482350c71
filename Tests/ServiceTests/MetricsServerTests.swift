import Service
import TestSupport
import Testing

/// The metrics server, scraped over a real loopback TCP connection.
@Suite(.serialized)
struct MetricsServerTests {
    func withServer(_ body: (MetricsServer, ServiceMetrics) throws -> Void) throws {
        let metrics = ServiceMetrics()
        let server = try MetricsServer(address: MetricsAddress(octets: [127, 0, 0, 1], port: 0)) { metrics.exposition() }
        server.start()
        defer { server.stop() }
        try body(server, metrics)
    }

    @Test func getMetricsAnswersWithTheCurrentValuesInPrometheusText() throws {
        try withServer { server, metrics in
            #expect(server.boundPort != 0)
            metrics.engineSteps.add(5)
            let first = try #require(LoopbackHTTP.get(port: server.boundPort))
            #expect(first.status == 200)
            #expect(first.headers.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8"))
            #expect(first.headers.contains("Content-Length: \(first.body.utf8.count)"))
            #expect(LoopbackHTTP.samples(first.body)["sideman_engine_steps_total"] == 5)
            metrics.engineSteps.add(5)
            metrics.notesOn.set(2)
            let second = try #require(LoopbackHTTP.get(port: server.boundPort, path: "/metrics?x=1"))
            #expect(LoopbackHTTP.samples(second.body)["sideman_engine_steps_total"] == 10)
            #expect(LoopbackHTTP.samples(second.body)["sideman_notes_on"] == 2)
        }
    }

    @Test func otherPathsMethodsAndGarbageGetErrorsAndTheServerKeepsServing() throws {
        try withServer { server, _ in
            let port = server.boundPort
            #expect(LoopbackHTTP.get(port: port, path: "/")?.status == 404)
            #expect(LoopbackHTTP.exchange(port: port, request: "POST /metrics HTTP/1.1\r\n\r\n")?.status == 405)
            #expect(LoopbackHTTP.exchange(port: port, request: "hello\r\n\r\n")?.status == 400)
            let flood = "GET /metrics HTTP/1.1\r\nX: " + String(repeating: "a", count: 40_000) + "\r\n\r\n"
            #expect(LoopbackHTTP.exchange(port: port, request: flood)?.status == 400)
            #expect(LoopbackHTTP.get(port: port)?.status == 200)
        }
    }

    @Test func aPortInUseIsReportedAtStartup() throws {
        try withServer { server, _ in
            #expect(throws: MetricsServerError.self) {
                _ = try MetricsServer(address: MetricsAddress(octets: [127, 0, 0, 1], port: server.boundPort)) { "" }
            }
        }
    }
}
