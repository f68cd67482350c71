import Testing
@testable import Neural

/// Condition inputs: where they land in a step's input, how they move under transposition, and what the
/// metadata says about them.
@Suite struct ConditioningTests {
    static func config(_ family: Family, _ kind: Conditioning?, data: TrainingModelConfig.DataKind = .frames) -> TrainingModelConfig {
        TrainingModelConfig(family: family, data: data, units: data == .frames ? 88 : 130, hidden: 8, layers: 1,
                            head: data == .frames ? .pitchChain : .softmax, conditioning: kind)
    }

    @Test func aFrameModelSeesThePreviousFrameAndTheConditionOfTheStepItPredicts() {
        let encoding = SequenceEncoding(Self.config(.basic, .soprano), firstPitchIndex: 0)
        let piece = TrainingPiece(frames: [[30, 37, 42], [31, 38, 43], []]).conditioned(by: [[50], [52], []])
        let encoded = encoding.encode(piece)
        #expect(encoded.inputs.row(0) == [88 + 50])
        #expect(encoded.inputs.row(1) == [30, 37, 42, 88 + 52])
        #expect(encoded.inputs.row(2) == [31, 38, 43])
        #expect(encoded.targets.row(1) == [31, 38, 43])
    }

    @Test func anEventModelSeesTheConditionOfTheEventItPredicts() {
        let encoding = SequenceEncoding(Self.config(.conv, .harmony, data: .events), firstPitchIndex: 2)
        let piece = TrainingPiece(events: [2 + 40, 0, 1]).conditioned(by: [[0, 4, 7], [2, 5, 9], [7, 11, 2]])
        let encoded = encoding.encode(piece)
        #expect(encoded.inputs.row(0) == [42, 130 + 2, 130 + 5, 130 + 9])
        #expect(encoded.inputs.row(1) == [0, 130 + 2, 130 + 7, 130 + 11])
        #expect(encoded.targets.row(0) == [0])
    }

    @Test func transpositionShiftsASopranoAndTurnsAHarmony() throws {
        let soprano = SequenceEncoding(Self.config(.basic, .soprano), firstPitchIndex: 0)
        let piece = TrainingPiece(frames: [[30], [31]]).conditioned(by: [[50], [86]])
        let up = try #require(soprano.transposed(piece, by: 1))
        #expect(up.conditions?.row(0) == [51] && up.conditions?.row(1) == [87] && up.steps.row(0) == [31])
        // The soprano would leave the keyboard: no such transposition.
        #expect(soprano.transposed(piece, by: 2) == nil)

        let harmony = SequenceEncoding(Self.config(.basic, .harmony), firstPitchIndex: 0)
        let chord = TrainingPiece(frames: [[30]]).conditioned(by: [[2, 7, 11]])  // G major
        #expect(harmony.transposed(chord, by: 3)?.conditions?.row(0) == [5, 10, 2])  // B♭ major, wrapped
        #expect(harmony.transposed(chord, by: -4)?.conditions?.row(0) == [10, 3, 7])
    }

    /// The whole band's events (the ensemble layout: 49 fixed classes, then BASS_ON, KEYS_ON and KEYS_OFF
    /// blocks of 88): a transposition moves the bass and keys within their blocks and leaves the kit alone.
    @Test func aBandEventStreamMovesItsKeysAndNotItsKit() throws {
        var config = TrainingModelConfig(family: .transformer, data: .events, units: 49 + 3 * 88, hidden: 8, layers: 1, head: .softmax,
                                         conditioning: .harmony)
        config.frameLayout = .ensemble
        #expect(try TrainingModelConfig(metadata: config.metadata).frameLayout == .ensemble)
        let encoding = SequenceEncoding(config, firstPitchIndex: 49)
        // STEP, kick (class 3), BASS_ON key 15, KEYS_ON key 39, KEYS_OFF key 87 (the top key).
        let piece = TrainingPiece(events: [0, 3, 49 + 15, 137 + 39, 225 + 87]).conditioned(by: [[0, 4, 7], [0, 4, 7], [0, 4, 7], [0, 4, 7], [0, 4, 7]])
        let down = try #require(encoding.transposed(piece, by: -2))
        #expect((0..<5).map { down.steps.row($0)[0] } == [0, 3, 49 + 13, 137 + 37, 225 + 85])
        #expect(down.conditions?.row(0) == [10, 2, 5])  // B♭ major, in the order given
        // Up a semitone the top key would land in the next block: no such transposition.
        #expect(encoding.transposed(piece, by: 1) == nil)
    }

