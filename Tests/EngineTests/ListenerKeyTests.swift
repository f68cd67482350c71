import Foundation
import MIDI
import Music
import Testing
import TestSupport

@testable import Engine

/// Plays (pitch, length in steps) one after another from step 0 into a listening rig.
func playLine(_ line: [(UInt8, Int)], into rig: inout TransportRig, from startStep: Int = 0) -> Int {
    var step = startStep
    for (pitch, length) in line {
        rig.send(playerOn(pitch), at: UInt64(step * 6000))
        rig.send(playerOff(pitch), at: UInt64((step + length) * 6000 - 1000))
        step += length
    }
    rig.drain(through: UInt64(step * 6000))
    return step
}

@Suite struct ListenerKeyTests {
    // "Ode to Joy", in C major, in quarters and a closing half note.
    static let ode: [(UInt8, Int)] = [
        64, 64, 65, 67, 67, 65, 64, 62, 60, 60, 62, 64, 64, 62, 62, 64, 64, 65, 67, 67, 65, 64, 62, 60, 60, 62, 64, 62, 60,
    ].map { ($0, 4) } + [(60, 8)]
    // A tune in A minor with its raised leading tone, as minor tunes have it.
    static let minorTune: [(UInt8, Int)] = [
        (69, 4), (72, 4), (74, 4), (76, 6), (77, 2), (76, 4), (74, 4), (71, 4), (67, 6), (69, 2), (71, 4), (72, 4),
        (69, 4), (69, 6), (68, 2), (69, 4), (71, 4), (68, 4), (64, 8), (69, 4), (72, 4), (74, 4), (76, 6), (77, 2),
        (76, 4), (74, 4), (71, 4), (67, 6), (69, 2), (71, 4), (72, 4), (71, 2), (69, 2), (68, 4), (66, 2), (68, 2), (69, 12),
    ]

    private func keyAfter(_ line: [(UInt8, Int)], shift: Int) -> Key? {
        var rig = listenerRig()
        _ = playLine(line.map { (UInt8(Int($0.0) + shift), $0.1) }, into: &rig)
        return rig.listener!.key
    }

    @Test func majorTuneInEveryKey() {
        for shift in -6..<6 {
            #expect(keyAfter(Self.ode, shift: shift) == Key(tonic: shift, mode: .major))
        }
    }

    @Test func minorTuneInEveryKeyIsNotItsRelativeMajor() {
        for shift in -6..<6 {
            #expect(keyAfter(Self.minorTune, shift: shift) == Key(tonic: 9 + shift, mode: .minor))
        }
    }

    @Test(arguments: [(0, Key.Mode.major), (7, .major), (3, .major), (9, .minor), (4, .minor), (2, .minor)])
    func scalesUpAndDown(tonic: Int, mode: Key.Mode) {
        // Harmonic minor for minor keys: the raised 7th is what tells A minor from C major.
        let steps = mode == .major ? [0, 2, 4, 5, 7, 9, 11, 12] : [0, 2, 3, 5, 7, 8, 11, 12]
        let up = steps.map { UInt8(60 + tonic + $0) }
        let line = (up + up.reversed().dropFirst()).map { ($0, 4) } + [(UInt8(60 + tonic), 12)]
        var rig = listenerRig()
        _ = playLine(line, into: &rig)
        #expect(rig.listener!.key == Key(tonic: tonic, mode: mode))
    }

    @Test func keyDoesNotFlickerAndFollowsAModulation() {
        var rig = listenerRig()
        var step = 0
        for _ in 0..<3 { step = playLine(Self.ode, into: &rig, from: step) }
        let settled = rig.reports.drop { $0.key == nil }.map(\.key)
        #expect(Set(settled).count == 1)
        #expect(settled.last == Key(tonic: 0, mode: .major))
        let before = rig.reports.count
        for _ in 0..<4 { step = playLine(Self.ode.map { ($0.0 + 7, $0.1) }, into: &rig, from: step) }
        let after = rig.reports[before...].map(\.key)
        #expect(after.last == Key(tonic: 7, mode: .major))
        // One change, C to G, without wandering in between.
        let changes = zip(after, after.dropFirst()).filter { $0 != $1 }.count
        #expect(changes == 1)
    }

    /// The key estimate over the folk validation tunes, against their labels. The labels themselves agree
    /// with the notation about 94% of the time (data README), so the bound asserted is conservative.
    @Test func folkValidationKeys() throws {
        guard let data = Corpora.folder(), FileManager.default.fileExists(atPath: "\(data)/folk/valid.jsonl") else {
            print(Corpora.skipReason)
            return
        }
        let tunes = try FolkCorpus.load(path: "\(data)/folk/valid.jsonl").filter { $0.key != nil }
        #expect(tunes.count > 500)
        func agreement(halfLife: Double) -> (end: Double, steps: Double, relative: Double) {
            var endHits = 0
            var relativeConfusions = 0
            var stepHits = 0
            var stepTotal = 0
            for tune in tunes {
                let label = tune.key!
                var transport = Transport(settings: transportSettings(.fixed, bpm: 120), sampleRate: 48000)
                transport.start(at: 0)
                var ls = ListenerSettings()
                ls.onStepWindowMilliseconds = 30
                var rig = TransportRig(transport, listener: Listener(settings: ls, sampleRate: 48000, meter: .fourFour, keyHalfLifeSteps: halfLife))
                var sounding: UInt8? = nil
                for (i, event) in tune.melody.events.enumerated() {
                    let frame = UInt64(i * 6000)
                    switch event {
                    case .noEvent: continue
                    case .noteOff:
                        if let p = sounding { rig.send(playerOff(p), at: frame) }
                        sounding = nil
                    case .noteOn(let p):
                        if let q = sounding { rig.send(playerOff(q), at: frame) }
                        rig.send(playerOn(p), at: frame)
                        sounding = p
                    }
                }
                rig.drain(through: UInt64((tune.melody.events.count + 1) * 6000))
                for r in rig.reports.dropFirst(32) {
                    stepTotal += 1
                    if r.key == label { stepHits += 1 }
                }
                let key = rig.listener!.key
                if key == label { endHits += 1 }
                if let key, key != label, key.scale == label.scale { relativeConfusions += 1 }
            }
            let n = Double(tunes.count)
            return (Double(endHits) / n, Double(stepHits) / Double(max(stepTotal, 1)), Double(relativeConfusions) / n)
        }
        let live = agreement(halfLife: 128)
        let whole = agreement(halfLife: .infinity)
        print(
            "folk valid key agreement over \(tunes.count) tunes: live (half-life 128 steps) end of tune "
                + String(format: "%.1f%%, per step after 2 bars %.1f%%, relative-key confusions %.1f%%; ", live.end * 100, live.steps * 100, live.relative * 100)
                + String(format: "whole-tune memory end %.1f%%, per step %.1f%%, relative %.1f%%", whole.end * 100, whole.steps * 100, whole.relative * 100))
        #expect(live.end >= 0.6)
        #expect(whole.end >= 0.6)
    }
}
