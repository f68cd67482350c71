import Foundation

/// Replicas of a network that train side by side on their own cores: each reads the master's weights in place
/// (one copy in the shared cache, nothing copied per step) and keeps its own gradient, which `sumIntoMaster`
/// adds up in the master's parameters for the optimizer. The split of the batch is the caller's
/// (`DataParallelStep` for the streaming families, `MusicVAETrainer` for phrases).
public final class GradientShards: @unchecked Sendable {
    public let count: Int
    let masterParameters: [Parameter]
    let shardParameters: [[Parameter]]
    /// Each shard's summed loss, written by its own thread.
    let loss: UnsafeMutableBufferPointer<Double>

    /// `master` and each of `shards` list the same tensors in the same order (replicas of one configuration).
    init(master: [Parameter], shards: [[Parameter]]) {
        count = shards.count
        masterParameters = master
        shardParameters = shards
        for shard in shards {
            precondition(shard.count == master.count)
            for (mine, theirs) in zip(shard, master) { mine.shareValues(of: theirs) }
        }
        loss = .allocate(capacity: max(1, count))
        loss.initialize(repeating: 0)
    }

    deinit { loss.deallocate() }

    /// Runs `body(k)` for every shard k at once: shard 0 on the calling thread, the others on threads of their
    /// own, and returns when all are done. Own threads, not GCD's pool: that pool also runs Swift concurrency's
    /// tasks, and a shard holding its threads for a whole chunk starved the tasks beside it (a test process's
    /// JACK peers missed their periods). A thread costs tens of microseconds; a shard's work is milliseconds at
    /// least (`DataParallelStep.workPerShard`). The GEMM backend chosen where this is called (a task-local,
    /// which new threads would not see) is the one every shard uses.
    func onEveryShard(_ body: @escaping @Sendable (Int) -> Void) {
        let backend = Gemm.backend
        let done = DispatchSemaphore(value: 0)
        for k in 1..<count {
            let thread = Thread {
                Gemm.$backend.withValue(backend) { body(k) }
                done.signal()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        Gemm.$backend.withValue(backend) { body(0) }
        for _ in 1..<count { done.wait() }
    }

    func zeroGradients(ofShard k: Int) {
        for p in shardParameters[k] { p.grad.zero() }
    }

    /// master.grad = Σ shard grads, each thread summing its slice of every tensor.
    func sumIntoMaster() {
        let n = count
        onEveryShard { k in
            for (p, parameter) in self.masterParameters.enumerated() {
                let size = parameter.count
                let slice = (k * size / n)..<((k + 1) * size / n)
                guard !slice.isEmpty else { continue }
                let out = parameter.grad.base + slice.lowerBound
                out.update(from: self.shardParameters[0][p].grad.base + slice.lowerBound, count: slice.count)
                for shard in self.shardParameters.dropFirst() {
                    TrainMath.add(shard[p].grad.base + slice.lowerBound, into: out, slice.count)
                }
            }
        }
    }

    var totalLoss: Double { loss.reduce(0, +) }

    /// A batch of `batch` streams or phrases split into at most `threads` contiguous shards, none empty.
    static func lanes(batch: Int, threads: Int) -> [Range<Int>] {
        let n = max(1, min(threads, batch))
        return (0..<n).map { k in (k * batch / n)..<((k + 1) * batch / n) }
    }

    /// Seeds for the shards' random draws (dropout, the VAE's ε) from one draw of the caller's generator.
    static func seed(_ base: UInt64, shard k: Int) -> UInt64 { base &+ UInt64(k) &* 0x9E37_79B9_7F4A_7C15 }
}
