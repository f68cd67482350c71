import Foundation

/// MusicVAE with the hierarchical decoder, forward and backward side by side, for a batch of phrases of
/// `config.steps` steps (one class each).
///
/// Encoder: an LSTM each way over the phrase (nn.LSTM bidirectional names under `encoder.`); the two final
/// outputs, side by side, map to μ and to σ = softplus(·) (`latent.mu`, `latent.sigma`), and z = μ + σ·ε.
/// Conductor: tanh(`conductor.init`·z) starts an LSTM (`conductor.`) that reads z once per bar; its output
/// for bar u is that bar's embedding c_u. Decoder: tanh(`decoder.init`·c_u) starts every layer of an LSTM
/// stack (`decoder.`) that plays bar u, reading the previous step's class (one-hot; the previous bar's last
/// one at a bar line, nothing before the first) beside c_u, into a softmax `head`.
///
/// Every bar of every phrase is one decoder sequence (sequence j = u·batch + b, the conductor's row order),
/// so teacher-forced training runs all bars at once; decoding runs bar after bar over the same rows.
/// What one pass over a batch of phrases gives: sums over its phrases.
public struct MusicVAEPass: Sendable {
    public var nll = 0.0, kl = 0.0, klPastFreeBits = 0.0
    public var right = 0

    static func + (a: Self, b: Self) -> Self {
        MusicVAEPass(nll: a.nll + b.nll, kl: a.kl + b.kl, klPastFreeBits: a.klPastFreeBits + b.klPastFreeBits,
                     right: a.right + b.right)
    }
}

public final class TrainableMusicVAE: ParameterHolder {
    public let config: MusicVAEConfig
    public let batch: Int
    let encoderForward: SequenceLSTMLayer, encoderReverse: SequenceLSTMLayer
    let mu: SequenceLinear, sigma: SequenceLinear
    let conductorInit: SequenceLinear
    let conductor: SequenceLSTMLayer
    let decoderInit: SequenceLinear
    let decoder: [SequenceLSTMLayer]
    let head: SequenceLinear

    /// The encoder's two final outputs per phrase [batch × 2E] and their gradient.
    let encoded: TrainingBuffer, dEncoded: TrainingBuffer
    /// ε, σ (after softplus), z, and dz [batch × Z].
    let epsilon: TrainingBuffer, sigmaValue: TrainingBuffer, z: TrainingBuffer, dz: TrainingBuffer
    let dMu: TrainingBuffer, dSigma: TrainingBuffer
    /// z once per bar, the conductor's input [bars·batch × Z].
    let conductorInput: TrainingBuffer
    /// Initial states after tanh: the conductor's [batch × 2C], the decoder's [bars·batch × 2·D·layers].
    let conductorState: TrainingBuffer, decoderState: TrainingBuffer
    let dConductorState: TrainingBuffer, dDecoderState: TrainingBuffer
    /// The bottom decoder layer's input rows: one-hot previous class, then the bar's embedding.
    let decoderInput: TrainingBuffer
    /// Gradient wrt the bar embeddings [bars·batch × C].
    let dEmbedding: TrainingBuffer
    let dEncoderForward: TrainingBuffer, dEncoderReverse: TrainingBuffer
    var forwardRows = SparseRows(), reverseRows = SparseRows()
    let noResets: [Bool], encoderResets: [Bool]
    private var klActive: [Bool]
    /// The phrases of the last forward.
    private var phrases: [[Int]] = []

