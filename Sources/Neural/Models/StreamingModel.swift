/// The model families.
public enum Family: String, Sendable, CaseIterable {
    case basic, lookback, attention, conv, transformer
}

/// The seam every model family sits behind: the daemon, the bench and the tests drive any family the same
/// way. Layers are sized when the model is built; `reset`, `step` and `sample` never allocate.
public protocol StreamingModel: AnyObject {
    var family: Family { get }
    /// Width of the (sparse) input vector a FeatureList indexes into.
    var inputSize: Int { get }
    var outputSize: Int { get }
    var head: OutputHead { get }
    /// The logits of the last step.
    var logits: UnsafeBufferPointer<Float> { get }
    var sampler: Sampler { get }
    /// The NADE chain head's own weights and scratch (nade_chain), nil for the other heads.
    var chain: NADEChain? { get }

    /// Back to the state before the first step (zero state, empty windows and queues, encoder history).
    func reset()
    /// One step on an already encoded input; returns the logits (valid until the next step).
    @discardableResult func step(_ input: FeatureList) -> UnsafeBufferPointer<Float>
    /// One step on the previous event, encoded by the family's own encoder (one-hot, or Lookback features).
    @discardableResult func step(event: Int) -> UnsafeBufferPointer<Float>
    /// The previous event as the family's encoder reads it (one-hot, or the Lookback features, which adds the
    /// event to the encoder's history): what `step(event:)` steps on, for a caller that appends a condition.
    func encode(event: Int) -> FeatureList
    /// Whether event inputs carry the Lookback features, which look back by the bars `restart` sets.
    var readsBars: Bool { get }
    /// Back to the start, reading the melody in the player's meter: bars of `stepsPerBar` 16ths, the first
    /// event `firstStepInBar` steps after a downbeat (a model that does not read bars: `reset`). Never allocates.
    func restart(stepsPerBar: Int, firstStepInBar: Int)
    /// Readies the next step, for the idle time before it: reads what the step reads (`touchStepData`), then
    /// runs one step on an empty input and puts back what it changed (`rehearse`), so that the next step's
    /// code, branch history, TLB entries and state are warm as well; three times over (`readyingPasses`). A
    /// step after a long wait otherwise pays for all of those; the weights alone left it 1.5-2x a warm one,
    /// and one pass left the transformer's 1.7-2x. The state and the logits are as before. Costs three steps
    /// and three reads (the bench's `prefetch_median_us`: 84-150 µs for its int8 LSTM, attention and WaveNet
    /// shapes after a cache-sized walk, 645 for the transformer); never allocates.
    func prefetch()
    /// Reads one byte of every cache line a step reads: its weights and any cache it attends over. The
    /// weights' bytes are counted (`Matrix.touchedTotals`), so one call tells the bench what a step streams.
    /// Never allocates.
    func touchStepData()
    /// Chooses the storage of the dense step weights.
    func prepare(_ precision: Precision)
    /// Parameters in the saved (PyTorch) layout, with the configuration in the metadata.
    func weights() -> WeightSet
    /// The plain full-sequence forward from zero state: scalar, unrolled, no SIMD, no caches, reading the
    /// saved parameters. The streaming step must agree with it; training builds on it.
    func sequenceForward(_ inputs: [FeatureList]) -> [[Float]]
}

extension StreamingModel {
    public var chain: NADEChain? { nil }
    public func encode(event: Int) -> FeatureList { FeatureList(oneHot: event) }
    public var readsBars: Bool { false }
    public func restart(stepsPerBar: Int, firstStepInBar: Int) { reset() }

    /// Units a note-set head chooses among (the output count for a softmax head).
    public var headUnits: Int { chain?.units ?? head.units(outputs: outputSize) }

    /// Draws the next output from the last step's logits: for a softmax head a list holding one event, for
    /// a multi-hot head the units switched on.
    public func sample(temperature: Float, topP: Float = 1, rng: inout SeededRandom) -> FeatureList {
        let base = logits.baseAddress!
        switch head {
        case .softmax:
            return FeatureList(oneHot: sampler.sampleEvent(base, temperature: temperature, topP: topP, rng: &rng))
        case .multiHot:
            return sampler.sampleSet(base, temperature: temperature, rng: &rng)
        case .pitchChain:
            return sampler.sampleChain(base, temperature: temperature, topP: topP, rng: &rng)
        case .nadeChain:
            return chain!.sample(base, temperature: temperature, topP: topP, rng: &rng)
        }
    }

    /// Encodes a sampled output back into the next step's input: one event for softmax heads, the set of units
    /// for multi-hot heads.
    @discardableResult public func step(sample: FeatureList) -> UnsafeBufferPointer<Float> {
        head == .softmax ? step(event: Int(sample.indices[0])) : step(sample)
    }
}
