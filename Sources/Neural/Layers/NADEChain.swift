import Foundation

/// The streaming side of the NADE chain head (training: NADEChainHead). A step's logits are [b | c]: b one
/// logit per unit then END, c the K hidden pre-activations. Link j after drawing s_1 < ... < s_j uses
/// a_j = c + Σ W[:, s_k], logits_j = b + V tanh(a_j), over {u > s_j} ∪ {END}.
///
/// Sampling and scoring run on scratch sized at init, so drawing a frame in the real-time path allocates
/// nothing. W and V stay fp32 whatever precision the model's step uses (they are small: K × (2·units + 1)).
public final class NADEChain {
    public let units: Int
    public let hidden: Int
    /// Wᵀ: row u is W[:, u], the vector a drawn unit adds to the pre-activation.
    let inputRows: Matrix
    /// V: [units + 1, K].
    let output: Matrix
    let preActivation: AlignedBuffer<Float>
    let state: AlignedBuffer<Float>
    let linkLogits: AlignedBuffer<Float>
    let sampler: Sampler

    public init(units: Int, hidden: Int) {
        self.units = units
        self.hidden = hidden
        inputRows = Matrix(rows: units, columns: hidden)
        output = Matrix(rows: units + 1, columns: hidden)
        preActivation = AlignedBuffer(count: hidden)
        state = AlignedBuffer(count: hidden)
        linkLogits = AlignedBuffer(count: units + 1)
        sampler = Sampler(count: units + 1)
    }

    /// W and V parameter count for a model with `outputs` logits (units + 1 + K).
    static func parameterCount(outputs: Int, hidden: Int) -> Int {
        let units = outputs - 1 - hidden
        return hidden * units + (units + 1) * hidden
    }

    func randomize(_ rng: inout SeededRandom) {
        let inBound = 1 / Float(units).squareRoot(), outBound = 1 / Float(hidden).squareRoot()
        for u in 0..<units { for k in 0..<hidden { inputRows[u, k] = rng.uniform(-inBound, inBound) } }
        for u in 0...units { for k in 0..<hidden { output[u, k] = rng.uniform(-outBound, outBound) } }
    }

    func load(_ reader: WeightReader) throws(WeightsError) {
        let w = try reader.take(TensorName.weight(TensorName.chainInput), shape: [hidden, units])
        for k in 0..<hidden { for u in 0..<units { inputRows[u, k] = w[k * units + u] } }
        output.load(rowMajor: try reader.take(TensorName.weight(TensorName.chainOutput), shape: [units + 1, hidden]))
    }

    func save(_ set: inout WeightSet) {
        var w = [Float](repeating: 0, count: hidden * units)
        for k in 0..<hidden { for u in 0..<units { w[k * units + u] = inputRows[u, k] } }
        set.tensors[TensorName.weight(TensorName.chainInput)] = Tensor(shape: [hidden, units], values: w)
        set.tensors[TensorName.weight(TensorName.chainOutput)] = Tensor(shape: [units + 1, hidden], values: output.rowMajor)
    }

    public func touch() {
        inputRows.touch()
        output.touch()
    }

    /// a = c: the first link's pre-activation.
    @inline(__always) private func begin(_ logits: UnsafePointer<Float>) {
        preActivation.base.update(from: logits + units + 1, count: hidden)
    }

    /// The logits of the link whose candidates are first...units (END last) into linkLogits[first...units].
    @inline(__always) private func link(_ logits: UnsafePointer<Float>, first: Int) {
        let h = state.base
        h.update(from: preActivation.base, count: preActivation.paddedCount)
        applyTanh(h, count: state.paddedCount)
        let rows = units + 1 - first
        matVec(output.row(first), rows: rows, stride: output.stride, h, linkLogits.base + first, accumulate: false)
        for u in first...units { linkLogits[u] += logits[u] }
    }

    /// After drawing unit u: a += W[:, u].
    @inline(__always) private func draw(_ u: Int) {
        let a = preActivation.base, w = inputRows.row(u)
        var i = 0
        while i < inputRows.stride { store16(load16(a + i) + load16(w + i), a + i); i &+= 16 }
    }

    /// Draws a set lowest unit first from a step's [b | c] logits, each link a softmax (temperature, top-p)
    /// over {units above the last drawn, END}, until END, the top unit, or FeatureList.capacity units.
    /// Temperature ≤ 0 takes the most likely choice at every link. Never allocates.
    public func sample(_ logits: UnsafePointer<Float>, temperature: Float, topP: Float, rng: inout SeededRandom) -> FeatureList {
        var chosen = FeatureList()
        begin(logits)
        var first = 0
        while first < units && chosen.count < FeatureList.capacity {
            link(logits, first: first)
            let pick = sampler.chooseLink(linkLogits.base, first: first, temperature: temperature, topP: topP, rng: &rng)
            if pick == units { break }
            chosen.append(pick)
            draw(pick)
            first = pick + 1
        }
        return chosen
    }

    /// log p(set) under the chain at temperature 1 (natural log): exact, the negative of the training NLL of
    /// the frame. `set` holds distinct units in ascending order. Never allocates.
    public func logProbability(_ logits: UnsafePointer<Float>, of set: FeatureList) -> Double {
        logProbability(logits, of: set, splitAt: units + 1).total
    }

    /// log p(set) split at unit `split`: `below` is log p(the set's units under `split` are exactly those),
    /// the links that draw them and the chance, at the next link, of going on above `split` or ending;
    /// `total − below` is log p(the units from `split` on | those below). For an onset and hold frame
    /// (split 88): the struck half's share of the frame's NLL, and the held half's given it. Never allocates.
    public func logProbability(_ logits: UnsafePointer<Float>, of set: FeatureList, splitAt split: Int) -> (total: Double, below: Double) {
        begin(logits)
        var first = 0
        var total = 0.0
        var below = 0.0
        var belowDone = false
        for j in 0...set.count {
            link(logits, first: first)
            let pick = j < set.count ? Int(set.indices[j]) : units
            guard pick >= first, pick <= units else { return (-.infinity, -.infinity) }
            var m = -Float.infinity
            for u in first...units { m = max(m, linkLogits[u]) }
            var sum = 0.0, above = 0.0
            for u in first...units {
                let e = Foundation.exp(Double(linkLogits[u] - m))
                sum += e
                if u >= split { above += e }
            }
            let logPick = Double(linkLogits[pick] - m) - Foundation.log(sum)
            total += logPick
            if !belowDone {
                if pick < split {
                    below += logPick
                } else {
                    below += Foundation.log(above) - Foundation.log(sum)
                    belowDone = true
                }
            }
            if j < set.count {
                draw(pick)
                first = pick + 1
            }
        }
        return (total, below)
    }

    /// The logits of the link after drawing `drawn` (ascending), units then END, those at or below the last
    /// drawn unit set to -∞. For reports and tests; allocates.
    public func linkLogits(_ logits: UnsafePointer<Float>, after drawn: [Int]) -> [Float] {
        begin(logits)
        for u in drawn { draw(u) }
        let first = (drawn.last ?? -1) + 1
        link(logits, first: first)
        return (0...units).map { $0 < first ? -Float.infinity : linkLogits[$0] }
    }
}