    public init(_ config: MusicVAEConfig, batch: Int, seed: UInt64) {
        self.config = config
        self.batch = batch
        let (T, U, S) = (config.steps, config.bars, config.stepsPerBar)
        let (E, Z, C, D, L, K) = (config.encoderHidden, config.latent, config.conductorHidden, config.decoderHidden,
                                  config.decoderLayers, config.classes)
        let sequences = U * batch
        encoderForward = SequenceLSTMLayer(layer: 0, inputs: K, hidden: E, sparseInput: true, batch: batch, maxSteps: T,
                                           prefix: "encoder.")
        encoderReverse = SequenceLSTMLayer(layer: 0, inputs: K, hidden: E, sparseInput: true, batch: batch, maxSteps: T,
                                           prefix: "encoder.", suffix: "_reverse")
        mu = SequenceLinear("latent.mu", inputs: 2 * E, outputs: Z, maxRows: batch)
        sigma = SequenceLinear("latent.sigma", inputs: 2 * E, outputs: Z, maxRows: batch)
        conductorInit = SequenceLinear("conductor.init", inputs: Z, outputs: 2 * C, maxRows: batch)
        conductor = SequenceLSTMLayer(layer: 0, inputs: Z, hidden: C, sparseInput: false, batch: batch, maxSteps: U,
                                      prefix: "conductor.")
        decoderInit = SequenceLinear("decoder.init", inputs: C, outputs: 2 * D * L, maxRows: sequences)
        decoder = (0..<L).map { k in
            SequenceLSTMLayer(layer: k, inputs: k == 0 ? K + C : D, hidden: D, sparseInput: false, batch: sequences,
                              maxSteps: S, prefix: "decoder.")
        }
        head = SequenceLinear("head", inputs: D, outputs: K, maxRows: sequences * S)
        encoded = TrainingBuffer(count: batch * 2 * E)
        dEncoded = TrainingBuffer(count: batch * 2 * E)
        epsilon = TrainingBuffer(count: batch * Z)
        sigmaValue = TrainingBuffer(count: batch * Z)
        z = TrainingBuffer(count: batch * Z)
        dz = TrainingBuffer(count: batch * Z)
        dMu = TrainingBuffer(count: batch * Z)
        dSigma = TrainingBuffer(count: batch * Z)
        conductorInput = TrainingBuffer(count: sequences * Z)
        conductorState = TrainingBuffer(count: batch * 2 * C)
        dConductorState = TrainingBuffer(count: batch * 2 * C)
        decoderState = TrainingBuffer(count: sequences * 2 * D * L)
        dDecoderState = TrainingBuffer(count: sequences * 2 * D * L)
        decoderInput = TrainingBuffer(count: S * sequences * (K + C))
        dEmbedding = TrainingBuffer(count: sequences * C)
        dEncoderForward = TrainingBuffer(count: T * batch * E)
        dEncoderReverse = TrainingBuffer(count: T * batch * E)
        noResets = Array(repeating: false, count: max(T, S, U) * sequences)
        encoderResets = (0..<(T * batch)).map { $0 < batch }
        klActive = Array(repeating: false, count: batch)
        var rng = TrainingRandom(seed: seed)
        for layer in [encoderForward, encoderReverse, conductor] + decoder { layer.randomize(&rng) }
        for linear in [mu, sigma, conductorInit, decoderInit, head] { linear.randomize(&rng) }
    }

    public var parameters: [Parameter] {
        encoderForward.parameters + encoderReverse.parameters + mu.parameters + sigma.parameters + conductorInit.parameters
            + conductor.parameters + decoderInit.parameters + decoder.flatMap(\.parameters) + head.parameters
    }

    // MARK: encoder and latent

    /// Runs the encoder over `phrases` (at most `batch`, each `config.steps` classes; missing rows repeat the
    /// first) and leaves μ, σ and z = μ + σ·ε; ε is drawn from `rng`, or 0 when nil.
    func encode(_ phrases: [[Int]], rng: inout TrainingRandom?) {
        let (T, B, Z) = (config.steps, batch, config.latent)
        precondition(!phrases.isEmpty && phrases.count <= B && phrases.allSatisfy { $0.count == T })
        self.phrases = phrases
        forwardRows.removeAll()
        reverseRows.removeAll()
        for t in 0..<T {
            for b in 0..<B { forwardRows.append([(phrases[b < phrases.count ? b : 0][t], 1)]) }
        }
        for t in 0..<T {
            for b in 0..<B { reverseRows.append([(phrases[b < phrases.count ? b : 0][T - 1 - t], 1)]) }
        }
        encoderForward.resetState()
        encoderReverse.resetState()
        encoderForward.forward(dense: nil, sparse: forwardRows, resets: encoderResets, steps: T)
        encoderReverse.forward(dense: nil, sparse: reverseRows, resets: encoderResets, steps: T)
        let E = config.encoderHidden
        let last = (T - 1) * B * E
        for b in 0..<B {
            (encoded.base + b * 2 * E).update(from: encoderForward.output.base + last + b * E, count: E)
            (encoded.base + b * 2 * E + E).update(from: encoderReverse.output.base + last + b * E, count: E)
        }
        mu.forward(encoded.base, rows: B)
        sigma.forward(encoded.base, rows: B)
        for i in 0..<(B * Z) {
            let x = Double(sigma.output[i])
            sigmaValue[i] = Float(max(x, 0) + Foundation.log1p(Foundation.exp(-Swift.abs(x))))
            epsilon[i] = rng == nil ? 0 : rng!.normal()
            z[i] = mu.output[i] + sigmaValue[i] * epsilon[i]
        }
    }

