/// Polyphonic frames: the set of pitches sounding on each step, as the classic polyphonic-music
/// benchmarks store them.
public struct PianoRoll: Equatable, Sendable {
    /// Sorted, duplicate-free pitches per frame.
    public var frames: [[UInt8]]

    public init(frames: [[UInt8]]) {
        self.frames = frames.map { Array(Set($0)).sorted() }
    }

    /// The benchmark's 88 units: piano keys A0 (MIDI 21) to C8 (MIDI 108).
    public static let pianoRange: ClosedRange<UInt8> = 21...108

    /// Frames as indices into the 88-unit piano range; pitches outside it are dropped (none occur in JSB).
    public var pianoUnitFrames: [[Int]] {
        frames.map { frame in
            frame.compactMap { Self.pianoRange.contains($0) ? Int($0 - Self.pianoRange.lowerBound) : nil }
        }
    }

    public func transposed(by semitones: Int, within range: ClosedRange<Int> = 21...108) -> PianoRoll? {
        var moved: [[UInt8]] = []
        moved.reserveCapacity(frames.count)
        for frame in frames {
            var out: [UInt8] = []
            for p in frame {
                let q = Int(p) + semitones
                guard range.contains(q) else { return nil }
                out.append(UInt8(q))
            }
            moved.append(out)
        }
        return PianoRoll(frames: moved)
    }
}
