/// When the parts decide a step (docs/DESIGN-NOTES.md §4), in one place:
/// - anticipation: a step is decided in the last cycle whose output can still land exactly on its
///   boundary, with the player as heard so far (a note early inside the on-step window counts for it);
/// - reaction: a player's note heard inside the on-step window of a step not decided yet decides it at
///   once; one heard just after its step was decided makes the parts that follow the player draw the step
///   again, once the cycle's input is all heard (a chord's notes arriving together count as one), and a
///   step is drawn again at most once: each redraw of a sounding step is a note struck and taken back;
/// - committing late (`harmony`): the parts that follow the player's harmony hold back the steps on which
///   the player is expected to strike (see `HarmonyCommit`) until the player's notes on them are heard, or
///   the on-step window after the boundary has passed. The rest of the band decides ahead as above, and
///   nothing is drawn again: a late chord is never a note struck and withdrawn, only one that waited;
/// - a step whose boundary passes before it was decided (clock mode, or a late engine) is decided then.
/// The engine asks; the schedule answers and keeps count. A plain value: nothing here allocates.
struct StepSchedule {
    /// How the harmony parts commit; nil: with the rest of the band, ahead of the boundary.
    var harmony: HarmonyCommit?
    /// The next step the parts decide, and the last one decided.
    private(set) var next: Int64 = 0
    private(set) var decided: Int64 = .min
    /// A decided step a player's on-step note asked to be drawn again, and the last step drawn again.
    private(set) var reactionPending: Int64? = nil
    private(set) var reacted: Int64 = .min
    /// The step the harmony parts hold back (already decided for the rest of the band), and the frame
    /// from which it is due: its boundary plus the horizon, or sooner once the player's chord is heard.
    private(set) var heldHarmony: Int64? = nil
    private(set) var harmonyDue: UInt64 = 0

    init(harmony: HarmonyCommit? = nil) { self.harmony = harmony }

    /// A player's note heard inside `step`'s on-step window. True: the steps through `step` are to be
    /// decided now. A note on the step just decided asks for its one redraw instead (`takeReaction`),
    /// unless the harmony commits late (it waits for notes; it does not take them back).
    mutating func heardNote(onStep step: Int64) -> Bool {
        if step == next { return true }
        if step == decided, step != reacted, harmony == nil { reactionPending = step }
        return false
    }

    /// The grid passed `step`'s boundary. True: the steps through it are to be decided now.
    mutating func boundaryPassed(_ step: Int64) -> Bool {
        if step < decided {
            // The grid went back (restart, song position): the parts follow from here.
            next = step
            decided = .min
            forgetReaction()
        }
        return step >= next
    }

    /// Anticipation: the next step is due when its boundary comes before `limit` (the end of what this
    /// cycle can still write).
    func nextIsDue(before limit: UInt64, on transport: Transport) -> Bool {
        transport.frame(ofStep: next) < limit
    }

    /// The next step to decide, up to `last`, now counted as decided; nil once `last` is. Steps before
    /// the grid's first (the count-in) pass undecided.
    mutating func takeStep(through last: Int64) -> Int64? {
        while next <= last {
            let step = next
            next += 1
            if step >= 0 {
                decided = step
                return step
            }
        }
        return nil
    }

    /// The step to draw again now, if a note asked for it; each step is drawn again once at most.
    mutating func takeReaction() -> Int64? {
        guard let step = reactionPending else { return nil }
        reactionPending = nil
        reacted = step
        return step
    }

    /// The harmony parts hold `step` back (its boundary at `boundary`): due after the horizon at the latest.
    mutating func holdHarmony(_ step: Int64, boundary: UInt64) {
        guard let harmony else { return }
        heldHarmony = step
        harmonyDue = boundary + harmony.horizonFrames
    }

