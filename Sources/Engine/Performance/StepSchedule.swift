/// When the parts decide a step (DESIGN §4), in one place:
/// - anticipation: a step is decided in the last cycle whose output can still land exactly on its
///   boundary, with the player as heard so far (a note early inside the on-step window counts for it);
/// - reaction: a player's note heard inside the on-step window of a step not decided yet decides it at
///   once; one heard just after its step was decided makes the parts that follow the player draw the step
///   again, once the cycle's input is all heard (a chord's notes arriving together count as one), and a
///   step is drawn again at most once: each redraw of a sounding step is a note struck and taken back;
/// - waiting: when a part harmonises the player's melody note itself, steps wait up to `waitFrames` past
///   their boundary, decided the moment the player's note on them is heard, or after the wait with the
///   melody as it is (held or resting);
/// - a step whose boundary passes before it was decided (clock mode, or a late engine) is decided then.
/// The engine asks; the schedule answers and keeps count. A plain value: nothing here allocates.
struct StepSchedule {
    /// Frames a step waits past its boundary for the player's melody note; 0: steps are decided ahead.
    var waitFrames: UInt64
    /// The next step the parts decide, and the last one decided.
    private(set) var next: Int64 = 0
    private(set) var decided: Int64 = .min
    /// A decided step a player's on-step note asked to be drawn again, and the last step drawn again.
    private(set) var reactionPending: Int64? = nil
    private(set) var reacted: Int64 = .min

    init(waitFrames: UInt64) { self.waitFrames = waitFrames }

    /// A player's note heard inside `step`'s on-step window. True: the steps through `step` are to be
    /// decided now. A note on the step just decided asks for its one redraw instead (`takeReaction`).
    mutating func heardNote(onStep step: Int64) -> Bool {
        if step == next { return true }
        if step == decided, step != reacted { reactionPending = step }
        return false
    }

    /// The grid passed `step`'s boundary. True: the steps through it are to be decided now; a step that
    /// waits for the melody note is decided by the note or, failing one, when `isDue` after the wait.
    mutating func boundaryPassed(_ step: Int64) -> Bool {
        if step < decided {
            // The grid went back (restart, song position): the parts follow from here.
            next = step
            decided = .min
            forgetReaction()
        }
        return step >= next && waitFrames == 0
    }

    /// Anticipation: the next step is due when its boundary, plus any wait, comes before `limit` (the
    /// end of what this cycle can still write).
    func nextIsDue(before limit: UInt64, on transport: Transport) -> Bool {
        transport.frame(ofStep: next) + waitFrames < limit
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

    /// The grid starts (or starts again after the band stopped) with `step` as the next.
    mutating func start(at step: Int64) { next = step }

    /// After a stall the grid resumes at `step`: the steps missed are never decided.
    mutating func skip(to step: Int64) {
        next = max(next, step)
        forgetReaction()
    }

    /// A redraw belongs to the notes sounding now; after a jump of the grid or a takeover there is none.
    mutating func forgetReaction() {
        reactionPending = nil
        reacted = .min
    }
}
