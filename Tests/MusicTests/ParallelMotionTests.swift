import Music
import Testing

@Suite("Parallel fifths and octaves")
struct ParallelMotionTests {
    /// Two voices (upper, lower) as steps; the other voices of SATB left out, since every pair counts alike.
    func count(_ pairs: [(Int, Int)]) -> ParallelMotion { ParallelMotion(steps: pairs.map { [$0.0, $0.1] }) }

    @Test func parallelFifthIsCounted() {
        // G4/C4 -> A4/D4: both up a tone, fifth to fifth.
        let m = count([(67, 60), (69, 62)])
        #expect(m.fifths == 1)
        #expect(m.octaves == 0)
        #expect(m.steps == 2)
        #expect(m.fifthsPer100Steps == 50)
    }

    @Test func contraryFifthsAreNot() {
        // G4/C4 (fifth) -> D5/G3 (fifth two octaves up): upper rises, lower falls.
        #expect(count([(67, 60), (74, 55)]).fifths == 0)
    }

    @Test func obliqueMotionIsNot() {
        // The lower voice holds C4 while the upper leaves and comes back to G4: never both moving.
        #expect(count([(67, 60), (69, 60), (67, 60)]).fifths == 0)
    }

    @Test func hiddenFifthsAndOctavesAreNot() {
        // Similar motion from a sixth into a fifth, and from a third into an octave.
        #expect(count([(69, 60), (74, 67)]).fifths == 0)
        #expect(count([(64, 60), (74, 62)]).octaves == 0)
    }

    @Test func diminishedToPerfectFifthIsNot() {
        // F5/B4 (diminished fifth) -> G5/C5 (perfect), both up; and back down.
        #expect(count([(77, 71), (79, 72)]).fifths == 0)
        #expect(count([(79, 72), (77, 71)]).fifths == 0)
    }

    @Test func compoundFifthsAndOctavesCount() {
        // A twelfth to a twelfth, and a fifth to a twelfth in similar motion.
        #expect(count([(79, 60), (81, 62)]).fifths == 1)
        #expect(count([(67, 60), (81, 62)]).fifths == 1)
        // Octave to double octave in similar motion, unison to unison, unison to octave.
        #expect(count([(72, 60), (86, 62)]).octaves == 1)
        #expect(count([(60, 60), (62, 62)]).octaves == 1)
        #expect(count([(60, 60), (74, 62)]).octaves == 1)
    }

    @Test func heldNotesAcrossSixteenthsAreNoMotion() {
        // A fifth held for four 16ths, then both move together once: one parallel, not four.
        let m = count([(67, 60), (67, 60), (67, 60), (67, 60), (69, 62), (69, 62)])
        #expect(m.fifths == 1)
        // Staggered: the upper voice moves a 16th before the lower: no step where both move.
        #expect(count([(67, 60), (69, 60), (69, 62)]).fifths == 0)
    }

    @Test func restsBreakMotion() {
        // The lower voice rests between the two fifths: it does not move from a sounding pitch.
        #expect(count([(67, 60), (69, -1), (71, 64)]).fifths == 0)
        #expect(count([(67, -1), (69, 62)]).fifths == 0)
    }

    @Test func voiceCrossingCountsTheSoundingInterval() {
        // Alto below tenor a fifth (crossed), both up a tone: still parallel fifths between them.
        #expect(ParallelMotion(steps: [[72, 60, 67, 48], [74, 62, 69, 43]]).fifths == 1)
        // A fourth to a fourth in similar motion is neither.
        #expect(ParallelMotion(steps: [[72, 67, 62, 48], [72, 69, 64, 48]]).fifths == 0)
    }

    @Test func everyPairOfFourVoicesIsCounted() {
        // All four up a tone: S-B two octaves and A-T a fifth are the only perfect pairs (S-A sixth,
        // S-T tenth, A-B tenth, T-B sixth).
        let steps = [[72, 64, 57, 48], [74, 66, 59, 50]]
        let m = ParallelMotion(steps: steps)
        #expect(m.octaves == 1)
        #expect(m.fifths == 1)
        // Pooling adds counts and steps.
        let both = m + m
        #expect(both.fifths == 2 && both.steps == 4)
        #expect(both.fifthsPer100Steps == m.fifthsPer100Steps)
    }

    @Test func generatedATBIsVoicedBySorting() {
        let soprano = [72, 74, -1]
        let atb: [[Int]] = [[48, 64, 57], [59, 66, 50], [60]]
        let satb = ChoraleVoicing.satb(soprano: soprano, atbFrames: atb)
        #expect(satb == [[72, 64, 57, 48], [74, 66, 59, 50], [-1, -1, -1, 60]])
        let m = ChoraleVoicing.parallelMotion(soprano: soprano, generatedATB: atb)
        #expect(m == ParallelMotion(fifths: 1, octaves: 1, steps: 3))
        // Two pitches: highest alto, lowest bass, tenor silent.
        #expect(ChoraleVoicing.satb(soprano: [70], atbFrames: [[50, 62]]) == [[70, 62, -1, 50]])
    }
}
