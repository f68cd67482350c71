import Music
import Testing
import TestSupport

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

/// The per-step voicing the engine uses, against the whole-piece measure it must agree with, and the
/// redraw rule.
@Suite struct VoiceLeadingTests {
    /// Random four-part-ish steps: FourVoices voices them as ChoraleVoicing does, and its step-by-step
    /// parallels add up to ParallelMotion's count.
    @Test func fourVoicesAgreesWithTheWholePieceMeasure() {
        var rng = SplitMix64(seed: 0x5A7B)  // seeded: a failure replays
        for _ in 0..<200 {
            let steps = Int.random(in: 2...12, using: &rng)
            // Few pitches close together, so parallels and repeated pitches are common.
            let soprano = (0..<steps).map { _ in Bool.random(using: &rng) ? 67 + Int.random(in: 0...7, using: &rng) : -1 }
            let atb = (0..<steps).map { _ in (0..<Int.random(in: 0...4, using: &rng)).map { _ in 43 + Int.random(in: 0...19, using: &rng) } }
            let satb = ChoraleVoicing.satb(soprano: soprano, atbFrames: atb)
            var previous = FourVoices.silent
            var count = 0
            for (t, frame) in atb.enumerated() {
                var voices = FourVoices(soprano: soprano[t])
                for p in Set(frame) { voices.include(p) }
                #expect([voices.soprano, voices.alto, voices.tenor, voices.bass] == satb[t])
                if t > 0 { count += voices.parallels(after: previous) }
                previous = voices
            }
            let whole = ChoraleVoicing.parallelMotion(soprano: soprano, generatedATB: atb)
            #expect(count == whole.fifths + whole.octaves, "\(soprano) \(atb)")
        }
    }

    @Test func aChordWithParallelsIsDrawnAgain() {
        // From C major (S E5, A C5, T G4, B C3) under a soprano moving up to F5.
        var before = FourVoices(soprano: 76)
        for p in [72, 67, 48] { before.include(p) }
        func voicing(_ atb: [Int]) -> FourVoices {
            var v = FourVoices(soprano: 77)
            for p in atb { v.include(p) }
            return v
        }
        let allUp = [74, 69, 50]      // every voice up a step: octaves A–B, fifths T–B
        let tenorDown = [74, 65, 50]  // A and B still up in octaves
        let tenorHeld = [74, 67, 50]  // the same octaves, the tenor holding
        let good = [69, 65, 50]       // D minor with A and T moving down against the bass: no parallels
        #expect(voicing(allUp).parallels(after: before) == 2)
        #expect(voicing(tenorDown).parallels(after: before) == 1)
        #expect(voicing(tenorHeld).parallels(after: before) == 1)
        #expect(voicing(good).parallels(after: before) == 0)
        // The first clean draw is kept and drawing stops there.
        var queue = [allUp, tenorDown, good, allUp]
        var draws = 0
        let picked = VoiceLeading.draw(attempts: 8, after: before, { draws += 1; return queue.removeFirst() }, voicing: voicing)
        #expect(picked.step == good && picked.voices == voicing(good) && draws == 3)
        // With no clean draw within the attempts, the fewest parallels win, the earliest among equals.
        queue = [allUp, tenorHeld, tenorDown, good]
        draws = 0
        let fallback = VoiceLeading.draw(attempts: 3, after: before, { draws += 1; return queue.removeFirst() }, voicing: voicing)
        #expect(fallback.step == tenorHeld && draws == 3)
        // One attempt keeps the first draw whatever it holds.
        queue = [allUp, good]
        #expect(VoiceLeading.draw(attempts: 1, after: before, { queue.removeFirst() }, voicing: voicing).step == allUp)
    }
}
