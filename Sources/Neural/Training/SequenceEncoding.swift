/// One piece of training data as its raw steps: a melody event index per step (events), or the sorted set of
/// units sounding in each frame (frames).
public struct TrainingPiece: Sendable, Equatable {
    public var steps: SparseRows
    /// The condition units of each step (a conditioned model's extra inputs), or nil.
    public var conditions: SparseRows?
    /// The piece's bar in steps and where in its bar its first step falls (Lookback features), or nil for
    /// the model's default bar starting on a downbeat.
    public var bar: (stepsPerBar: Int, firstStepInBar: Int)?

    public static func == (a: TrainingPiece, b: TrainingPiece) -> Bool {
        a.steps == b.steps && a.conditions == b.conditions && a.bar?.stepsPerBar == b.bar?.stepsPerBar
            && a.bar?.firstStepInBar == b.bar?.firstStepInBar
    }

    public init(events: [Int]) {
        steps = SparseRows()
        for e in events { steps.append(indices: [e]) }
    }

    public init(frames: [[Int]]) {
        steps = SparseRows()
        for f in frames { steps.append(indices: Array(Set(f)).sorted()) }
    }

    public var count: Int { steps.rowCount }

    /// The same piece with every condition unit at or above `first` left out (a style, for style dropout).
    public func droppingConditionUnits(from first: Int) -> TrainingPiece {
        guard let rows = conditions else { return self }
        var piece = self
        var kept = SparseRows()
        for t in 0..<rows.rowCount { kept.append(indices: rows.row(t).filter { $0 < first }) }
        piece.conditions = kept
        return piece
    }

    /// The same piece with a condition row per step (as many rows as steps).
    public func conditioned(by rows: [[Int]]) -> TrainingPiece {
        precondition(rows.count == count, "one condition row per step")
        var piece = self
        var c = SparseRows()
        for r in rows { c.append(indices: Array(Set(r)).sorted()) }
        piece.conditions = c
        return piece
    }
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
/// A conditioned model also sees the condition of the step it predicts, after the base input.
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
        // A frame of several blocks (struck, then held) moves each unit within its own block.
        let width = (config.units - firstPitchIndex) / config.frameLayout.blocks
        for k in moved.steps.indices.indices {
            let i = Int(moved.steps.indices[k])
            guard i >= firstPitchIndex else { continue }
            let blockStart = firstPitchIndex + (i - firstPitchIndex) / width * width
            let j = i + semitones
            guard j >= blockStart, j < blockStart + width else { return nil }
            moved.steps.indices[k] = Int32(j)
        }
        if let kind = config.conditioning, moved.conditions != nil {
            for k in moved.conditions!.indices.indices {
                guard let j = kind.transposed(Int(moved.conditions!.indices[k]), by: semitones) else { return nil }
                moved.conditions!.indices[k] = Int32(j)
            }
        }
        return moved
    }

    public func encode(_ piece: TrainingPiece) -> EncodedPiece {
        var out = EncodedPiece()
        let steps = piece.steps
        // A conditioned model without conditions in the data (or the reverse) is a caller's mistake that
        // would silently train on the wrong inputs.
        precondition((config.conditioning == nil) == (piece.conditions == nil), "condition rows must match the configuration")
        let offset = config.baseInputSize
        func condition(_ t: Int) -> [(Int, Float)] {
            guard let c = piece.conditions else { return [] }
            return c.range(t).map { (offset + Int(c.indices[$0]), Float(1)) }
        }
        switch config.data {
        case .events:
            guard steps.rowCount >= 2 else { return out }
            var lookback = config.readsLookback
                ? LookbackEncoder(classes: config.units, stepsPerBar: config.stepsPerBar) : nil
            if let bar = piece.bar { lookback?.restart(stepsPerBar: bar.stepsPerBar, firstStepInBar: bar.firstStepInBar) }
            for t in 0..<(steps.rowCount - 1) {
                let event = Int(steps.indices[steps.range(t).lowerBound])
                if lookback != nil {
                    let f = lookback!.encode(event)
                    out.inputs.append((0..<f.count).map { (Int(f.indices[$0]), f.values[$0]) } + condition(t + 1))
                } else {
                    out.inputs.append([(event, 1)] + condition(t + 1))
                }
                out.targets.append(indices: steps.row(t + 1))
            }
        case .frames:
            for t in 0..<steps.rowCount {
                out.inputs.append((t == 0 ? [] : steps.row(t - 1)).map { ($0, Float(1)) } + condition(t))
                out.targets.append(indices: steps.row(t))
            }
        }
        return out
    }
}