    /// The player struck a note at `frame` on `step`, `struckOnStep` notes so far: a held step is due once
    /// the chord is whole (`wholeChord` notes: as many as the player's last strike had, a triad at most),
    /// or a chord's spread after its first note.
    mutating func heardStrike(onStep step: Int64, at frame: UInt64, struckOnStep: Int, wholeChord: Int) {
        guard let harmony, heldHarmony == step else { return }
        let due = struckOnStep >= wholeChord ? frame : frame + harmony.spreadFrames
        harmonyDue = min(harmonyDue, due)
    }

    /// The held harmony step, if it is due before `limit` (or `force`d: the band is about to decide the
    /// step after it), now taken.
    mutating func takeHeldHarmony(before limit: UInt64, force: Bool = false) -> Int64? {
        guard let step = heldHarmony, force || harmonyDue < limit else { return nil }
        heldHarmony = nil
        return step
    }

    /// The grid starts (or starts again after the band stopped) with `step` as the next.
    mutating func start(at step: Int64) {
        next = step
        heldHarmony = nil
    }

    /// After a stall the grid resumes at `step`: the steps missed are never decided.
    mutating func skip(to step: Int64) {
        next = max(next, step)
        forgetReaction()
    }

    /// A redraw belongs to the notes sounding now, and a held step to the grid as it was; after a jump of
    /// the grid, a stop or a takeover there is neither.
    mutating func forgetReaction() {
        reactionPending = nil
        reacted = .min
        heldHarmony = nil
    }
}

/// How the parts that follow the player's harmony commit their steps when they commit late: which
/// steps they hold back, and for how long.
///
/// A bass that decides the downbeat ahead of it plays the old chord's root under the player's new chord
/// (the chord is struck on the beat, after the step was decided); drawing the step again when the chord
/// arrives strikes a note and withdraws it a few milliseconds later. So the harmony waits, on the steps
/// where the player is expected to strike: downbeats (unless the player has let four go by, holding or
/// resting), and every step of the bar the player struck in two of the last four bars (their comping
/// rhythm, learned as they play). There it is decided the moment the player's chord is whole (as many
/// notes as their last strike, three at most), a chord's spread after its first note, or when the
/// on-step window after the boundary has passed with no strike. The added latency is the cost: when the
/// player strikes, the harmony sounds with their chord (a period after a whole chord, the spread plus a
/// period after a partial one); when they hold through the step, it comes the window late. A soprano
/// part harmonising the melody note waits on every step, without a spread (one note is all it needs).
struct HarmonyCommit: Equatable {
    /// The on-step window: how long after a boundary the harmony waits for a strike.
    var horizonFrames: UInt64
    /// How long a hand takes to strike a chord: after a first note, the rest are waited for this long.
    var spreadFrames: UInt64
    /// Every step is held back (a soprano-conditioned part needs the melody note of each).
    var everyStep: Bool
    /// Notes struck on a step that make a chord whole, at most (a player of single notes: one).
    static let triad = 3
    /// Of the last `habitBars` bars, the player struck on a step in at least `habitStrikes` (on a downbeat,
    /// in one, or the grid is younger than that): it is held.
    static let habitBars = 4
    static let habitStrikes = 2

    init(horizonFrames: UInt64, spreadFrames: UInt64, everyStep: Bool) {
        self.horizonFrames = horizonFrames
        self.spreadFrames = spreadFrames
        self.everyStep = everyStep
    }

    /// The commitment for a preset's parts at `rate`, nil when the harmony decides ahead: no part follows
    /// the player, the grid follows a clock (its boundaries come from outside), or the preset says so.
    init?(preset: Preset, parts: [Part], rate: Double) {
        guard !preset.transport.source.countsTicks, parts.contains(where: \.followsPlayer) else { return nil }
        let soprano = parts.contains { $0.conditioning == .soprano }
        guard soprano || preset.performance.harmonyCommit == .late else { return nil }
        let perMillisecond = rate / 1000
        self.init(
            horizonFrames: UInt64(max(0, preset.listener.onStepWindowMilliseconds) * perMillisecond),
            spreadFrames: soprano ? 0 : UInt64(max(0, preset.performance.chordSpreadMilliseconds) * perMillisecond),
            everyStep: soprano)
    }
}
