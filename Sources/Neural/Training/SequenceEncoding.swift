/// One piece of training data as its raw steps: a melody event index per step (events), or the sorted set of
/// units sounding in each frame (frames).
public struct TrainingPiece: Sendable, Equatable {
    public var steps: SparseRows

    public init(events: [Int]) {
        steps = SparseRows()
        for e in events { steps.append(indices: [e]) }
    }

    public init(frames: [[Int]]) {
        steps = SparseRows()
        for f in frames { steps.append(indices: Array(Set(f)).sorted()) }
    }

    public var count: Int { steps.rowCount }
}

/// A piece turned into model rows: the input features and the target of each predicted step.
public struct EncodedPiece: Sendable {
    public var inputs = SparseRows()
    public var targets = SparseRows()
    public var count: Int { targets.rowCount }
}

/// How a family reads a piece. Events: the model sees event t (one-hot, or the Lookback features of neural's
/// LookbackEncoder, exactly as the streaming step builds them) and predicts event t+1. Frames: the model sees
/// frame t-1 (nothing before the first) and predicts frame t, so every frame is scored given all earlier ones.
public struct SequenceEncoding: Sendable {
    public let config: TrainingModelConfig
    /// Indices at or above this are pitches and move under transposition (events: NOTE_ON = 2 + pitch).
    public let firstPitchIndex: Int

    public init(_ config: TrainingModelConfig, firstPitchIndex: Int) {
        self.config = config
        self.firstPitchIndex = firstPitchIndex
    }

    /// The piece moved by `semitones`, or nil when a pitch would leave the vocabulary.
    public func transposed(_ piece: TrainingPiece, by semitones: Int) -> TrainingPiece? {
        if semitones == 0 { return piece }
        var moved = piece
        for k in moved.steps.indices.indices {
            let i = Int(moved.steps.indices[k])
            guard i >= firstPitchIndex else { continue }
            let j = i + semitones
            guard j >= firstPitchIndex, j < config.units else { return nil }
            moved.steps.indices[k] = Int32(j)
        }
        return moved
    }

    public func encode(_ piece: TrainingPiece) -> EncodedPiece {
        var out = EncodedPiece()
        let steps = piece.steps
        switch config.data {
        case .events:
            guard steps.rowCount >= 2 else { return out }
            var lookback = config.family == .lookback
                ? LookbackEncoder(classes: config.units, stepsPerBar: config.stepsPerBar) : nil
            for t in 0..<(steps.rowCount - 1) {
                let event = Int(steps.indices[steps.range(t).lowerBound])
                if lookback != nil {
                    let f = lookback!.encode(event)
                    out.inputs.append((0..<f.count).map { (Int(f.indices[$0]), f.values[$0]) })
                } else {
                    out.inputs.append(indices: [event])
                }
                out.targets.append(indices: steps.row(t + 1))
            }
        case .frames:
            for t in 0..<steps.rowCount {
                out.inputs.append(indices: t == 0 ? [] : steps.row(t - 1))
                out.targets.append(indices: steps.row(t))
            }
        }
        return out
    }
}
