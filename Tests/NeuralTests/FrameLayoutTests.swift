import Foundation
import Testing
@testable import Neural

/// Onset and hold frames in the model: the layout travels in the metadata, transposition keeps each unit in
/// its half, and the chain's NLL splits exactly into the struck half and the held half given it.
@Suite struct FrameLayoutTests {
    static func config(units: Int, layout: FrameLayout) -> TrainingModelConfig {
        var c = TrainingModelConfig(family: .basic, data: .frames, units: units, hidden: 4, layers: 1, head: .nadeChain,
                                    conditioning: .harmonyAndBeat)
        c.chainHidden = 4
        c.frameLayout = layout
        return c
    }

    @Test func theLayoutIsWrittenToTheMetadataAndReadBack() throws {
        let onsets = Self.config(units: 176, layout: .onsetHold)
        #expect(onsets.metadata["frame_layout"] == "onset_hold")
        #expect(try TrainingModelConfig(metadata: onsets.metadata) == onsets)
        #expect(try FrameLayout(metadata: onsets.metadata) == .onsetHold)
        // A model of one unit per pitch says nothing, as every file before the key did.
        let plain = Self.config(units: 88, layout: .pitches)
        #expect(plain.metadata["frame_layout"] == nil)
        #expect(try FrameLayout(metadata: plain.metadata) == .pitches)
        // The key survives a file and reaches the streaming model's weights.
        let model = onsets.makeModel(batch: 1, maxSteps: 4, seed: 1)
        let read = try SafeTensors.decode(file: SafeTensors.encode(model.weights()))
        #expect(read.metadata["frame_layout"] == "onset_hold")
        #expect(try makeModel(from: read).headUnits == 176)

        var odd = onsets.metadata
        odd["frame_layout"] = "onsets please"
        #expect(throws: WeightsError.self) { try FrameLayout(metadata: odd) }
        #expect(throws: WeightsError.self) { try TrainingModelConfig(metadata: odd) }
        var events = TrainingModelConfig(family: .basic, data: .events, units: 130, hidden: 4, layers: 1, head: .softmax).metadata
        events["frame_layout"] = "onset_hold"
        #expect(throws: WeightsError.self) { try TrainingModelConfig(metadata: events) }
    }

    /// A struck unit moves within the struck half and a held one within the held half; a piece that would
    /// leave either half is not used at that transposition.
    @Test func transpositionMovesEachHalfWithinItself() throws {
        let encoding = SequenceEncoding(Self.config(units: 176, layout: .onsetHold), firstPitchIndex: 0)
        let piece = TrainingPiece(frames: [[39, 43], [127, 131], [46, 127, 131]]).conditioned(by: [[0, 4, 7, 12], [0, 4, 7, 13], [0, 4, 7, 14]])
        let up = try #require(encoding.transposed(piece, by: 2))
        #expect(up.steps.row(0) == [41, 45] && up.steps.row(1) == [129, 133] && up.steps.row(2) == [48, 129, 133])
        #expect(up.conditions?.row(0) == [2, 6, 9, 12])
        // Unit 87 (C8) struck, or held (175): one semitone up leaves the keyboard, not into the other half.
        #expect(encoding.transposed(TrainingPiece(frames: [[87]]), by: 1) == nil)
        #expect(encoding.transposed(TrainingPiece(frames: [[175]]), by: 1) == nil)
        #expect(encoding.transposed(TrainingPiece(frames: [[88]]), by: -1) == nil)
        #expect(encoding.transposed(TrainingPiece(frames: [[0]]), by: -1) == nil)
    }

    /// exp(below) is the marginal probability of the units under the split, summed by brute force over every
    /// set of units above it; the total is the whole frame's log p.
    @Test func theSplitIsTheMarginalOfTheLowerHalf() throws {
        let units = 8, split = 4
        var config = TrainingModelConfig(family: .basic, data: .frames, units: units, hidden: 4, layers: 1, head: .nadeChain)
        config.chainHidden = 5
        config.frameLayout = .onsetHold
        let streaming = try makeModel(from: config.makeModel(batch: 1, maxSteps: 1, seed: 3).weights())
        let chain = try #require(streaming.chain)
        var rng = TrainingRandom(seed: 9)
        let logits = (0..<config.outputs).map { _ in rng.uniform(-2, 2) }
        func logP(_ set: [Int]) -> (total: Double, below: Double) {
            logits.withUnsafeBufferPointer { chain.logProbability($0.baseAddress!, of: FeatureList(set), splitAt: split) }
        }
        for lowMask in 0..<(1 << split) {
            let low = (0..<split).filter { lowMask >> $0 & 1 == 1 }
            var marginal = 0.0
            for highMask in 0..<(1 << (units - split)) {
                let set = low + (0..<(units - split)).filter { highMask >> $0 & 1 == 1 }.map { split + $0 }
                let p = logP(set)
                marginal += exp(p.total)
                #expect(Swift.abs(p.total - logits.withUnsafeBufferPointer { chain.logProbability($0.baseAddress!, of: FeatureList(set)) }) < 1e-9)
                // The same lower half, whatever lies above: the same share.
                #expect(Swift.abs(p.below - logP(low).below) < 1e-9)
                #expect(p.below >= p.total - 1e-12)
            }
            #expect(Swift.abs(marginal - exp(logP(low).below)) < 1e-5, "lower half \(low)")
        }
    }
}
