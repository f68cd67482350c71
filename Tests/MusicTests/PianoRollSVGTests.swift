import Foundation
import MIDI
import Music
import Testing
import TestSupport

@Suite("SVG piano roll")
struct PianoRollSVGTests {
    /// A melody in `meter` and an answering part, `bars` bars long; the player's notes are quarter notes.
    static func song(meter: (UInt8, Int), bars: Int, playerName: String = "Melody") -> MIDIFile {
        let perQuarter = 480
        let barTicks = Int(meter.0) * perQuarter * 4 / meter.1
        var player = MIDITrack(events: [SMFEvent(tick: 0, .trackName(playerName)), SMFEvent(tick: 0, .timeSignature(meter.0, meter.1)), SMFEvent(tick: 0, .tempo(beatsPerMinute: 100))])
        var answer = MIDITrack(events: [SMFEvent(tick: 0, .trackName("Continuation"))])
        var tick = 0
        var pitch: UInt8 = 60
        while tick + perQuarter <= barTicks * bars / 2 {
            player.events.append(SMFEvent(tick: tick, .noteOn(channel: 0, note: pitch, velocity: 90)))
            player.events.append(SMFEvent(tick: tick + perQuarter, .noteOff(channel: 0, note: pitch, velocity: 0)))
            tick += perQuarter
            pitch = pitch == 72 ? 60 : pitch + 2
        }
        while tick + perQuarter <= barTicks * bars {
            answer.events.append(SMFEvent(tick: tick, .noteOn(channel: 1, note: pitch - 12, velocity: 70)))
            answer.events.append(SMFEvent(tick: tick + perQuarter, .noteOff(channel: 1, note: pitch - 12, velocity: 0)))
            tick += perQuarter
        }
        player.events.append(SMFEvent(tick: barTicks * bars, .endOfTrack))
        answer.events.append(SMFEvent(tick: barTicks * bars, .endOfTrack))
        return MIDIFile(format: .simultaneousTracks, division: .ticksPerQuarter(UInt16(perQuarter)), tracks: [player, MIDITrack(events: [SMFEvent(tick: 0, .endOfTrack)]), answer])
    }

    @Test("one rect per note, player notes told apart, a legend entry per track with notes", arguments: [0, 2])
    func notesAndLegend(player: Int) throws {
        let file = Self.song(meter: (4, 4), bars: 4)
        let svg = PianoRollSVG(playerTrack: player).render(file)
        let xml = try SVGDocument.parse(svg)
        let expectedNotes = file.tracks.map { $0.noteSpans().count }
        #expect(xml.withClass("note").count == expectedNotes.reduce(0, +))
        #expect(xml.withClass("player").count == expectedNotes[player])
        #expect(xml.withClass("generated").count == expectedNotes.reduce(0, +) - expectedNotes[player])
        // The empty middle track has no legend entry.
        let legend = xml.texts.filter { $0.contains("channel") }
        #expect(xml.withClass("legend").count == 2)
        #expect(legend.count == 2)
        #expect(legend.filter { $0.contains("(player)") }.count == 1)
        #expect(legend.contains { $0.hasPrefix(player == 0 ? "Melody (player)" : "Continuation (player)") })
        // Player notes are outlined (hatched), generated ones filled with their part's colour.
        #expect(xml.withClass("player").allSatisfy { $0["fill"] == "url(#hatch)" })
        #expect(xml.withClass("generated").allSatisfy { $0["fill"]?.hasPrefix("#") == true })
        #expect(Set(xml.withClass("note").compactMap { $0["stroke"] }).count == 2)
    }

    @Test("bar lines follow the time signature", arguments: [((UInt8(4), 4), 4), ((3, 4), 6), ((6, 8), 5), ((7, 8), 3)])
    func barLines(meter: (UInt8, Int), bars: Int) throws {
        let file = Self.song(meter: meter, bars: bars)
        let xml = try SVGDocument.parse(PianoRollSVG(playerTrack: 0).render(file))
        // A line at every bar start and one closing the last bar.
        #expect(xml.withClass("bar").count == bars + 1)
        let xs = xml.withClass("bar").compactMap { $0["x1"].flatMap(Double.init) }
        let gaps = zip(xs.dropFirst(), xs).map { $0 - $1 }
        #expect(gaps.allSatisfy { abs($0 - gaps[0]) < 0.2 }, "bars at one tempo are evenly spaced: \(gaps)")
    }

    @Test("a mid-bar meter change starts a new bar there")
    func meterChange() {
        var file = Self.song(meter: (4, 4), bars: 4)
        file.tracks[0].events.insert(SMFEvent(tick: 480 * 6, .timeSignature(3, 4)), at: 3)
        // 4/4 bar at 0, 4/4 from 1920 cut short at 2880, then 3/4 bars to 7680.
        #expect(PianoRollSVG.barTicks(of: file, through: 7680) == [0, 1920, 2880, 4320, 5760, 7200])
    }

    @Test("octave lines and labels at every C in the range")
    func octaves() throws {
        let xml = try SVGDocument.parse(PianoRollSVG(playerTrack: 0).render(Self.song(meter: (4, 4), bars: 4)))
        // Notes from C3 (48) to C5 (72): octaves C3, C4, C5 drawn.
        #expect(xml.withClass("octave").count == 3)
        #expect(xml.texts.filter { $0.hasPrefix("C") && $0.count == 2 } == ["C3", "C4", "C5"])
    }

    @Test("track names are escaped; the result is still well-formed")
    func escaping() throws {
        let file = Self.song(meter: (4, 4), bars: 2, playerName: "<Lead & \"Solo\">\u{1}")
        let xml = try SVGDocument.parse(PianoRollSVG(playerTrack: 0).render(file))
        #expect(xml.texts.contains { $0.hasPrefix("<Lead & \"Solo\"> (player)") })
    }

    @Test("an empty file still draws a well-formed frame")
    func empty() throws {
        let file = MIDIFile(format: .singleTrack, division: .ticksPerQuarter(96), tracks: [MIDITrack(events: [SMFEvent(tick: 0, .endOfTrack)])])
        let xml = try SVGDocument.parse(PianoRollSVG(playerTrack: 0).render(file))
        #expect(xml.withClass("note").isEmpty)
        #expect(xml.withClass("legend").isEmpty)
    }
}
