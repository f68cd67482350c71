import Foundation
import Neural
import Service

/// `sideman train --benchmark`: sgemm throughput of both backends on the LSTM's shapes, and the training speed
/// of the 2-layer LSTM (192 sparse inputs with 4 active, 130 softmax outputs) on synthetic chunks.
struct TrainBenchmark {
    var hidden: Int, layers: Int, batch: Int, steps: Int, json: Bool

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
        var report: [String: Any] = [:]
        let backends: [Gemm.Backend] = Gemm.openBLASAvailable ? [.openBLAS, .builtIn] : [.builtIn]
        let g = 4 * hidden
        // The shapes training runs: the per-step recurrent product and the whole-chunk input product.
        let shapes = [("recurrent", batch, g, hidden), ("chunk", batch * steps, g, hidden), ("peak", 1024, 1024, 1024)]
        for backend in backends {
            for (name, m, n, k) in shapes {
                let value = gflops(backend, m: m, n: n, k: k)
                report["gflops_\(backend.rawValue)_\(name)"] = (value * 10).rounded() / 10
                if !json { print(String(format: "sgemm %@ %@ %dx%dx%d: %.1f GFLOP/s", backend.rawValue, name, m, n, k, value)) }
            }
        }
        if let description = Gemm.openBLASDescription, !json { print("OpenBLAS: \(description)") }
        for backend in backends {
            let rate = Gemm.$backend.withValue(backend) { trainingRate() }
            report["sample_steps_per_s_\(backend.rawValue)"] = rate.rounded()
            // Forward + backward of the LSTM and head: 6 flops per weight and sample-step, input gather excluded.
            let weights = Double(layers * g * hidden + (layers - 1) * g * hidden + 130 * hidden)
            let flops = 6 * weights * rate
            report["training_gflops_\(backend.rawValue)"] = (flops / 1e8).rounded() / 10
            if !json {
                print(String(format: "training %@: %.0f sample-steps/s (%.1f GFLOP/s useful)", backend.rawValue, rate, flops / 1e9))
            }
        }
        if json {
            let data = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
    }

    /// Sample-steps per second of whole training steps (forward, loss, backward, Adam) over synthetic chunks.
    func trainingRate() -> Double {
        let config = TrainingModelConfig(family: .basic, data: .events, units: 130, hidden: hidden, layers: layers, head: .softmax)
        // 192 inputs, as in the reference shape, with 4 active per step.
        var c = config
        c.inputSize = 192
        let model = c.makeModel(batch: batch, maxSteps: steps, seed: 1)
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
            model.zeroGradients()
            let logits = model.forward(chunk, training: true, rng: &rng)
            _ = c.head.loss(logits, rows: chunk.rows, outputs: c.outputs, targets: chunk.targets, present: chunk.present,
                            scale: 1 / Float(chunk.rows), grad: logits)
            model.backward(logits)
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
