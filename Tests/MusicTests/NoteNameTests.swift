import Music
import Testing

@Suite struct NoteNameTests {
    @Test(arguments: [
        ("C4", 60), ("F#3", 54), ("Bb2", 46), ("bb2", 46), ("c4", 60), ("C-1", 0), ("G9", 127), ("E#4", 65), ("Cb4", 59),
        ("A0", 21), ("C##4", 62),
    ])
    func namesAreMIDINotesWithMiddleCAsC4(name: String, note: Int) {
        #expect(NoteName.midiNote(name) == note)
    }

    @Test(arguments: ["", "C", "H3", "G#9", "Cb-1", "C 4", " C4", "4", "C4.5", "F#3x", "#3"])
    func anythingElseIsNoNote(name: String) {
        #expect(NoteName.midiNote(name) == nil)
    }

    @Test func everyNoteNamesItselfBack() {
        for note in 0...127 { #expect(NoteName.midiNote(NoteName.name(of: note)) == note) }
        #expect(NoteName.name(of: 54) == "F#3")
    }
}
