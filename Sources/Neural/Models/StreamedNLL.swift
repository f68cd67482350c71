import Foundation

/// The NLL of encoded pieces scored by the streaming step itself, each piece from `reset`, every step given all
/// earlier ones: the figure `Trainer.evaluate` gives for the same pieces, but through the weights the daemon
/// runs (fp16 or int8 storage included), so a precision's cost is measured on real data rather than assumed.
public struct StreamedNLL: Sendable {
    /// Mean nats per predicted step.
    public let nll: Double
    public let steps: Int
    /// The reference model's mean NLL on the same steps (nil without one).
    public let referenceNLL: Double?
    /// Mean KL(reference step's distribution || this one's) per step, where a reference model ran beside it
    /// (softmax heads only; nil otherwise).
    public let klFromReference: Double?

    /// Streams `pieces` through `model` (and `reference`, e.g. its fp32 copy, in lockstep, when given). Input values are read as
    /// the encoding wrote them, so Lookback features and conditions arrive exactly as in training.
    public static func measure(_ model: any StreamingModel, _ pieces: [EncodedPiece], reference: (any StreamingModel)? = nil) -> StreamedNLL {
        var total = 0.0, referenceTotal = 0.0, kl = 0.0, steps = 0
        let head = HeadKind(rawValue: model.head.rawValue) ?? .softmax
        func nll(_ model: any StreamingModel, _ logits: UnsafePointer<Float>, _ on: ArraySlice<Int32>) -> Double {
            switch head {
            case .softmax: return HeadKind.softmaxRow(logits, model.outputSize, target: Int(on[on.startIndex]), 1, nil)
            case .multiHot: return HeadKind.sigmoidRow(logits, model.outputSize, on, 1, nil)
            case .pitchChain: return HeadKind.chainRow(logits, units: model.headUnits, on, 1, nil)
            case .nadeChain: return -model.chain!.logProbability(logits, of: FeatureList(on.map { Int($0) }))
            }
        }
        for piece in pieces {
            model.reset()
            reference?.reset()
            for t in 0..<piece.count {
                var input = FeatureList()
                for k in piece.inputs.range(t) { input.append(Int(piece.inputs.indices[k]), value: piece.inputs.values[k]) }
                let on = piece.targets.indices[piece.targets.range(t)]
                let logits = model.step(input).baseAddress!
                total += nll(model, logits, on)
                if let reference {
                    let expected = reference.step(input).baseAddress!
                    referenceTotal += nll(reference, expected, on)
                    if head == .softmax { kl += divergence(expected, logits, count: model.outputSize) }
                }
                steps += 1
            }
        }
        let n = Double(max(1, steps))
        return StreamedNLL(nll: total / n, steps: steps, referenceNLL: reference.map { _ in referenceTotal / n },
                           klFromReference: reference != nil && head == .softmax ? kl / n : nil)
    }

    /// KL(p || q) of two softmax distributions given by their logits, in double precision.
    static func divergence(_ p: UnsafePointer<Float>, _ q: UnsafePointer<Float>, count n: Int) -> Double {
        func logNormaliser(_ l: UnsafePointer<Float>) -> Double {
            var m = -Float.infinity
            for j in 0..<n { m = max(m, l[j]) }
            var sum = 0.0
            for j in 0..<n { sum += exp(Double(l[j] - m)) }
            return Double(m) + log(sum)
        }
        let zp = logNormaliser(p), zq = logNormaliser(q)
        var kl = 0.0
        for j in 0..<n {
            let lp = Double(p[j]) - zp
            kl += exp(lp) * (lp - (Double(q[j]) - zq))
        }
        return max(0, kl)
    }
}
