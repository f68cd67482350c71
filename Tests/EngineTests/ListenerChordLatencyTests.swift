import Foundation
import MIDI
import Testing

@testable import Engine

/// How soon the listener names a new chord: examples/band-chords.mid (a chord track of block chords in
/// quarter notes, two bars a chord) played through the transport and the listener as `sideman accompany`
/// plays a file (48 kHz, the file's frames rounded, the grid from its first tick), the chord read on each
/// step once the step's notes are in.
@Suite struct ListenerChordLatencyTests {
    struct Latency: CustomStringConvertible {
        var changes = 0
        /// Steps from a chord change to the first step the listener names the new chord.
        var steps: [Int] = []
        var mean: Double { steps.isEmpty ? 0 : Double(steps.reduce(0, +)) / Double(steps.count) }
        var onTheChange: Int { steps.filter { $0 == 0 }.count }
        var description: String {
            String(format: "%d changes: mean %.2f steps, max %d, named on the change %d", changes, mean, steps.max() ?? 0, onTheChange)
                + " \(steps)"
        }
    }

    static var chordTrack: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples/band-chords.mid").path
    }

    /// The latency of each chord change in the file, the listener set as `settings` says, every note
    /// played `shift` milliseconds late (negative: early, as a player who rushes).
    static func measure(_ settings: ListenerSettings, shift: Double = 0) throws -> Latency {
        let file = try MIDIFileReader.read(path: chordTrack).file
        guard case .ticksPerQuarter(let perQuarter) = file.division else { throw CocoaError(.fileReadCorruptFile) }
        let tempo = TempoMap(file: file)
        let rate = 48000.0
        // A lead-in keeps early notes after frame 0, as `sideman accompany`'s does.
        let lead = 1024.0
        let frame = { (tick: Int) in UInt64((lead + (tempo.seconds(atTick: tick) + shift / 1000) * rate).rounded()) }
        var events: [(UInt64, MIDIMessage)] = []
        for track in file.tracks {
            for e in track.events {
                if let m = e.message, m.isSoundingNoteOn || m.isNoteOff { events.append((frame(e.tick), m)) }
            }
        }
        events.sort { $0.0 < $1.0 }
        // The chord each step should be heard as: the one the notes struck on it (or last before it) spell.
        let stepTicks = Int(perQuarter) / 4
        var struckAt: [Int: [UInt8]] = [:]
        for track in file.tracks {
            for e in track.events {
                if case .noteOn(_, let note, let v)? = e.message, v > 0 { struckAt[e.tick / stepTicks, default: []].append(note) }
            }
        }
        let lastStep = struckAt.keys.max() ?? 0
        var truth: [Chord?] = []
        var current: Chord? = nil
        for step in 0...lastStep {
            if let notes = struckAt[step] {
                current = ChordEstimator(stepsPerBeat: 4).estimate(sounding: PitchSet(notes), struck: PitchSet())
            }
            truth.append(current)
        }
        var ts = TransportSettings()
        ts.bpm = tempo.segments.first?.beatsPerMinute ?? 120
        var transport = Transport(settings: ts, sampleRate: rate)
        transport.start(at: UInt64(lead))
        var rig = TransportRig(transport, listener: Listener(settings: settings, sampleRate: rate, meter: .fourFour))
        var heard: [Chord?] = []
        var next = 0
        for step in 0...lastStep {
            // Everything up to the end of the step's on-step window is in when the step is decided.
            let stepFrame = rig.transport.frame(ofStep: Int64(step))
            let until = stepFrame + UInt64(settings.onStepWindowMilliseconds * rate / 1000)
            rig.drain(through: stepFrame)
            while next < events.count, events[next].0 <= until {
                rig.send(events[next].1, at: events[next].0)
                next += 1
            }
            heard.append(rig.listener!.chord)
        }
        var result = Latency()
        func same(_ a: Chord?, _ b: Chord?) -> Bool { a?.root == b?.root && a?.quality == b?.quality }
        var step = 1
        while step <= lastStep {
            guard !same(truth[step], truth[step - 1]) else {
                step += 1
                continue
            }
            result.changes += 1
            var end = step + 1
            while end <= lastStep, same(truth[end], truth[step]) { end += 1 }
            let named = (step..<end).first { same(heard[$0], truth[step]) } ?? end
            result.steps.append(named - step)
            step = end
        }
        return result
    }

    /// Full keyboard and fingered (the whole keyboard the chord hand, as the chord track is played) name
    /// every change on its step, played in time, rushed or dragged inside the on-step window. Before fresh
    /// chords replaced the strikes before them, full keyboard took 7.2 steps on average (9 at most) in time,
    /// naming 2 of the 10 changes on their step: the old chord's tones lingered as a seventh.
    @Test(arguments: [0.0, -20, 20])
    func everyChangeIsNamedOnItsStep(shift: Double) throws {
        for input in [ChordInputSettings(mode: .full), ChordInputSettings(mode: .fingered, splitPoint: nil)] {
            var settings = ListenerSettings()
            settings.chordInput = input
            let latency = try Self.measure(settings, shift: shift)
            print("chord-change latency, \(input.mode.rawValue), notes \(shift) ms: \(latency)")
            #expect(latency.changes == 10)
            #expect(latency.steps.allSatisfy { $0 == 0 }, "\(input.mode): \(latency)")
        }
    }
}
