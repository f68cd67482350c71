import Foundation
import Service
import TestSupport
import Testing

/// The metrics server, scraped over a real loopback TCP connection.
@Suite(.serialized)
struct MetricsServerTests {
    func withServer(token: String? = nil, _ body: (MetricsServer, ServiceMetrics) throws -> Void) throws {
        let metrics = ServiceMetrics()
        let server = try MetricsServer(address: MetricsAddress(octets: [127, 0, 0, 1], port: 0), token: token) {
            metrics.exposition()
        }
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

    /// Seconds since `start`, monotonic.
    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    /// A slow-loris client (one byte of its request every half second) and ten idle connections:
    /// scrapes are answered at once beside them (a one-at-a-time server waited on the slow client for
    /// as long as it kept trickling), and the slow client is cut off once its two seconds, counted for
    /// the whole request, are up, although it never stopped sending.
    @Test func aSlowClientAndIdleConnectionsDoNotDelayAScrape() throws {
        try withServer { server, _ in
            let port = server.boundPort
            let start = ContinuousClock.now
            let slow = try #require(LoopbackHTTP.connect(port: port))
            defer { close(slow) }
            let request = Array("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)
            var trickled = 0
            func trickle() {
                guard trickled < request.count else { return }
                _ = request[trickled...].withUnsafeBytes { send(slow, $0.baseAddress, 1, Int32(MSG_NOSIGNAL)) }
                trickled += 1
            }
            trickle()
            let idle = (0..<10).compactMap { _ in LoopbackHTTP.connect(port: port) }
            defer { idle.forEach { close($0) } }
            #expect(idle.count == 10)

            var slowest = 0.0
            var cutOffAfter: Double?
            while cutOffAfter == nil && Self.seconds(since: start) < 12 {
                let asked = ContinuousClock.now
                let scrape = LoopbackHTTP.get(port: port)
                slowest = max(slowest, Self.seconds(since: asked))
                #expect(scrape?.status == 200)
                usleep(500_000)
                if LoopbackHTTP.isClosedByServer(slow) {
                    cutOffAfter = Self.seconds(since: start)
                } else {
                    trickle()
                }
            }
            // Generous bounds for a loaded machine: the answer takes milliseconds, the cut-off 2 s.
            #expect(slowest < 5, "a scrape took \(slowest) s beside the slow client")
            let cutOff = try #require(cutOffAfter, "the slow client was never cut off")
            #expect(cutOff >= MetricsServer.requestDeadline, "cut off after \(cutOff) s")
            #expect(cutOff < 8, "cut off after \(cutOff) s")
            #expect(trickled < request.count, "it was still sending its request")
            let waited = ContinuousClock.now
            var open = idle
            while !open.isEmpty && Self.seconds(since: waited) < 5 {
                open.removeAll(where: LoopbackHTTP.isClosedByServer)
                usleep(50_000)
            }
            #expect(open.isEmpty, "idle connections run out of time too")
        }
    }

    /// More idle connections than the server keeps open: the oldest make room, and a scrape that
    /// arrives after them all is still answered.
    @Test func aFloodOfIdleConnectionsClosesTheOldestAndAScrapeIsAnswered() throws {
        try withServer { server, _ in
            let port = server.boundPort
            let flood = (0..<(3 * MetricsServer.maxConnections)).compactMap { _ in LoopbackHTTP.connect(port: port) }
            defer { flood.forEach { close($0) } }
            #expect(flood.count == 3 * MetricsServer.maxConnections)
            let asked = ContinuousClock.now
            let scrape = LoopbackHTTP.get(port: port)
            let took = Self.seconds(since: asked)
            #expect(scrape?.status == 200)
            #expect(took < MetricsServer.requestDeadline, "the scrape took \(took) s: it waited for the idle ones to expire")
            #expect(LoopbackHTTP.isClosedByServer(flood[0]), "the oldest idle connection made room")
        }
    }

    /// With a token, only requests carrying it as a bearer token are answered; the field name and
    /// the scheme may come in any case, as HTTP allows.
    @Test func withATokenOnlyRequestsCarryingItAreAnswered() throws {
        let token = "0123456789abcdef-sideman-test"
        try withServer(token: token) { server, _ in
            let port = server.boundPort
            let none = try #require(LoopbackHTTP.get(port: port))
            #expect(none.status == 401)
            #expect(none.headers.contains("WWW-Authenticate: Bearer realm=\"sideman\""))
            #expect(!none.body.contains("sideman_"), "no metrics without the token")
            #expect(LoopbackHTTP.get(port: port, token: "0123456789abcdef-sideman-tesT")?.status == 401)
            #expect(LoopbackHTTP.get(port: port, token: String(token.dropLast()))?.status == 401)
            #expect(LoopbackHTTP.get(port: port, token: token + "x")?.status == 401)
            #expect(LoopbackHTTP.get(port: port, path: "/nothing")?.status == 401, "nothing is said without the token")
            let right = try #require(LoopbackHTTP.get(port: port, token: token))
            #expect(right.status == 200)
            #expect(LoopbackHTTP.samples(right.body)["sideman_engine_steps_total"] == 0)
            let basic = "GET /metrics HTTP/1.1\r\nauthorization: Basic \(token)\r\n\r\n"
            #expect(LoopbackHTTP.exchange(port: port, request: basic)?.status == 401)
            let lower = "GET /metrics HTTP/1.1\r\nauthorization: bearer \(token)\r\n\r\n"
            #expect(LoopbackHTTP.exchange(port: port, request: lower)?.status == 200)
        }
    }

    /// The token file: its content less the final newline; refused when others may read it, when it
    /// is too short to resist guessing, when it is no regular file (a FIFO must not hang the start),
    /// and when it cannot be opened.
    @Test func theTokenFileIsReadOnlyWhenPrivateAndLongEnough() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sideman-token-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        func write(_ name: String, _ text: String, mode: Int) throws -> String {
            let path = folder.appendingPathComponent(name).path
            try text.write(toFile: path, atomically: false, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
            return path
        }
        let good = try write("good", "0123456789abcdef0123\n", mode: 0o600)
        #expect(try MetricsToken.read(path: good) == "0123456789abcdef0123")

        let open = try write("open", "0123456789abcdef0123\n", mode: 0o644)
        #expect { try MetricsToken.read(path: open) } throws: { error in
            (error as? MetricsTokenError)?.problem.contains("chmod 600") == true
        }
        let short = try write("short", "hunter2\n", mode: 0o600)
        #expect(throws: MetricsTokenError.self) { try MetricsToken.read(path: short) }
        let spaced = try write("spaced", "0123456789 abcdef0123\n", mode: 0o600)
        #expect(throws: MetricsTokenError.self) { try MetricsToken.read(path: spaced) }

        let fifo = folder.appendingPathComponent("fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        #expect { try MetricsToken.read(path: fifo) } throws: { error in
            (error as? MetricsTokenError)?.problem.contains("regular file") == true
        }
        #expect { try MetricsToken.read(path: folder.appendingPathComponent("missing").path) } throws: { error in
            (error as? MetricsTokenError)?.isUnreadable == true
        }
    }

    @Test func tokensAreComparedWholly() {
        let expected = Array("0123456789abcdef".utf8)
        #expect(MetricsToken.matches(expected, expected))
        #expect(!MetricsToken.matches(Array("0123456789abcdeF".utf8), expected))
        #expect(!MetricsToken.matches(Array("0123456789abcde".utf8), expected))
        #expect(!MetricsToken.matches(Array("0123456789abcdef0".utf8), expected))
        #expect(!MetricsToken.matches([UInt8](), expected))
    }
}
