import Testing
@testable import Neural

/// Small random chunks and numeric helpers shared by the training tests.
enum TrainingFixtures {
    /// A chunk of `steps` × `batch` rows: pieces that start at `starts` (per stream), the rest continuing,
    /// random sparse inputs with ±1 values, random targets for the head, and one padding row at the end.
    static func chunk(_ config: TrainingModelConfig, steps: Int, batch: Int, seed: UInt64) -> TrainingChunk {
        var rng = TrainingRandom(seed: seed)
        var c = TrainingChunk(steps: steps, batch: batch)
        var positions = [Int](repeating: 0, count: batch)
        for t in 0..<steps {
            for b in 0..<batch {
                // Stream b starts a new piece at step 2 + b (a reset inside the chunk), else continues.
                let reset = t == 0 || t == 2 + b
                if reset { positions[b] = 0 }
                let padding = t == steps - 1 && b == batch - 1
                var entries: [(Int, Float)] = [(Int(rng.next() % UInt64(config.inputSize)), 1)]
                let second = Int(rng.next() % UInt64(config.inputSize))
                if second != entries[0].0 { entries.append((second, rng.unit() < 0.5 ? -1 : 1)) }
                c.inputs.append(entries)
                switch config.head {
                case .softmax: c.targets.append(indices: [Int(rng.next() % UInt64(config.units))])
                case .multiHot, .pitchChain, .nadeChain:
                    c.targets.append(indices: (0..<config.units).filter { _ in rng.unit() < 0.3 })
                }
                c.present.append(!padding)
                c.resets.append(reset)
                c.positions.append(Int32(positions[b]))
                positions[b] += 1
            }
        }
        return c
    }

    /// Summed loss of one forward from zero state (dropout masks drawn from `seed`).
    static func loss(_ model: any TrainableModel, _ chunk: TrainingChunk, training: Bool, seed: UInt64, grad: Bool) -> Double {
        model.resetState()
        var rng = TrainingRandom(seed: seed)
        let logits = model.forward(chunk, training: training, rng: &rng)
        let total = model.headLoss(logits, rows: chunk.rows, targets: chunk.targets, present: chunk.present,
                                   scale: 1, grad: grad ? logits : nil)
        if grad { model.backward(logits) }
        return total
    }

    /// Largest mismatch between analytic and central-difference gradients over a sample of every parameter's
    /// entries, as max |a - n| / (1e-2 + |n|).
    static func worstGradientError(_ model: any TrainableModel, _ chunk: TrainingChunk, training: Bool = false,
                                   samplesPerParameter: Int = 6, eps: Float = 1e-2) -> (error: Double, name: String) {
        worstGradientError(model, samplesPerParameter: samplesPerParameter, eps: eps) { grad in
            loss(model, chunk, training: training, seed: 9, grad: grad)
        }
    }

    /// `loss(true)` accumulates the analytic gradients (from zero), `loss(false)` only evaluates; both must
    /// draw the same randomness each time.
    static func worstGradientError(_ model: any ParameterHolder, samplesPerParameter: Int = 6, eps: Float = 1e-2,
                                   loss: (Bool) -> Double) -> (error: Double, name: String) {
        model.zeroGradients()
        _ = loss(true)
        var worst = (0.0, "")
        var rng = TrainingRandom(seed: 5)
        for p in model.parameters {
            for _ in 0..<samplesPerParameter {
                let i = Int(rng.next() % UInt64(p.count))
                let analytic = Double(p.grad[i])
                let keep = p.value[i]
                p.value[i] = keep + eps
                let up = loss(false)
                p.value[i] = keep - eps
                let down = loss(false)
                p.value[i] = keep
                let numeric = (up - down) / Double(2 * eps)
                let error = Swift.abs(analytic - numeric) / (1e-2 + Swift.abs(numeric))
                if error > worst.0 { worst = (error, "\(p.name)[\(i)] analytic \(analytic) numeric \(numeric)") }
            }
        }
        return worst
    }
}

/// An analytic gradient against central differences (step 1e-2), one coordinate at a time: `read`/`write`
/// reach the coordinate wherever it lives (logits, a parameter's values), `loss` is evaluated around it.
func expectCentralDifferences(
    count: Int, read: (Int) -> Float, write: (Int, Float) -> Void, analytic: (Int) -> Float, absolute: Double,
    label: (Int) -> String, loss: () -> Double
) {
    for i in 0..<count {
        let keep = read(i)
        write(i, keep + 1e-2)
        let up = loss()
        write(i, keep - 1e-2)
        let down = loss()
        write(i, keep)
        let numeric = (up - down) / 2e-2
        #expect(Swift.abs(Double(analytic(i)) - numeric) < absolute + 1e-2 * Swift.abs(numeric), "\(label(i))")
    }
}

/// Draws `draws` note sets, checks each comes lowest unit first (a chain), and counts the sets by bit mask.
func ascendingSetCounts(draws: Int, _ draw: () -> FeatureList) -> [Int: Int] {
    var counts = [Int: Int]()
    for _ in 0..<draws {
        let set = draw()
        var mask = 0, previous = -1
        for k in 0..<set.count {
            let u = Int(set.indices[k])
            #expect(u > previous, "a chain draws ascending units")
            previous = u
            mask |= 1 << u
        }
        counts[mask, default: 0] += 1
    }
    return counts
}