    /// KL(q(z|x) ‖ N(0, I)) of phrase b, in nats.
    func kl(_ b: Int) -> Double {
        let Z = config.latent
        var total = 0.0
        for i in (b * Z)..<((b + 1) * Z) {
            let (m, s) = (Double(mu.output[i]), Double(max(sigmaValue[i], 1e-12)))
            total += 0.5 * (m * m + s * s - 1) - Foundation.log(s)
        }
        return total
    }

    // MARK: conductor and decoder

    /// From z to each bar's embedding and each decoder sequence's initial state (after tanh).
    func conduct() {
        let (B, U, Z, C) = (batch, config.bars, config.latent, config.conductorHidden)
        conductorInit.forward(z.base, rows: B)
        for i in 0..<(B * 2 * C) { conductorState[i] = Foundation.tanh(conductorInit.output[i]) }
        for b in 0..<B {
            (conductor.h.base + b * C).update(from: conductorState.base + b * 2 * C, count: C)
            (conductor.c.base + b * C).update(from: conductorState.base + b * 2 * C + C, count: C)
        }
        for u in 0..<U { (conductorInput.base + u * B * Z).update(from: z.base, count: B * Z) }
        conductor.forward(dense: conductorInput.base, sparse: nil, resets: noResets, steps: U)
        decoderInit.forward(conductor.output.base, rows: U * B)
        let n = U * B * 2 * config.decoderHidden * config.decoderLayers
        for i in 0..<n { decoderState[i] = Foundation.tanh(decoderInit.output[i]) }
    }

    /// Every decoder layer's state for every sequence, from `decoderState`.
    private func startDecoder() {
        let (D, L) = (config.decoderHidden, config.decoderLayers)
        let width = 2 * D * L
        for j in 0..<(config.bars * batch) {
            let s = decoderState.base + j * width
            for (k, layer) in decoder.enumerated() {
                (layer.h.base + j * D).update(from: s + 2 * k * D, count: D)
                (layer.c.base + j * D).update(from: s + (2 * k + 1) * D, count: D)
            }
        }
    }

    /// Teacher forcing: the decoder reads the phrase's own previous classes; returns the logits
    /// [stepsPerBar · bars·batch × classes], row t·(bars·batch) + j for step t of sequence j = u·batch + b.
    func teacherForcedLogits() -> UnsafeMutablePointer<Float> {
        let (S, U, B, K, C) = (config.stepsPerBar, config.bars, batch, config.classes, config.conductorHidden)
        let (J, width) = (U * B, K + C)
        decoderInput.zero()
        for t in 0..<S {
            for j in 0..<J {
                let (u, b) = (j / B, j % B)
                let row = decoderInput.base + (t * J + j) * width
                let p = u * S + t
                if p > 0 { row[phrases[b < phrases.count ? b : 0][p - 1]] = 1 }
                (row + K).update(from: conductor.output.base + j * C, count: C)
            }
        }
        startDecoder()
        var x: UnsafePointer<Float> = UnsafePointer(decoderInput.base)
        for layer in decoder {
            layer.forward(dense: x, sparse: nil, resets: noResets, steps: S)
            x = UnsafePointer(layer.output.base)
        }
        head.forward(x, rows: S * J)
        return head.output.base
    }

