import Foundation

/// Adam with bias correction, after clipping the gradients to a global L2 norm. Its moments are saved in
/// checkpoints under `adam.m.<name>` / `adam.v.<name>`, so a resumed run continues exactly.
public final class Adam {
    public var learningRate: Float
    public let beta1: Float, beta2: Float, epsilon: Float
    public let clipNorm: Float
    public private(set) var step = 0
    let parameters: [Parameter]
    let m: [TrainingBuffer], v: [TrainingBuffer]

    public init(_ parameters: [Parameter], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, clipNorm: Float = 5) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.clipNorm = clipNorm
        m = parameters.map { TrainingBuffer(count: $0.count) }
        v = parameters.map { TrainingBuffer(count: $0.count) }
    }

    /// The global L2 norm of all gradients.
    public func gradientNorm() -> Float {
        Float(parameters.reduce(0.0) { $0 + TrainMath.sumOfSquares($1.grad.base, $1.count) }.squareRoot())
    }

    /// Clips, then applies one update; returns the norm before clipping.
    @discardableResult public func update() -> Float {
        let norm = gradientNorm()
        let clip: Float = norm.isFinite && norm > clipNorm ? clipNorm / norm : 1
        step += 1
        let correction1 = 1 - Foundation.pow(Double(beta1), Double(step))
        let correction2 = 1 - Foundation.pow(Double(beta2), Double(step))
        let rate = learningRate * Float(correction2.squareRoot() / correction1)
        let (b1, b2) = (SIMD16<Float>(repeating: beta1), SIMD16<Float>(repeating: beta2))
        let (c, r, e) = (SIMD16<Float>(repeating: clip), SIMD16<Float>(repeating: rate), SIMD16<Float>(repeating: epsilon))
        for (k, p) in parameters.enumerated() {
            let (w, g, mk, vk) = (p.value.base, p.grad.base, m[k].base, v[k].base)
            var i = 0
            while i + 16 <= p.count {
                let gi = TrainMath.load(g + i) * c
                let mi = b1 * TrainMath.load(mk + i) + (1 - b1) * gi
                let vi = b2 * TrainMath.load(vk + i) + (1 - b2) * gi * gi
                TrainMath.store(mi, mk + i)
                TrainMath.store(vi, vk + i)
                TrainMath.store(TrainMath.load(w + i) - r * mi / (vi.squareRoot() + e), w + i)
                i += 16
            }
            while i < p.count {
                let gi = g[i] * clip
                mk[i] = beta1 * mk[i] + (1 - beta1) * gi
                vk[i] = beta2 * vk[i] + (1 - beta2) * gi * gi
                w[i] -= rate * mk[i] / (vk[i].squareRoot() + epsilon)
                i += 1
            }
        }
        return norm
    }

    /// The moments as tensors for a checkpoint.
    public func state(into set: inout WeightSet) {
        for (k, p) in parameters.enumerated() {
            set.tensors["adam.m.\(p.name)"] = Tensor(shape: [p.count], values: m[k].array)
            set.tensors["adam.v.\(p.name)"] = Tensor(shape: [p.count], values: v[k].array)
        }
        set.metadata["adam_step"] = "\(step)"
        set.metadata["learning_rate"] = "\(learningRate)"
    }

    public func restore(from set: WeightSet) throws(WeightsError) {
        for (k, p) in parameters.enumerated() {
            guard let mt = set.tensors["adam.m.\(p.name)"], let vt = set.tensors["adam.v.\(p.name)"],
                  mt.values.count == p.count, vt.values.count == p.count
            else { throw WeightsError("checkpoint lacks the optimizer state of \(p.name)") }
            m[k].copy(from: mt.values)
            v[k].copy(from: vt.values)
        }
        guard let s = set.metadata["adam_step"].flatMap({ Int($0) }), s >= 0 else {
            throw WeightsError("checkpoint lacks adam_step")
        }
        step = s
        // A rate lowered on a plateau carries on from where it was (older checkpoints keep the given rate).
        if let rate = set.metadata["learning_rate"].flatMap({ Float($0) }), rate > 0 { learningRate = rate }
    }
}
