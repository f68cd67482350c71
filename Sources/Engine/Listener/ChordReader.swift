/// Reads the band's chord from the player's chord hand, as the preset's `listener.chord_input` says.
///
/// - full and split read the hand by template over what sounds and what was struck lately, so a broken
///   chord or an arpeggio names its chord (`ChordEstimator`). A fresh chord — three or more pitch classes
///   struck within the on-step window of each other — replaces the strikes before it, so the new chord is
///   named at once instead of after the old strikes have faded. So does an open fifth struck as one (a
///   shell voicing, F3 C4 F4): it names the triad on its root, with the key's third, until the hand
///   strikes again.
/// - fingered and single_finger read the keys the hand holds each time one is struck (`ArrangerChord`),
///   and keep the chord when the keys are let go: chord memory, until the next chord is struck. Letting
///   go never changes it (a hand lifting off one key at a time would pass through fragments of the
///   chord). Keys that name no chord leave it as it was, unless two or more of them were struck together
///   just now and name one: a chord struck before the old one is let go (legato, a common tone held).
///
/// Fixed-size state: nothing allocates.
struct ChordReader: Sendable {
    let mode: ChordInputMode
    /// The keys that name the chord: all of them in full mode, else those below the split point.
    let hand: PitchSet
    /// Strikes this close together are one chord.
    let togetherFrames: Int64

    private var estimator: ChordEstimator
    /// full/split: the hand's strikes that count as sounding now — those of the step under way (and any
    /// already placed on the next), or those of the fresh chord that replaced them.
    private var struckNow = PitchSet()
    /// The strikes heard together so far: where the group began and what it struck.
    private var groupStart: UInt64? = nil
    private var group = PitchSet()
    private(set) var chord: Chord? = nil
    /// The latest strike was an open fifth struck as one.
    private var openFifth = false

    init(settings: ChordInputSettings, togetherFrames: Double, stepsPerBeat: Int) {
        mode = settings.mode
        hand = KeyboardSplit(settings).chordHand
        self.togetherFrames = Int64(max(0, togetherFrames).rounded())
        estimator = ChordEstimator(stepsPerBeat: stepsPerBeat)
    }

    mutating func reset() {
        estimator.reset()
        struckNow = PitchSet()
        groupStart = nil
        group = PitchSet()
        chord = nil
        openFifth = false
    }

    /// A key struck at `frame` (already in `held`). `placed`: the grid placed it on a step (full and split
    /// count only those: a step's end is what ages a strike). `sustained`: keys let go that the pedal holds.
    /// `scale`: the key's pitch classes (0: none known yet).
    mutating func struck(_ pitch: UInt8, at frame: UInt64, placed: Bool, held: PitchSet, sustained: PitchSet, scale: UInt16) {
        guard hand.contains(pitch) else { return }
        if let start = groupStart, frame.frames(since: start) <= togetherFrames {
            group.insert(pitch)
        } else {
            groupStart = frame
            group = PitchSet()
            group.insert(pitch)
            openFifth = false
        }
        if mode.remembers {
            read(held)
            return
        }
        guard placed else { return }
        struckNow.insert(pitch)
        openFifth = ChordEstimator.rootOfFifth(group.pitchClasses) != nil
        if openFifth || group.pitchClasses.nonzeroBitCount >= 3 {
            estimator.reset()
            struckNow = group
        }
        estimate(held: held, sustained: sustained, scale: scale)
    }

    /// A step began. full/split: the strikes of the step before join the recent ones (their weight
    /// fading by the beat), and `struckOnStep` (strikes already placed on the new step) sound now.
    mutating func beginStep(struckOnStep: PitchSet, held: PitchSet, sustained: PitchSet, scale: UInt16) {
        guard !mode.remembers else { return }
        estimator.advance(struck: struckNow)
        struckNow = struckOnStep.intersection(hand)
        estimate(held: held, sustained: sustained, scale: scale)
    }

    private mutating func estimate(held: PitchSet, sustained: PitchSet, scale: UInt16) {
        chord = estimator.estimate(
            sounding: held.union(sustained).intersection(hand).union(struckNow), struck: struckNow, openFifth: openFifth, scale: scale)
    }

    private mutating func read(_ held: PitchSet) {
        let keys = held.intersection(hand)
        if mode == .singleFinger {
            chord = ArrangerChord.singleFinger(keys) ?? chord
            return
        }
        let together = group.intersection(keys)
        if let reading = ArrangerChord.fingered(keys) ?? (together.count >= 2 ? ArrangerChord.fingered(together) : nil) {
            chord = reading
        }
    }
}

/// Which keys are the chord hand and which the melody hand, as the preset's chord input splits them.
public struct KeyboardSplit: Equatable, Sendable {
    /// The keys that name the chord.
    public let chordHand: PitchSet
    /// The keys the band hears as the player's notes (the melody): in full mode every key, as the
    /// chord hand's are; with a split, those at and above the split point; none when the chord hand has
    /// the whole keyboard.
    public let melodyHand: PitchSet

    public init(_ settings: ChordInputSettings) {
        let everything = PitchSet(below: 128)
        if settings.mode == .full {
            chordHand = everything
            melodyHand = everything
        } else if let split = settings.splitPoint {
            chordHand = PitchSet(below: Int(split))
            melodyHand = everything.subtracting(chordHand)
        } else {
            chordHand = everything
            melodyHand = PitchSet()
        }
    }

    /// The keys the thru leaves out when the chord hand is not echoed (`thru.chord_hand: false`): the chord
    /// hand's, unless in full mode, where the two hands are the same keys and the player is always heard.
    public var chordHandOnly: PitchSet { chordHand.subtracting(melodyHand) }
}