    /// Decodes every phrase from its z, bar after bar, each step's class drawn from the logits by `pick`
    /// (given the phrase index and its logits); returns the classes.
    func decodeFromZ(_ count: Int, pick: (Int, UnsafePointer<Float>) -> Int) -> [[Int]] {
        let (S, U, B, K, C) = (config.stepsPerBar, config.bars, batch, config.classes, config.conductorHidden)
        let (J, width) = (U * B, K + C)
        conduct()
        var out = [[Int]](repeating: [], count: count)
        var previous = [Int](repeating: -1, count: B)
        decoderInput.zero()
        for u in 0..<U {
            startDecoder()
            var x: UnsafePointer<Float> = UnsafePointer(decoderInput.base)
            for layer in decoder {
                layer.begin(dense: x, sparse: nil, resets: noResets, steps: S)
                x = UnsafePointer(layer.output.base)
            }
            for t in 0..<S {
                for b in 0..<B {
                    let j = u * B + b
                    let row = decoderInput.base + (t * J + j) * width
                    row.update(repeating: 0, count: K)
                    if previous[b] >= 0 { row[previous[b]] = 1 }
                    (row + K).update(from: conductor.output.base + j * C, count: C)
                }
                for layer in decoder { layer.step(t) }
                head.forward(x + (t * J + u * B) * config.decoderHidden, rows: B)
                for b in 0..<count {
                    let k = pick(b, head.output.base + b * K)
                    out[b].append(k)
                    previous[b] = k
                }
            }
        }
        return out
    }

    // MARK: loss and backward

    /// One training (or evaluation) pass over `phrases`: the summed reconstruction NLL (nats), the summed KL
    /// and the summed KL past the free bits, and the teacher-forced classes right (argmax). With `train`, the gradients of the mean loss per phrase
    /// (NLL + β·max(KL − free bits, 0)) accumulate into the parameters.
    ///
    /// `gradientScale` replaces 1/phrases.count where this pass is one shard of a larger batch.
    public func pass(_ phrases: [[Int]], beta: Float, train: Bool, rng: inout TrainingRandom?, gradientScale: Float? = nil)
        -> MusicVAEPass
    {
        let (S, U, B, K) = (config.stepsPerBar, config.bars, batch, config.classes)
        let J = U * B
        encode(phrases, rng: &rng)
        conduct()
        let logits = teacherForcedLogits()
        var nll = 0.0, right = 0
        let scale = gradientScale ?? 1 / Float(phrases.count)
        for t in 0..<S {
            for j in 0..<J {
                let (u, b) = (j / B, j % B)
                let row = logits + (t * J + j) * K
                guard b < phrases.count else {
                    if train { row.update(repeating: 0, count: K) }
                    continue
                }
                let target = phrases[b][u * S + t]
                var best = 0
                for k in 1..<K where row[k] > row[best] { best = k }
                if best == target { right += 1 }
                nll += HeadKind.softmaxRow(row, K, target: target, scale, train ? row : nil)
            }
        }
        var kl = 0.0, past = 0.0
        for b in 0..<B {
            let d = b < phrases.count ? self.kl(b) : 0
            kl += d
            past += max(0, d - Double(config.freeBits))
            klActive[b] = b < phrases.count && beta > 0 && d > Double(config.freeBits)
        }
        if train { backward(logits, beta: beta, scale: scale) }
        return MusicVAEPass(nll: nll, kl: kl, klPastFreeBits: past, right: right)
    }