    /// The beat condition is the step's place in its bar alone: one unit, held at the last for a bar longer
    /// than 32 steps, and it does not move when the melody is transposed.
    @Test func theBeatConditionIsThePlaceInTheBar() throws {
        #expect(Conditioning.beat.size == 32)
        var input = FeatureList()
        Conditioning.beat.appendUnits(melodyUnit: 40, pitchClasses: 0b1001_0001, stepInBar: 5, offset: 130, to: &input)
        #expect(input.activeIndices == [135])
        input = FeatureList()
        Conditioning.beat.appendUnits(melodyUnit: nil, pitchClasses: 0, stepInBar: 40, offset: 130, to: &input)
        #expect(input.activeIndices == [161])
        let encoding = SequenceEncoding(Self.config(.transformer, .beat, data: .events), firstPitchIndex: 2)
        let piece = TrainingPiece(events: [2 + 60, 0, 2 + 62]).conditioned(by: [[3], [4], [5]])
        let up = try #require(encoding.transposed(piece, by: 2))
        #expect(up.conditions == piece.conditions && up.steps.row(0) == [2 + 62])
        #expect(try Conditioning(metadata: ["condition": "beat"]) == .beat)
    }

    /// The rhythm condition is harmony_beat plus one unit for the player's strike on the step before; the
    /// beat and rhythm units stay where they are when the music is transposed.
    @Test func theRhythmConditionAddsThePlayersStrikeOnTheStepBefore() throws {
        #expect(Conditioning.harmonyBeatAndRhythm.size == Conditioning.harmonyAndBeat.size + 1)
        var struck = FeatureList(), rested = FeatureList()
        Conditioning.harmonyBeatAndRhythm.appendUnits(melodyUnit: nil, pitchClasses: 0b1001_0001, stepInBar: 5, playerStruckBefore: true, offset: 88, to: &struck)
        Conditioning.harmonyBeatAndRhythm.appendUnits(melodyUnit: nil, pitchClasses: 0b1001_0001, stepInBar: 5, playerStruckBefore: false, offset: 88, to: &rested)
        #expect(struck.activeIndices == [88, 92, 95, 88 + 17, 88 + 44])
        #expect(rested.activeIndices == [88, 92, 95, 88 + 17])
        var beatOnly = FeatureList()
        Conditioning.harmonyAndBeat.appendUnits(melodyUnit: nil, pitchClasses: 1, stepInBar: 0, playerStruckBefore: true, offset: 0, to: &beatOnly)
        #expect(beatOnly.activeIndices == [0, 12], "harmony_beat takes no rhythm unit")
        #expect(Conditioning.harmonyBeatAndRhythm.transposed(44, by: 5) == 44 && Conditioning.harmonyBeatAndRhythm.transposed(4, by: 5) == 9)
        #expect(try Conditioning(metadata: ["condition": "harmony_beat_rhythm"]) == .harmonyBeatAndRhythm)
    }

    /// The style condition is harmony_beat plus one unit per learned style (as many as a program change
    /// picks); its names travel in the metadata, and a piece trained without its style keeps the rest.
    @Test func theStyleConditionAddsTheStylesUnitAndNamesItsStyles() throws {
        #expect(Conditioning.harmonyBeatAndStyle.size == Conditioning.harmonyAndBeat.size + Conditioning.styleUnits)
        var styled = FeatureList(), plain = FeatureList()
        Conditioning.harmonyBeatAndStyle.appendUnits(melodyUnit: nil, pitchClasses: 1, stepInBar: 3, style: 5, offset: 88, to: &styled)
        Conditioning.harmonyBeatAndStyle.appendUnits(melodyUnit: nil, pitchClasses: 1, stepInBar: 3, style: nil, offset: 88, to: &plain)
        #expect(styled.activeIndices == [88, 88 + 15, 88 + 44 + 5])
        #expect(plain.activeIndices == [88, 88 + 15])
        #expect(Conditioning.harmonyBeatAndStyle.transposed(49, by: 7) == 49)

        var c = Self.config(.basic, .harmonyBeatAndStyle)
        c.styles = ["rock", "swing"]
        #expect(c.metadata["styles"] == "rock,swing" && c.inputSize == 88 + 44 + 128)
        #expect(try TrainingModelConfig(metadata: c.metadata) == c)
        for bad in ["", "rock,,swing", "rock,rock"] {
            var m = c.metadata
            m["styles"] = bad
            #expect(throws: WeightsError.self) { try TrainingModelConfig(metadata: m) }
        }
        var missing = c.metadata
        missing["styles"] = nil
        #expect(throws: WeightsError.self) { try TrainingModelConfig(metadata: missing) }

        let piece = TrainingPiece(frames: [[1], [2]]).conditioned(by: [[0, 12, 44 + 3], [4, 13, 44 + 3]])
        #expect(piece.droppingConditionUnits(from: Conditioning.firstStyleUnit).conditions?.row(1) == [4, 13])
        #expect(piece.droppingConditionUnits(from: Conditioning.firstStyleUnit).steps == piece.steps)
    }

