import Foundation
import Neural
import Service

/// `sideman train --benchmark`: sgemm throughput of both backends on the LSTM's shapes, and the training speed
/// of a family on synthetic chunks (192 sparse inputs with 4 active, 130 softmax outputs): on `threads` cores
/// and, to show how it scales, on one.
struct TrainBenchmark {
    /// The benchmark's input width: a 128-way event, a 64-way and two 16-way features, one active in each.
    static let inputs = 192
    var config: TrainingModelConfig, batch: Int, steps: Int, threads: Int, json: Bool
    /// The GEMM backend to measure (nil: every one that loads).
    var backend: Gemm.Backend?
    /// Only the training rate on `threads`, with the default backend.
    var trainingOnly = false

    /// Best-of-n GFLOP/s of C[m×n] = A[m×k]·B[k×n]ᵀ (the forward's layout).
    func gflops(_ backend: Gemm.Backend, m: Int, n: Int, k: Int) -> Double {
        let a = TrainingBuffer(count: m * k), b = TrainingBuffer(count: n * k), c = TrainingBuffer(count: m * n)
        var rng = TrainingRandom(seed: 1)
        for i in 0..<(m * k) { a[i] = rng.uniform(-1, 1) }
        for i in 0..<(n * k) { b[i] = rng.uniform(-1, 1) }
        var best = Double.infinity
        let reps = max(1, 200_000_000 / (2 * m * n * k))
        for _ in 0..<5 {
            let start = MonotonicClock.nanoseconds()
            for _ in 0..<reps {
                Gemm.multiply(transB: true, m: m, n: n, k: k, a.base, lda: k, b.base, ldb: k, beta: 0, c.base, ldc: n, using: backend)
            }
            best = min(best, Double(MonotonicClock.nanoseconds() - start) / Double(reps))
        }
        return 2 * Double(m * n * k) / best
    }

    func run() throws {
        var report: [String: Any] = ["family": config.family.rawValue, "threads": threads, "batch": batch, "steps": steps]
        let everyBackend: [Gemm.Backend] = Gemm.openBLASAvailable ? [.openBLAS, .builtIn] : [.builtIn]
        let backends = backend.map { [$0] } ?? (trainingOnly ? [Gemm.backend] : everyBackend)
        let hidden = config.hidden, g = 4 * hidden
        // The shapes an LSTM trains on: the per-step recurrent product and the whole-chunk input product.
        let shapes = [("recurrent", batch, g, hidden), ("chunk", batch * steps, g, hidden), ("peak", 1024, 1024, 1024)]
        for backend in backends where !trainingOnly {
            for (name, m, n, k) in shapes {
                let value = gflops(backend, m: m, n: n, k: k)
                report["gflops_\(backend.rawValue)_\(name)"] = (value * 10).rounded() / 10
                if !json { print(String(format: "sgemm %@ %@ %dx%dx%d: %.1f GFLOP/s", backend.rawValue, name, m, n, k, value)) }
            }
        }
        if let description = Gemm.openBLASDescription, !json, !trainingOnly { print("OpenBLAS: \(description)") }
        report["parameters"] = config.makeModel(batch: 1, maxSteps: 1, seed: 1).parameterCount
        if config.hasRecurrentProducts { report["recurrent_precision"] = config.recurrentPrecision.rawValue }
        for backend in backends {
            for n in threads > 1 && !trainingOnly ? [threads, 1] : [threads] {
                let rate = Gemm.$backend.withValue(backend) { trainingRate(threads: n) }
                let key = "sample_steps_per_s_\(backend.rawValue)" + (n == threads ? "" : "_1thread")
                report[key] = rate.rounded()
                if !json {
                    print(String(format: "training %@ %@ on %d thread%@: %.0f sample-steps/s", config.family.rawValue,
                                 backend.rawValue, n, n == 1 ? "" : "s", rate))
                }
            }
        }
        if json {
            let data = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
    }

    /// Sample-steps per second of whole training steps (forward, loss, backward, Adam) over synthetic chunks.
    func trainingRate(threads: Int) -> Double {
        let model = config.makeModel(batch: batch, maxSteps: steps, seed: 1)
        let step = DataParallelStep(master: model, batch: batch, maxSteps: steps, threads: threads)
        let optimizer = Adam(model.parameters)
        var rng = TrainingRandom(seed: 2)
        var chunk = TrainingChunk(steps: steps, batch: batch)
        for r in 0..<(steps * batch) {
            chunk.inputs.append(indices: [Int(rng.next() % 128), 128 + Int(rng.next() % 64)].sorted() + [160 + Int(rng.next() % 16), 176 + Int(rng.next() % 16)])
            chunk.targets.append(indices: [Int(rng.next() % 130)])
            chunk.present.append(true)
            chunk.resets.append(r < batch)
            chunk.positions.append(Int32(r / batch))
        }
        func once() {
            _ = step.gradient(chunk, scale: 1 / Float(chunk.rows), rng: &rng)
            optimizer.update()
        }
        once()
        var best = Double.infinity
        for _ in 0..<5 {
            let start = MonotonicClock.nanoseconds()
            for _ in 0..<3 { once() }
            best = min(best, Double(MonotonicClock.nanoseconds() - start) / 3e9)
        }
        return Double(chunk.rows) / best
    }
}