    private func backward(_ dLogits: UnsafeMutablePointer<Float>, beta: Float, scale: Float) {
        let (S, U, B, K) = (config.stepsPerBar, config.bars, batch, config.classes)
        let (E, Z, C, D, L) = (config.encoderHidden, config.latent, config.conductorHidden, config.decoderHidden, config.decoderLayers)
        let (J, T) = (U * B, config.steps)
        head.backward(dLogits)
        var d = head.dInput.base
        // The decoder, top layer first; the bottom one's input gradient is wanted only for the embedding columns.
        for k in stride(from: L - 1, through: 1, by: -1) {
            decoder[k].backward(d)
            d = decoder[k].dInput.base
        }
        let bottom = decoder[0]
        bottom.beginBackward()
        for t in stride(from: S - 1, through: 0, by: -1) { bottom.backwardStep(t, d + t * J * D) }
        bottom.finishBackward(inputGradient: false)
        // dEmbedding_j = Σ_t dGates_{t,j} · W_ih[:, K...] (the one-hot columns need no gradient).
        dEmbedding.zero()
        let gates = 4 * D
        for t in 0..<S {
            Gemm.multiply(m: J, n: C, k: gates, bottom.dGates.base + t * J * gates, lda: gates, bottom.weightIH.value.base + K,
                          ldb: K + C, beta: 1, dEmbedding.base, ldc: C)
        }
        // The initial states: the gradient each layer passed back past its first step, through tanh.
        let width = 2 * D * L
        for j in 0..<J {
            for (k, layer) in decoder.enumerated() {
                (dDecoderState.base + j * width + 2 * k * D).update(from: layer.dhNext.base + j * D, count: D)
                (dDecoderState.base + j * width + (2 * k + 1) * D).update(from: layer.dcNext.base + j * D, count: D)
            }
        }
        for i in 0..<(J * width) { dDecoderState[i] *= 1 - decoderState[i] * decoderState[i] }
        decoderInit.backward(dDecoderState.base)
        TrainMath.add(decoderInit.dInput.base, into: dEmbedding.base, J * C)
        // The conductor: from the bar embeddings to z (read once per bar) and to its initial state.
        conductor.backward(dEmbedding.base)
        for b in 0..<B {
            (dConductorState.base + b * 2 * C).update(from: conductor.dhNext.base + b * C, count: C)
            (dConductorState.base + b * 2 * C + C).update(from: conductor.dcNext.base + b * C, count: C)
        }
        for i in 0..<(B * 2 * C) { dConductorState[i] *= 1 - conductorState[i] * conductorState[i] }
        conductorInit.backward(dConductorState.base)
        dz.base.update(from: conductorInit.dInput.base, count: B * Z)
        for u in 0..<U { TrainMath.add(conductor.dInput.base + u * B * Z, into: dz.base, B * Z) }
        // z = μ + σ·ε, σ = softplus(s); the KL's own gradient where it is past the free bits.
        for b in 0..<B {
            let kl = klActive[b] ? beta * scale : 0
            for i in (b * Z)..<((b + 1) * Z) {
                let s = max(sigmaValue[i], 1e-12)
                dMu[i] = dz[i] + kl * mu.output[i]
                let dS = dz[i] * epsilon[i] + kl * (s - 1 / s)
                dSigma[i] = dS * TrainMath.sigmoid(sigma.output[i])
            }
        }
        mu.backward(dMu.base)
        sigma.backward(dSigma.base)
        dEncoded.base.update(from: mu.dInput.base, count: B * 2 * E)
        TrainMath.add(sigma.dInput.base, into: dEncoded.base, B * 2 * E)
        // Only each direction's last output was read.
        dEncoderForward.zero()
        dEncoderReverse.zero()
        let last = (T - 1) * B * E
        for b in 0..<B {
            (dEncoderForward.base + last + b * E).update(from: dEncoded.base + b * 2 * E, count: E)
            (dEncoderReverse.base + last + b * E).update(from: dEncoded.base + b * 2 * E + E, count: E)
        }
        encoderForward.backward(dEncoderForward.base)
        encoderReverse.backward(dEncoderReverse.base)
    }

    // MARK: inference

    /// μ and σ of each phrase's posterior (at most `batch` phrases).
    public func posterior(of phrases: [[Int]]) -> [(mu: [Float], sigma: [Float])] {
        var none: TrainingRandom? = nil
        encode(phrases, rng: &none)
        let Z = config.latent
        return phrases.indices.map { b in
            (Array(UnsafeBufferPointer(start: mu.output.base + b * Z, count: Z)),
             Array(UnsafeBufferPointer(start: sigmaValue.base + b * Z, count: Z)))
        }
    }

    /// Decodes each latent (at most `batch`), each step's class chosen by `pick(phrase, logits)`.
    public func decode(_ latents: [[Float]], pick: (Int, UnsafePointer<Float>) -> Int) -> [[Int]] {
        let Z = config.latent
        precondition(!latents.isEmpty && latents.count <= batch && latents.allSatisfy { $0.count == Z })
        z.zero()
        for (b, v) in latents.enumerated() { (z.base + b * Z).update(from: v, count: Z) }
        return decodeFromZ(latents.count, pick: pick)
    }

    public var metadata: [String: String] { config.metadata }
}
