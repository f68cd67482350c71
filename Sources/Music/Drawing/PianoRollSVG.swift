import MIDI

/// Draws a MIDI file as a piano roll: seconds on x (through the file's tempo map, so it looks as it
/// sounds), pitch on y with a line and label at every C, bar lines from the time signatures, one colour
/// per track with notes and a legend naming them. The player's track is drawn as outlines so what the
/// player played stands apart from what was generated.
public struct PianoRollSVG: Sendable {
    /// The track the player played (drawn outlined), or nil when every track was generated.
    public var playerTrack: Int?
    public var rowHeight: Double = 7
    /// Width of the note area; seconds are scaled to fit, within sensible bounds.
    public var targetWidth: Double = 1200

    public static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

    public init(playerTrack: Int? = nil) {
        self.playerTrack = playerTrack
    }

    /// A part of the drawing: a track with notes.
    public struct Part: Sendable {
        public var track: Int
        public var name: String
        public var colour: String
        public var isPlayer: Bool
        public var notes: [NoteSpan]
    }

    /// The tracks that have notes, in file order, with their colours and names.
    public func parts(of file: MIDIFile) -> [Part] {
        var parts: [Part] = []
        for (index, track) in file.tracks.enumerated() {
            let notes = track.noteSpans()
            guard !notes.isEmpty else { continue }
            let isPlayer = index == playerTrack
            let label = track.name.flatMap { $0.isEmpty ? nil : $0 } ?? "Track \(index)"
            parts.append(Part(track: index, name: isPlayer ? "\(label) (player)" : label,
                              colour: Self.palette[parts.count % Self.palette.count], isPlayer: isPlayer, notes: notes))
        }
        return parts
    }

    /// Bar starts in ticks, from 0 through `end`: each bar as long as the time signature in force at its
    /// start (4/4 until the first one); a signature arriving mid-bar starts a new bar there, as players do.
    public static func barTicks(of file: MIDIFile, through end: Int) -> [Int] {
        guard case .ticksPerQuarter(let perQuarter) = file.division, perQuarter > 0 else { return [] }
        var signatures: [(tick: Int, length: Int)] = []
        for track in file.tracks {
            for event in track.events {
                if case .meta(.timeSignature(let n, let power, _, _)) = event.kind, n > 0, power <= 6 {
                    signatures.append((event.tick, (Int(n) * Int(perQuarter) * 4) >> Int(power)))
                }
            }
        }
        signatures.sort { $0.tick < $1.tick }
        var bars: [Int] = []
        var tick = 0
        var length = Int(perQuarter) * 4
        var next = 0
        // Bounded so a hostile file (tiny bars, huge end tick) cannot make a drawing of millions of lines.
        while tick <= end, bars.count < 5000 {
            while next < signatures.count, signatures[next].tick <= tick {
                length = max(1, signatures[next].length)
                next += 1
            }
            bars.append(tick)
            var following = tick + length
            if next < signatures.count, signatures[next].tick < following { following = signatures[next].tick }
            tick = following
        }
        return bars
    }

