import Engine
import Foundation
@testable import Live
import Ports
import Testing

/// A simulated hour at the keyboard on the virtual backend's clock: 10^6 passes of the daemon's own
/// engine runner (input ring -> parser -> thru engine -> scheduled output -> note tracker), with memory
/// sampled from /proc/self/statm. Runs in a few seconds: nothing waits for real time.
@Suite(.serialized)
struct EngineRunnerSessionTests {
    /// Resident set size in bytes (statm's second field is resident pages).
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
    }

    @Test func aMillionEngineStepsKeepMemoryFlatAndEveryNoteEnded() throws {
        let backend = VirtualBackend(sampleRate: 48000, bufferSize: 128)
        try backend.open()
        let runner = EngineRunner(engine: ThruEngine(channel: 3, transpose: 5), panicController: nil, outputCount: 1)
        var delivered = 0
        var played = 0
        let steps = 1_000_000
        let warmUp = 20_000
        var startRSS = 0
        var startCapacity = 0
        // The player: a note every 24 cycles (64 ms), held 12 cycles, with a pedal and a controller
        // now and then, so the parser, engine, rings and tracker all work the whole hour.
        func playerStep(_ cycle: Int) {
            let frame = backend.frame + UInt64((cycle * 37) % 128)
            let note = UInt8(36 + (cycle / 24) % 60)
            switch cycle % 24 {
            case 0: backend.play(frame: frame, bytes: [0x90, note, UInt8(1 + cycle % 126)]); played += 1
            case 12: backend.play(frame: frame, bytes: [0x80, note, 0]); played += 1
            case 5 where cycle % 480 == 5: backend.play(frame: frame, bytes: [0xB0, 64, 127]); played += 1
            case 17 where cycle % 480 == 17: backend.play(frame: frame, bytes: [0xB0, 64, 0]); played += 1
            default: break
            }
        }
        for cycle in 0..<steps {
            if cycle == warmUp {
                startRSS = Self.residentBytes()
                startCapacity = runner.bufferCapacity
            }
            playerStep(cycle)
            backend.runCycle()
            runner.step(backend: backend.enginePort)
            delivered += backend.takeDelivered().count
        }
        let endRSS = Self.residentBytes()
        // Two more cycles deliver what the last pass scheduled.
        backend.runCycle()
        backend.runCycle()
        delivered += backend.takeDelivered().count
        let growth = endRSS - startRSS
        print("session: \(steps) engine steps, \(played) events played, \(delivered) delivered; RSS \(startRSS / 1024) KiB after \(warmUp) steps, \(endRSS / 1024) KiB at the end (growth \(growth / 1024) KiB)")
        #expect(delivered == played, "thru delivers every event the player played")
        #expect(runner.isSilent, "the player ended every note, so nothing sent may still sound")
        #expect(backend.status().droppedEvents == 0 && backend.status().lateEvents == 0)
        #expect(startRSS > 0)
        // The runner's buffers keep the size the warm-up gave them. The resident size is the whole test
        // process's, where other suites run alongside and load models, so it only bounds a gross leak
        // (500 bytes a step would be 500 MB); run alone, it stays within a few hundred KiB.
        #expect(runner.bufferCapacity == startCapacity, "the runner's buffers grew from \(startCapacity) to \(runner.bufferCapacity)")
        #expect(growth < 512 << 20, "RSS grew by \(growth / 1024) KiB over \(steps) steps")
    }
}
