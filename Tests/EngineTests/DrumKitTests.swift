import Testing

@testable import Engine

/// A learned groove on a smaller kit: each missing piece on the kit's nearest piece that does its job.
@Suite struct DrumKitTests {
    @Test func aMissingPieceIsPlayedOnTheKitsLikePiece() {
        let jazz = DrumKit(PitchSet([36, 38, 51, 49]))
        #expect(jazz.piece(for: 36) == 36 && jazz.piece(for: 51) == 51)
        #expect(jazz.piece(for: 42) == 51 && jazz.piece(for: 46) == 51, "the hi-hat's time goes to the ride")
        #expect(jazz.piece(for: 35) == 36 && jazz.piece(for: 40) == 38 && jazz.piece(for: 57) == 49)
        #expect(jazz.piece(for: 45) == nil && jazz.piece(for: 62) == nil, "no toms, no congas: left out")
        let hats = DrumKit(PitchSet([42, 46]))
        #expect(hats.piece(for: 44) == 42 && hats.piece(for: 51) == 46 && hats.piece(for: 59) == 46)
        // Of two as near in the group's order, the one listed first (the closed hat before the ride bell).
        let either = DrumKit(PitchSet([42, 53]))
        #expect(either.piece(for: 46) == 42)
    }

    @Test func everyNoteMapsIntoTheKitOrNowhere() {
        let kit = PitchSet([36, 38, 42, 63])
        let drums = DrumKit(kit)
        for note in UInt8(0)...127 {
            if let p = drums.piece(for: note) { #expect(kit.contains(p), "\(note) -> \(p)") }
        }
    }
}
