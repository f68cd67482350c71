import Foundation

/// One training step (forward, loss, backward) over a chunk, spread over cores as data-parallel shards.
///
/// The chunk's streams (batch lanes) are split into contiguous shards, one per thread. Each shard has its own
/// replica of the model (same configuration, sized for its lanes), which carries its lanes' recurrent state
/// between chunks exactly as the whole model would. The replicas read the master's weights in place (one copy
/// in the shared cache); after a step their gradients are summed into the master's, where the optimizer,
/// clipping and weight average see the gradient of the whole chunk. The loss is scaled by the whole chunk's rows, so the sum is the
/// single-thread gradient up to the order of float additions.
///
/// Why shards rather than threaded GEMMs: the recurrent products of a step are small (64 × 1024 × 256), and a
/// threaded BLAS pays a fork/join per product, 2 × 64 of them per layer and chunk, while the gate
/// nonlinearities, the sparse input gather, the head's softmax and the loss stay on one core. A shard runs all
/// of that on its own core and meets the others once per chunk (docs/TRAINING.md, "Threads").
///
/// With one thread the master runs the chunk itself: results are bit for bit those of a plain loop.
public final class DataParallelStep: @unchecked Sendable {
    public let master: any TrainableModel
    public let threads: Int
    /// Lanes of the batch each shard runs.
    public let lanes: [Range<Int>]
    let replicas: [any TrainableModel]
    private let shards: GradientShards
    private var shardChunks: [TrainingChunk]

    /// `threads` is capped at the batch (a shard needs at least one lane); batch and maxSteps are the chunk's.
    public init(master: any TrainableModel, batch: Int, maxSteps: Int, threads: Int) {
        self.master = master
        let n = max(1, min(threads, batch))
        self.threads = n
        lanes = GradientShards.lanes(batch: batch, threads: n)
        replicas = n == 1 ? [] : lanes.map { master.configuration.makeModel(batch: $0.count, maxSteps: maxSteps, seed: 0) }
        shards = GradientShards(master: master.parameters, shards: replicas.map(\.parameters))
        shardChunks = lanes.map { TrainingChunk(steps: maxSteps, batch: $0.count) }
    }

    /// Every core this process may run on (its CPU affinity and cgroup quota, as the runtime reports them).
    public static var cores: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// Multiply-adds a shard needs per chunk before another thread pays: below it the wake-up and the join
    /// cost more than the shard saves (a 16-unit test model ran as fast on two threads as on one, for 30% more
    /// CPU time; the 1 M-parameter benchmark LSTM, 10 G per shard, runs 1.9x faster on two).
    static let workPerShard = 25_000_000.0

    /// The threads training uses unless told: every core, but no more shards than the chunk has work for
    /// (about 2 × parameters multiply-adds per row forward and backward, a lower bound for the attention
    /// families).
    public static func defaultThreads(parameters: Int, rows: Int) -> Int {
        let work = 2 * Double(parameters) * Double(rows)
        return max(1, min(cores, Int(work / workPerShard)))
    }

    /// Zero state in every stream, the master's and the shards'.
    public func resetState() {
        master.resetState()
        for r in replicas { r.resetState() }
    }

    /// Forward, loss scaled by `scale` and backward over the chunk, leaving the chunk's gradient in the master's
    /// parameters (zeroed first); returns the summed NLL. `rng` draws the dropout masks (one seed per shard).
    public func gradient(_ chunk: TrainingChunk, scale: Float, rng: inout TrainingRandom) -> Double {
        guard threads > 1 else {
            master.zeroGradients()
            let logits = master.forward(chunk, training: true, rng: &rng)
            let loss = master.headLoss(logits, rows: chunk.rows, targets: chunk.targets, present: chunk.present,
                                       scale: scale, grad: logits)
            master.backward(logits)
            return loss
        }
        split(chunk)
        let seed = rng.next()
        shards.onEveryShard { k in
            let replica = self.replicas[k]
            self.shards.zeroGradients(ofShard: k)
            var shardRng = TrainingRandom(seed: GradientShards.seed(seed, shard: k))
            let c = self.shardChunks[k]
            let logits = replica.forward(c, training: true, rng: &shardRng)
            self.shards.loss[k] = replica.headLoss(logits, rows: c.rows, targets: c.targets, present: c.present,
                                                   scale: scale, grad: logits)
            replica.backward(logits)
        }
        shards.sumIntoMaster()
        return shards.totalLoss
    }

    /// The summed NLL over a chunk without dropout or gradients (validation).
    public func loss(_ chunk: TrainingChunk) -> Double {
        guard threads > 1 else {
            var rng = TrainingRandom(seed: 0)
            let logits = master.forward(chunk, training: false, rng: &rng)
            return master.headLoss(logits, rows: chunk.rows, targets: chunk.targets, present: chunk.present, scale: 1,
                                   grad: nil)
        }
        split(chunk)
        shards.onEveryShard { k in
            let replica = self.replicas[k]
            var rng = TrainingRandom(seed: 0)
            let c = self.shardChunks[k]
            let logits = replica.forward(c, training: false, rng: &rng)
            self.shards.loss[k] = replica.headLoss(logits, rows: c.rows, targets: c.targets, present: c.present,
                                                   scale: 1, grad: nil)
        }
        return shards.totalLoss
    }

    /// Mean NLL per predicted step over encoded pieces (as `Trainer.evaluate`, on every shard).
    public func evaluate(_ pieces: [EncodedPiece], batch: Int, steps: Int) -> (nll: Double, steps: Int) {
        let batcher = StreamBatcher(pieces, batch: batch, steps: steps)
        resetState()
        var total = 0.0, count = 0
        for chunk in batcher.chunks() {
            total += loss(chunk)
            count += chunk.predictedSteps
        }
        return (count == 0 ? .nan : total / Double(count), count)
    }

    /// Each shard's rows of the chunk, time-major within the shard as in the whole.
    private func split(_ chunk: TrainingChunk) {
        for (k, range) in lanes.enumerated() {
            var s = shardChunks[k]
            s.steps = chunk.steps
            s.inputs.removeAll()
            s.targets.removeAll()
            s.present.removeAll(keepingCapacity: true)
            s.resets.removeAll(keepingCapacity: true)
            s.positions.removeAll(keepingCapacity: true)
            for t in 0..<chunk.steps {
                for b in range {
                    let r = t * chunk.batch + b
                    s.inputs.appendRow(of: chunk.inputs, r)
                    s.targets.appendRow(of: chunk.targets, r)
                    s.present.append(chunk.present[r])
                    s.resets.append(chunk.resets[r])
                    if !chunk.positions.isEmpty { s.positions.append(chunk.positions[r]) }
                }
            }
            shardChunks[k] = s
        }
    }
}

extension SparseRows {
    /// Appends row `r` of another set.
    mutating func appendRow(of other: SparseRows, _ r: Int) {
        let range = other.range(r)
        indices.append(contentsOf: other.indices[range])
        values.append(contentsOf: other.values[range])
        offsets.append(Int32(indices.count))
    }
}
