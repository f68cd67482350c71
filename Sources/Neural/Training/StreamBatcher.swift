/// Lays pieces end to end in `batch` parallel streams and cuts them into chunks of `steps` steps, so a batch
/// wastes no padding except at the ends of the streams. State carries across chunk boundaries within a piece
/// (truncated BPTT) and restarts at each piece's first step.
public struct StreamBatcher {
    public let batch: Int
    public let steps: Int
    let pieces: [EncodedPiece]
    /// Piece indices in each stream, in order.
    let streams: [[Int]]
    public let chunkCount: Int

    /// Pieces go, in the given order, each to the currently shortest stream.
    public init(_ pieces: [EncodedPiece], batch: Int, steps: Int) {
        self.batch = batch
        self.steps = steps
        self.pieces = pieces
        var streams = [[Int]](repeating: [], count: batch)
        var lengths = [Int](repeating: 0, count: batch)
        for (i, p) in pieces.enumerated() where p.count > 0 {
            let b = lengths.indices.min { lengths[$0] < lengths[$1] }!
            streams[b].append(i)
            lengths[b] += p.count
        }
        self.streams = streams
        chunkCount = (lengths.max()! + steps - 1) / steps
    }

    /// Every chunk in order.
    public func chunks() -> AnyIterator<TrainingChunk> {
        var cursors = streams.map { Cursor(queue: $0) }
        var produced = 0
        return AnyIterator {
            guard produced < chunkCount else { return nil }
            produced += 1
            var chunk = TrainingChunk(steps: steps, batch: batch)
            chunk.present.reserveCapacity(steps * batch)
            for _ in 0..<steps {
                for b in 0..<batch { cursors[b].emit(into: &chunk, pieces) }
            }
            return chunk
        }
    }

    struct Cursor {
        var queue: [Int]
        var slot = 0
        var offset = 0

        mutating func emit(into chunk: inout TrainingChunk, _ pieces: [EncodedPiece]) {
            guard slot < queue.count else {
                chunk.inputs.append([])
                chunk.targets.append([])
                chunk.present.append(false)
                chunk.resets.append(true)
                chunk.positions.append(0)
                return
            }
            let p = pieces[queue[slot]]
            chunk.inputs.append(p.inputs.range(offset).map { (Int(p.inputs.indices[$0]), p.inputs.values[$0]) })
            chunk.targets.append(indices: p.targets.row(offset))
            chunk.present.append(true)
            chunk.resets.append(offset == 0)
            chunk.positions.append(Int32(offset))
            offset += 1
            if offset == p.count {
                slot += 1
                offset = 0
            }
        }
    }
}