    @Test func theConditionIsPartOfTheInputSizeAndTheMetadata() throws {
        let c = Self.config(.attention, .soprano)
        #expect(c.inputSize == 176 && c.baseInputSize == 88)
        #expect(c.metadata["condition"] == "soprano" && c.metadata["input_size"] == "176")
        #expect(try TrainingModelConfig(metadata: c.metadata) == c)
        #expect(try TrainingModelConfig(metadata: Self.config(.conv, nil).metadata).conditioning == nil)

        var wrong = c.metadata
        wrong["condition"] = "tenor"
        #expect(throws: WeightsError.self) { try TrainingModelConfig(metadata: wrong) }
        wrong["condition"] = "harmony"  // 12 units: input_size 176 no longer fits
        #expect(throws: WeightsError.self) { try TrainingModelConfig(metadata: wrong) }
        var lookback = Self.config(.lookback, nil, data: .events).metadata
        lookback["condition"] = "harmony"
        #expect(throws: WeightsError.self) { try TrainingModelConfig(metadata: lookback) }
        // A transformer's Lookback inputs are events only, and its metadata says them in a form it knows.
        let reading = TrainingModelConfig(family: .transformer, data: .events, units: 130, hidden: 8, layers: 1, head: .softmax,
                                          conditioning: .beat, lookbackInputs: true)
        #expect(reading.metadata["inputs"] == "lookback" && reading.baseInputSize == LookbackEncoder.inputSize(classes: 130))
        var unknown = reading.metadata
        unknown["inputs"] = "lookahead"
        #expect(throws: WeightsError.self) { try TrainingModelConfig(metadata: unknown) }
        var frames = reading.metadata
        frames["data"] = "frames"
        #expect(throws: WeightsError.self) { try TrainingModelConfig(metadata: frames) }
        // Dropout is the run's, not the network's: stored and read back, and no bar to going on from the weights.
        var dropping = reading
        (dropping.dropout, dropping.inputDropout) = (0.1, 0.2)
        #expect(dropping.metadata["input_dropout"] == "0.2" && reading.metadata["input_dropout"] == nil)
        #expect(try TrainingModelConfig(metadata: dropping.metadata) == dropping)
        #expect(dropping.isSameModel(as: reading) && dropping != reading)
    }

    /// A trained conditioned model streams: its step takes the condition after the base input, and the
    /// streaming NLL of a piece equals the trainer's.
    @Test func aConditionedModelStreamsWhatItTrained() throws {
        let config = Self.config(.basic, .soprano)
        let model = config.makeModel(batch: 1, maxSteps: 16, seed: 3)
        let piece = TrainingPiece(frames: [[20, 27, 32], [20, 27, 32], [22, 29, 34]]).conditioned(by: [[40], [40], [42]])
        let encoding = SequenceEncoding(config, firstPitchIndex: 0)
        let trained = Trainer.evaluate(model, [encoding.encode(piece)], batch: 1, steps: 16).nll
        let streaming = try makeModel(from: model.weights())
        #expect(streaming.inputSize == 176)
        var total = 0.0
        let encoded = encoding.encode(piece)
        for t in 0..<piece.count {
            let logits = streaming.step(FeatureList(encoded.inputs.row(t)))
            let target = encoded.targets.row(t)
            total += HeadKind.pitchChain.loss(
                logits.baseAddress!, rows: 1, outputs: 89, targets: { var r = SparseRows(); r.append(indices: target); return r }(),
                present: [true], scale: 1, grad: nil)
        }
        #expect(abs(total / Double(piece.count) - trained) < 1e-3)
    }
}

/// A drummer's frames stay where they are when its harmony is transposed (SequenceEncoding with no moving
/// unit, as `sideman train --part drums` sets it): the kit piece is not a pitch.
@Suite struct DrumTranspositionTests {
    @Test func theKitStaysAndTheHarmonyMoves() throws {
        let config = TrainingModelConfig(family: .basic, data: .frames, units: 88, hidden: 8, layers: 1, head: .multiHot,
                                         conditioning: .harmonyAndBeat)
        let piece = TrainingPiece(frames: [[38 - 21, 42 - 21]]).conditioned(by: [[0, 4, 7, 12]])
        let moved = try #require(SequenceEncoding(config, firstPitchIndex: 88).transposed(piece, by: 2))
        #expect(moved.steps.row(0) == [17, 21])
        #expect(moved.conditions?.row(0) == [2, 6, 9, 12])
        #expect(SequenceEncoding(config, firstPitchIndex: 0).transposed(piece, by: 2)?.steps.row(0) == [19, 23], "a pitched part moves")
    }
}
