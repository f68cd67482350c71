import Foundation

/// An exponential moving average of the parameters (Polyak averaging), kept beside the trained values.
///
/// With small batches the weights after any one update carry that update's noise: on the JSB piano roll the
/// validation NLL of consecutive epochs swings by ±0.1 nats. The average over the last ~1/(1 − decay)
/// updates sits nearer the middle of that swing, so the trainer validates and saves it instead.
/// The effective decay starts low, min(decay, (1 + t)/(10 + t)), so the first updates are not dragged
/// towards the random initialisation. Saved in checkpoints under `average.<name>`.
public final class WeightAverage {
    public let decay: Float
    public private(set) var updates = 0
    let parameters: [Parameter]
    let averages: [TrainingBuffer]

    public init(_ parameters: [Parameter], decay: Float) {
        precondition(decay > 0 && decay < 1)
        self.parameters = parameters
        self.decay = decay
        averages = parameters.map { p in
            let b = TrainingBuffer(count: p.count)
            b.base.update(from: p.value.base, count: p.count)
            return b
        }
    }

    /// Folds the current values in; call after each optimizer update.
    public func update() {
        updates += 1
        let t = Float(updates)
        let d = min(decay, (1 + t) / (10 + t))
        let (dv, kv) = (SIMD16<Float>(repeating: d), SIMD16<Float>(repeating: 1 - d))
        for (k, p) in parameters.enumerated() {
            let (w, a) = (p.value.base, averages[k].base)
            var i = 0
            while i + 16 <= p.count {
                TrainMath.store(dv * TrainMath.load(a + i) + kv * TrainMath.load(w + i), a + i)
                i += 16
            }
            while i < p.count {
                a[i] = d * a[i] + (1 - d) * w[i]
                i += 1
            }
        }
    }

    /// Exchanges the parameters' values with the averages: once to evaluate the average, once more to
    /// carry on training from where the optimizer was.
    public func swapIntoParameters() {
        for (k, p) in parameters.enumerated() {
            let (w, a) = (p.value.base, averages[k].base)
            for i in 0..<p.count { (w[i], a[i]) = (a[i], w[i]) }
        }
    }

    public func state(into set: inout WeightSet) {
        for (k, p) in parameters.enumerated() {
            set.tensors["average.\(p.name)"] = Tensor(shape: [p.count], values: averages[k].array)
        }
        set.metadata["average_updates"] = "\(updates)"
    }

    /// Restores from a checkpoint; one written without an average starts it from the current values.
    public func restore(from set: WeightSet) throws(WeightsError) {
        guard let n = set.metadata["average_updates"].flatMap({ Int($0) }), n >= 0 else {
            for (k, p) in parameters.enumerated() { averages[k].base.update(from: p.value.base, count: p.count) }
            return
        }
        for (k, p) in parameters.enumerated() {
            guard let t = set.tensors["average.\(p.name)"], t.values.count == p.count
            else { throw WeightsError("checkpoint lacks the weight average of \(p.name)") }
            averages[k].copy(from: t.values)
        }
        updates = n
    }
}