    public func render(_ file: MIDIFile) -> String {
        let parts = parts(of: file)
        let tempo = TempoMap(file: file)
        let allNotes = parts.flatMap(\.notes)
        let endTick = max(allNotes.map(\.end).max() ?? 0, file.tracks.map(\.endTick).max() ?? 0)
        let endSeconds = max(tempo.seconds(atTick: endTick), 1)
        let lowest = Int(allNotes.map(\.pitch).min() ?? 60)
        let highest = Int(allNotes.map(\.pitch).max() ?? 72)
        // Whole octaves from the C at or below the lowest note to the B above the highest.
        let bottom = max(0, lowest - lowest % 12)
        let top = min(127, highest + (11 - highest % 12))
        let rows = top - bottom + 1

        let left = 44.0, topMargin = 26.0, right = 16.0
        let pixelsPerSecond = min(160, max(12, targetWidth / endSeconds))
        let plotWidth = endSeconds * pixelsPerSecond
        let plotHeight = Double(rows) * rowHeight
        let legendTop = topMargin + plotHeight + 30
        let legendHeight = Double(max(1, parts.count)) * 18 + 6
        var canvas = SVGCanvas(width: left + plotWidth + right, height: legendTop + legendHeight)
        let x = { (tick: Int) in left + tempo.seconds(atTick: tick) * pixelsPerSecond }
        let y = { (pitch: Int) in topMargin + Double(top - pitch) * rowHeight }

        canvas.raw("<defs><pattern id=\"hatch\" width=\"4\" height=\"4\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"4\" stroke=\"#999\" stroke-width=\"1\"/></pattern></defs>")
        // Black-key rows shaded, as on a keyboard, so pitches can be read between the C lines.
        for pitch in bottom...top where [1, 3, 6, 8, 10].contains(pitch % 12) {
            canvas.rect(x: left, y: y(pitch), width: plotWidth, height: rowHeight, style: "fill=\"#f1f1f4\"")
        }
        for pitch in stride(from: bottom, through: top, by: 12) {
            let lineY = y(pitch) + rowHeight
            canvas.line(x1: left, y1: lineY, x2: left + plotWidth, y2: lineY, style: "stroke=\"#9a9aa6\" stroke-width=\"1\"", className: "octave")
            canvas.text("C\(pitch / 12 - 1)", x: left - 6, y: lineY - 1, size: 10, anchor: "end", className: "octave-label")
        }
        let bars = Self.barTicks(of: file, through: endTick)
        for (number, tick) in bars.enumerated() {
            let barX = x(tick)
            canvas.line(x1: barX, y1: topMargin, x2: barX, y2: topMargin + plotHeight, style: "stroke=\"#c4c4cc\" stroke-width=\"1\"", className: "bar")
            if number < bars.count - 1 || tick < endTick {
                canvas.text("\(number + 1)", x: barX + 3, y: topMargin - 6, size: 10, className: "bar-label")
            }
        }
        canvas.rect(x: left, y: topMargin, width: plotWidth, height: plotHeight, style: "fill=\"none\" stroke=\"#666\" stroke-width=\"1\"")

        for part in parts {
            for note in part.notes {
                let style = part.isPlayer
                    ? "fill=\"url(#hatch)\" stroke=\"\(part.colour)\" stroke-width=\"1.5\""
                    : "fill=\"\(part.colour)\" fill-opacity=\"\(SVGCanvas.number(0.45 + 0.55 * Double(note.velocity) / 127))\" stroke=\"\(part.colour)\" stroke-width=\"0.5\""
                let name = NoteName.name(of: Int(note.pitch))
                // A pixel short at the end so repeated notes on one pitch stay apart.
                canvas.rect(x: x(note.start), y: y(Int(note.pitch)) + 0.5, width: max(2, x(note.end) - x(note.start) - 1), height: rowHeight - 1,
                            style: style, className: part.isPlayer ? "note player" : "note generated",
                            title: "\(part.name): \(name) velocity \(note.velocity)")
            }
        }

        // Time axis: whole seconds, at a spacing that keeps the labels apart.
        let secondStep = [1, 2, 5, 10, 15, 30, 60].first { Double($0) * pixelsPerSecond >= 40 } ?? 60
        for second in stride(from: 0, through: Int(endSeconds), by: secondStep) {
            let tickX = left + Double(second) * pixelsPerSecond
            canvas.line(x1: tickX, y1: topMargin + plotHeight, x2: tickX, y2: topMargin + plotHeight + 4, style: "stroke=\"#666\"")
            canvas.text("\(second) s", x: tickX, y: topMargin + plotHeight + 15, size: 10, anchor: "middle")
        }

        for (index, part) in parts.enumerated() {
            let rowY = legendTop + Double(index) * 18
            let swatch = part.isPlayer
                ? "fill=\"url(#hatch)\" stroke=\"\(part.colour)\" stroke-width=\"1.5\""
                : "fill=\"\(part.colour)\" stroke=\"\(part.colour)\" stroke-width=\"0.5\""
            canvas.rect(x: left, y: rowY, width: 22, height: 10, style: swatch, className: "legend-swatch")
            canvas.text("\(part.name), channel \(Int(part.notes[0].channel) + 1), \(part.notes.count) notes", x: left + 30, y: rowY + 9, size: 11, className: "legend")
        }
        return canvas.document
    }
}
