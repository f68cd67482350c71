import Service
import TestSupport
import Testing

struct MetricsTests {
    @Test func histogramPutsEachObservationInTheFirstBucketThatHoldsItAndExposesThemCumulatively() {
        let histogram = LatencyHistogram(boundsNanoseconds: [10, 100, 1000])
        for value: UInt64 in [0, 10, 11, 100, 500, 1000, 1001, 1_000_000] { histogram.record(nanoseconds: value) }
        let snapshot = histogram.snapshot()
        #expect(snapshot.counts == [2, 2, 2, 2])
        #expect(snapshot.count == 8)
        #expect(snapshot.sumNanoseconds == 0 + 10 + 11 + 100 + 500 + 1000 + 1001 + 1_000_000)
    }

    @Test func theRegistryExposesEveryMetricWithTypesAndCumulativeSecondsBuckets() throws {
        let metrics = ServiceMetrics()
        metrics.engineSteps.add(41)
        metrics.engineSteps.add()
        for microseconds: UInt64 in [3, 7, 40, 40, 9000, 20_000] { metrics.recordModelStep(nanoseconds: microseconds * 1000) }
        metrics.notesOn.set(3)
        metrics.up.set(1)
        metrics.reconnects.add()
        let text = metrics.exposition()
        let samples = LoopbackHTTP.samples(text)
        #expect(samples["sideman_engine_steps_total"] == 42)
        #expect(samples["sideman_notes_on"] == 3)
        #expect(samples["sideman_up"] == 1)
        #expect(samples["sideman_reconnects_total"] == 1)
        #expect(samples["sideman_model_step_seconds_bucket{le=\"0.000005\"}"] == 1)
        #expect(samples["sideman_model_step_seconds_bucket{le=\"0.00001\"}"] == 2)
        #expect(samples["sideman_model_step_seconds_bucket{le=\"0.00005\"}"] == 4)
        #expect(samples["sideman_model_step_seconds_bucket{le=\"0.01\"}"] == 5)
        #expect(samples["sideman_model_step_seconds_bucket{le=\"+Inf\"}"] == 6)
        #expect(samples["sideman_model_step_seconds_count"] == 6)
        let sum = try #require(samples["sideman_model_step_seconds_sum"])
        #expect(abs(sum - 0.02909) < 1e-12)
        for (name, type) in [
            ("sideman_engine_steps_total", "counter"), ("sideman_model_step_seconds", "histogram"),
            ("sideman_late_events_total", "counter"), ("sideman_xruns_total", "counter"),
            ("sideman_dropped_events_total", "counter"), ("sideman_reconnects_total", "counter"),
            ("sideman_clock_held_cycles_total", "counter"),
            ("sideman_notes_on", "gauge"), ("sideman_up", "gauge"),
        ] {
            #expect(text.contains("# TYPE \(name) \(type)\n"), "\(name) has no TYPE line")
            #expect(text.contains("# HELP \(name) "), "\(name) has no HELP line")
        }
    }

    @Test func backendCountersBecomeRunTotalsAcrossReconnections() {
        let metrics = ServiceMetrics()
        metrics.absorb(.init(xruns: 2, lateEvents: 5, droppedEvents: 0, clockHeldCycles: 3))
        metrics.absorb(.init(xruns: 3, lateEvents: 5, droppedEvents: 1, clockHeldCycles: 3))
        // The backend restarted: its counters began again from zero.
        metrics.absorb(.init(xruns: 1, lateEvents: 0, droppedEvents: 0, clockHeldCycles: 2))
        metrics.absorb(.init(xruns: 1, lateEvents: 4, droppedEvents: 0, clockHeldCycles: 6))
        #expect(metrics.xruns.value == 4)
        #expect(metrics.lateEvents.value == 9)
        #expect(metrics.droppedEvents.value == 1)
        #expect(metrics.clockHeldCycles.value == 9)
        #expect(LoopbackHTTP.samples(metrics.exposition())["sideman_clock_held_cycles_total"] == 9)
    }

    @Test func theCollectorRunsBeforeEachExposition() {
        let metrics = ServiceMetrics()
        metrics.setCollector { metrics.absorb(.init(xruns: 7)) }
        #expect(LoopbackHTTP.samples(metrics.exposition())["sideman_xruns_total"] == 7)
        metrics.setCollector(nil)
        metrics.absorb(.init(xruns: 9))
        #expect(LoopbackHTTP.samples(metrics.exposition())["sideman_xruns_total"] == 9)
    }

    @Test func recordingFromManyThreadsLosesNothing() async {
        let metrics = ServiceMetrics()
        await withTaskGroup(of: Void.self) { group in
            for thread in 0..<4 {
                group.addTask {
                    for k in 0..<10_000 { metrics.recordModelStep(nanoseconds: UInt64((k * 7 + thread) % 20_000_000)) }
                }
            }
        }
        #expect(metrics.modelStepLatency.snapshot().count == 40_000)
    }
}

struct MetricsAddressTests {
    @Test func parsesHostAndPortAndKnowsLoopback() throws {
        let address = try MetricsAddress(parsing: "127.0.0.1:9464")
        #expect(address.octets == [127, 0, 0, 1] && address.port == 9464 && address.isLoopback)
        #expect(try MetricsAddress(parsing: "localhost:1").isLoopback)
        #expect(try MetricsAddress(parsing: "127.1.2.3:80").isLoopback)
        #expect(try !MetricsAddress(parsing: "0.0.0.0:9464").isLoopback)
        #expect(try !MetricsAddress(parsing: "192.168.1.2:9464").isLoopback)
    }

    @Test(arguments: ["9464", "127.0.0.1", "127.0.0.1:", "127.0.0.1:70000", "127.0.0:9464", "127.0.0.256:1", "host:1", ":9464", "1.2.3.4.5:1"])
    func refusesWhatIsNotHostColonPort(_ text: String) {
        #expect(throws: MetricsAddressError.self) { try MetricsAddress(parsing: text) }
    }
}
