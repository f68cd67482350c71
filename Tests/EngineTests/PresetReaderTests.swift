import TestSupport
import Testing

@testable import Engine

@Suite struct PresetReaderTests {
    private func read(_ yaml: String) throws -> Preset { try PresetReader.read(yaml: yaml, defaultName: "t") }

    private func problem(_ yaml: String) -> PresetError? {
        do {
            _ = try read(yaml)
            return nil
        } catch let e as PresetError {
            return e
        } catch {
            return PresetError(keyPath: "?", problem: "unexpected \(error)")
        }
    }

    @Test func emptyMappingGivesDefaults() throws {
        let p = try read("{}")
        #expect(p.name == "t")
        #expect(p.transport.bpm == 100)
        #expect(p.thru.enabled)
        #expect(p.parts.isEmpty)
    }

    @Test func fullPartIsRead() throws {
        let p = try read(
            """
            name: band
            transport: {source: follow, bpm: 132, meter: 6/8}
            thru: {channel: 3, transpose: -12}
            parts:
              - name: bass
                role: bass
                model: band-bass.safetensors
                channel: 2
                program: 33
                range: [28, 55]
                grid: 8th
                velocity: {base: 100, follow_player: 0.25}
                humanize: {timing_ms: 4, velocity: 6, swing: 0.5}
                mute_cc: 30
            """)
        #expect(p.name == "band")
        #expect(p.transport.source == .follow)
        #expect(p.transport.meter == Meter(beats: 6, beatUnit: 8))
        #expect(p.transport.meter.stepsPerBar == 12)
        #expect(p.thru.channel == 2)
        #expect(p.thru.transpose == -12)
        let bass = try #require(p.parts.first)
        #expect(bass.role == .bass)
        #expect(bass.channel == 1)
        #expect(bass.program == 32)
        #expect(bass.lowestNote == 28 && bass.highestNote == 55)
        #expect(bass.grid == .eighth)
        #expect(bass.velocity == 100 && bass.velocityFollow == 0.25)
        #expect(try PresetReader.read(yaml: "parts: [{name: x, role: bass, model: m, channel: 3, velocity: {accents: [12, -3, 0, -9]}}]", defaultName: "x")
            .parts[0].velocityAccents == [12, -3, 0, -9])
        #expect(bass.humanize.swing == 0.5)
        #expect(bass.muteCC == 30)
    }

    @Test(arguments: [
        ("transport: {bpm: 1000}", "transport.bpm"),
        ("transport: {meter: 4-4}", "transport.meter"),
        ("transport: {sauce: fixed}", "transport.sauce"),
        ("transport: {source: midi}", "transport.source"),
        ("transport: {source: follow, timebase_master: true}", "transport.timebase_master"),
        ("transport: {source: jack, link_start_stop: true}", "transport.link_start_stop"),
        ("thru: {channel: 17}", "thru.channel"),
        ("thru: {channel: zero}", "thru.channel"),
        ("listener: {input_channel: 0}", "listener.input_channel"),
        ("controls: {panic: 123}", "controls.panic"),
        ("parts: {name: x}", "parts"),
        ("parts: [{name: x, role: kazoo, model: m, channel: 1}]", "parts[0].role"),
        ("parts: [{name: x, role: bass, channel: 1}]", "parts[0].model"),
        ("parts: [{name: x, role: bass, model: m, channel: 1, range: [60, 40]}]", "parts[0].range"),
        ("parts: [{name: x, role: bass, model: m, channel: 1, humanize: {swing: 2}}]", "parts[0].humanize.swing"),
        (
            "parts: [{name: x, role: bass, model: m, channel: 1}, {name: x, role: drums, model: m, channel: 10}]",
            "parts[1].name"
        ),
        ("parts: [{name: x, role: drums, model: m, channel: 10, primer: [[36, 200]]}]", "parts[0].primer"),
        ("parts: [{name: x, role: drums, model: m, channel: 10, primer: [36, 42]}]", "parts[0].primer"),
        ("parts: [{name: x, role: drums, model: m, channel: 10, primer: []}]", "parts[0].primer"),
        ("parts: [{name: x, role: bass, model: m, channel: 3, primer: [[36]]}]", "parts[0].primer"),
        ("parts: [{name: x, role: drums, model: m, channel: 10, kit: [36, 300]}]", "parts[0].kit"),
        ("parts: [{name: x, role: drums, model: m, channel: 10, kit: []}]", "parts[0].kit"),
        ("parts: [{name: x, role: drums, model: m, channel: 10, kit: 36}]", "parts[0].kit"),
        ("parts: [{name: x, role: bass, model: m, channel: 3, kit: [36]}]", "parts[0].kit"),
        ("parts: [{name: x, role: drums, model: m, channel: 10, range: [35, 81], kit: [27, 28]}]", "parts[0].kit"),
        ("parts: [{name: x, role: bass, model: m, channel: 3, velocity: {accents: [10, 90]}}]", "parts[0].velocity.accents"),
        ("parts: [{name: x, role: bass, model: m, channel: 3, velocity: {accents: 4}}]", "parts[0].velocity.accents"),
        ("ports: {outputs: many}", "ports.outputs"),
        ("ports: [a]", "ports"),
        ("velocity: 3", "velocity"),
    ])
    func badValuesNameTheirKeyPath(yaml: String, keyPath: String) {
        let error = problem(yaml)
        #expect(error?.keyPath == keyPath, "got \(String(describing: error))")
    }

    @Test func studioTimelinesAreTempoSourcesThatCountClockTicks() throws {
        let jack = try read("transport: {source: jack, timebase_master: true, meter: 3/4}").transport
        #expect(jack.source == .jack && jack.timebaseMaster && jack.source.countsTicks)
        let link = try read("transport: {source: link, link_start_stop: true}").transport
        #expect(link.source == .link && link.linkStartStop && link.source.countsTicks)
        #expect(!TempoSource.follow.countsTicks && !TempoSource.fixed.countsTicks && TempoSource.clock.countsTicks)
    }

    @Test func aPrimerIsOneBarOfNotesPerStep() throws {
        let p = try read("parts: [{name: d, role: drums, model: m, channel: 10, primer: [[36, 42], [], [42], []]}]")
        #expect(p.parts[0].primer == [[36, 42], [], [42], []])
        #expect(try read("parts: [{name: d, role: drums, model: m, channel: 10}]").parts[0].primer.isEmpty)
        let long = "[" + Array(repeating: "[42]", count: 33).joined(separator: ", ") + "]"
        #expect(problem("parts: [{name: d, role: drums, model: m, channel: 10, primer: \(long)}]")?.keyPath == "parts[0].primer")
    }

    @Test func aKitIsTheDrumNotesTheDrummerMayPlay() throws {
        let p = try read("parts: [{name: d, role: drums, model: m, channel: 10, kit: [36, 38, 51, 38]}]")
        #expect(p.parts[0].kit == PitchSet([36, 38, 51]))
        #expect(try read("parts: [{name: d, role: drums, model: m, channel: 10}]").parts[0].kit == nil)
    }

    @Test func unknownKeySuggestsKnownOnes() throws {
        let e = try #require(problem("thru: {chanel: 2}"))
        #expect(e.keyPath == "thru.chanel")
        #expect(e.problem.contains("channel"))
    }

    @Test func brokenYAMLIsAnErrorWithALine() throws {
        let e = try #require(problem("transport: {bpm: 100\nthru: [}"))
        #expect(e.problem.hasPrefix("not valid YAML"))
        #expect(e.problem.contains("line"))
    }

    @Test func emptyFileIsAnError() {
        #expect(problem("") != nil)
        #expect(problem("# only a comment\n") != nil)
        #expect(problem("just a string") != nil)
    }

    @Test func errorLinePointsIntoTheFile() throws {
        let e = try #require(problem("name: a\ntransport:\n  bpm: 9000\n"))
        #expect(e.line == 3)
    }

    /// A preset with 50,000 top-level keys: looking each one up among the others took 11-16 s on
    /// 20,000 keys (about 80 s on 50,000); by hash it is a fraction of a second here. 5 s leaves a
    /// loaded machine room and still fails at once if the lookup turns quadratic again.
    @Test func fiftyThousandKeysAreReadInLinearTime() throws {
        let count = 50_000
        let keys = (0..<count).map { "key\($0): \($0)" }
        let clock = ContinuousClock()
        let start = clock.now
        let unknown = try #require(problem(keys.joined(separator: "\n")))
        let elapsed = clock.now - start
        #expect(unknown.keyPath == "key0")
        #expect(unknown.problem.hasPrefix("unknown key"))
        #expect(elapsed < .seconds(5), "\(elapsed)")

        // A repeat at the very end is found too, and as quickly.
        let again = clock.now
        let repeated = try #require(problem((keys + ["key\(count - 1): again"]).joined(separator: "\n")))
        #expect(repeated.problem.contains("key\(count - 1)"), "\(repeated)")
        #expect(clock.now - again < .seconds(5), "\(clock.now - again)")
    }

    /// Thousands of random mutations of a valid preset: each is read or rejected with a PresetError,
    /// never anything else and never a crash.
    @Test func mutatedPresetsAreReadOrRejectedCleanly() throws {
        let base = Array(
            """
            name: band
            transport: {source: follow, bpm: 132, meter: 6/8}
            thru: {channel: 3, transpose: -12}
            parts:
              - {name: bass, role: bass, model: b.safetensors, channel: 2, range: [28, 55]}
              - {name: drums, role: drums, model: d.safetensors, channel: 10, humanize: {swing: 0.5}}
            """.utf8)
        var rng = SplitMix(seed: 7)
        let alphabet = Array("{}[]:,- \n#&*!|>'\"0123456789abcxyz.".utf8)
        var rejected = 0
        for _ in 0..<3000 {
            var bytes = base
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let at = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 3 {
                case 0: bytes[at] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                case 1: bytes.remove(at: at)
                default: bytes.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: at)
                }
            }
            do {
                _ = try read(String(decoding: bytes, as: UTF8.self))
            } catch is PresetError {
                rejected += 1
            }
        }
        #expect(rejected > 100)
    }
}

typealias SplitMix = SplitMix64
