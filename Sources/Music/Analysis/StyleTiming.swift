import MIDI

/// Where a style's notes fall against the 16th grid: for each step of its bar, the mean offset of the
/// onsets there, in steps (negative: early). A swing or shuffle style plays its off-beat 8ths at two thirds
/// of the beat, the nearest 16th's step less 0.37 of a step in the band data; a straight style stays on
/// the grid. The band plays its style with these offsets (its micro-timing, from the data), on top of the
/// humanizer's jitter.
public struct StyleTiming: Equatable, Sendable {
    public var offsets: [Double]

    public init(offsets: [Double]) { self.offsets = offsets }

    /// An offset smaller than this (in steps) is humanised jitter, not a feel: it is left at 0.
    public static let smallest = 0.05
    /// Steps holding fewer onsets than this share of the style's bars are too rare to trust.
    public static let rarest = 0.05

    /// The timing of one style from its songs' takes (every part's onsets), in their common bar length.
    public init(takes: [BandTake], stepsPerBar: Int) {
        var sums = [Double](repeating: 0, count: stepsPerBar), counts = [Int](repeating: 0, count: stepsPerBar)
        var bars = 0
        for take in takes where take.grid.stepsPerBar == stepsPerBar {
            bars += take.grid.bars
            for note in (take.bass + take.keys + take.drums).joined() {
                let position = take.grid.position(note.start)
                let step = Int(position.rounded())
                let inBar = ((step % stepsPerBar) + stepsPerBar) % stepsPerBar
                sums[inBar] += position - Double(step)
                counts[inBar] += 1
            }
        }
        offsets = (0..<stepsPerBar).map { s in
            guard counts[s] > 0, Double(counts[s]) >= Self.rarest * Double(bars) else { return 0 }
            let mean = sums[s] / Double(counts[s])
            return abs(mean) < Self.smallest ? 0 : (mean * 100).rounded() / 100
        }
    }

    /// Each style's timing from its songs (read again from their files for the onsets' exact times), in
    /// the style's most common bar length.
    public static func styles(of songs: [BandSong]) throws -> [String: StyleTiming] {
        var result: [String: StyleTiming] = [:]
        for (style, (steps, kept)) in BandSong.byStyle(songs) {
            let takes = try kept.map { song in
                do { return song.realTake(file: try MIDIFileReader.read(path: song.path).file) } catch {
                    throw CorpusError(file: song.path, problem: "\(error)")
                }
            }
            result[style] = StyleTiming(takes: takes, stepsPerBar: steps)
        }
        return result
    }

    public var isStraight: Bool { offsets.allSatisfy { $0 == 0 } }

    /// The metadata text of `styles` (key `style_timing`): `name=offset,offset,...` joined by `;`, straight
    /// styles left out.
    public static func text(_ styles: [String: StyleTiming]) -> String {
        styles.keys.sorted().filter { !styles[$0]!.isStraight }.map { name in
            "\(name)=" + styles[name]!.offsets.map { String(format: "%.2f", $0) }.joined(separator: ",")
        }.joined(separator: ";")
    }

    /// Reads `text` back; nil when it is not that form or an offset is a step or more.
    public static func parse(_ text: String) -> [String: StyleTiming]? {
        var result: [String: StyleTiming] = [:]
        for entry in text.split(separator: ";") {
            let pair = entry.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { return nil }
            let offsets = pair[1].split(separator: ",").map { Double($0) }
            guard !offsets.isEmpty, offsets.allSatisfy({ $0 != nil && abs($0!) < 1 }) else { return nil }
            result[String(pair[0])] = StyleTiming(offsets: offsets.map { $0! })
        }
        return result
    }

    public static let metadataKey = "style_timing"
}
