import MIDI
import Music

/// The continuation's turn in a call and response: while the player plays its parts listen (their models
/// primed with the player's events); when the phrase ends they answer for a number of steps, and the
/// player's next note takes the turn back.
struct Answer {
    /// Steps of the answer left to play; 0 while the continuation listens.
    var stepsLeft = 0
    /// Per part (by index): still listening, or answering.
    var listening: [Bool]
    /// The player had a note sounding on the last step heard: its stop is a NOTE_OFF event.
    var playerWasSounding = false

    init(parts: Int) { listening = Array(repeating: true, count: parts) }

    /// Every part listens again (panic, a clock that went back).
    mutating func listenAgain() {
        for i in listening.indices { listening[i] = true }
    }

    /// The player's melody event on `step` as the continuation's vocabulary reads it: the highest note
    /// struck, NOTE_OFF when the last note stopped sounding, NO_EVENT otherwise.
    mutating func playerEvent(at step: Int64, heardBy listener: Listener) -> Int {
        guard let notes = listener.notes(atStep: step) else {
            defer { playerWasSounding = false }
            return playerWasSounding ? 1 : 0
        }
        defer { playerWasSounding = !notes.sounding.isEmpty }
        var highest: UInt8? = nil
        var struck = notes.struck
        while let p = struck.lowest {
            struck.remove(p)
            highest = p
        }
        if let highest { return PartVocabulary.firstPitchIndex + Int(highest) }
        return playerWasSounding && notes.sounding.isEmpty ? 1 : 0
    }
}
