import Glibc
import Testing

@testable import Engine

/// The preset's `listener.chord_input` and `thru.chord_hand`, read strictly.
@Suite struct PresetChordInputTests {
    private func read(_ yaml: String) throws -> Preset { try PresetReader.read(yaml: yaml, defaultName: "t") }

    private func problem(_ yaml: String) -> PresetError? {
        do {
            _ = try read(yaml)
            return nil
        } catch {
            return error as? PresetError
        }
    }

    @Test func theDefaultIsTheFullKeyboardWithTheArrangersSplitPointReady() throws {
        let p = try read("{}")
        #expect(p.listener.chordInput == ChordInputSettings(mode: .full, splitPoint: 54))
        #expect(p.thru.chordHand)
    }

    @Test(arguments: [
        ("{mode: full}", ChordInputSettings(mode: .full, splitPoint: 54)),
        ("{mode: split}", ChordInputSettings(mode: .split, splitPoint: 54)),
        ("{mode: split, split_point: 60}", ChordInputSettings(mode: .split, splitPoint: 60)),
        ("{mode: split, split_point: F#3}", ChordInputSettings(mode: .split, splitPoint: 54)),
        ("{mode: fingered, split_point: Bb2}", ChordInputSettings(mode: .fingered, splitPoint: 46)),
        ("{mode: fingered, split_point: none}", ChordInputSettings(mode: .fingered, splitPoint: nil)),
        ("{mode: single_finger, split_point: c4}", ChordInputSettings(mode: .singleFinger, splitPoint: 60)),
        ("{split_point: G9}", ChordInputSettings(mode: .full, splitPoint: 127)),
    ])
    func modesAndSplitPointsAreRead(yaml: String, settings: ChordInputSettings) throws {
        #expect(try read("listener: {chord_input: \(yaml)}").listener.chordInput == settings)
    }

    @Test(arguments: [
        ("listener: {chord_input: {mode: arranger}}", "listener.chord_input.mode", "must be one of full, split, fingered, single_finger"),
        ("listener: {chord_input: {mode: split, split_point: H3}}", "listener.chord_input.split_point", "as a name (F#3"),
        ("listener: {chord_input: {mode: split, split_point: 0}}", "listener.chord_input.split_point", "MIDI number 1-127"),
        ("listener: {chord_input: {mode: split, split_point: 128}}", "listener.chord_input.split_point", "got \"128\""),
        ("listener: {chord_input: {mode: split, split_point: G#9}}", "listener.chord_input.split_point", "got \"G#9\""),
        ("listener: {chord_input: {mode: split, split_point: [54]}}", "listener.chord_input.split_point", "must be a note"),
        ("listener: {chord_input: {mode: split, split_point: none}}", "listener.chord_input.split_point", "split mode needs a split point"),
        ("listener: {chord_input: {mode: split, split: 54}}", "listener.chord_input.split", "unknown key"),
        ("listener: {chord_input: split}", "listener.chord_input", "must be a mapping"),
        ("thru: {chord_hand: false}", "thru.chord_hand", "false needs a chord hand"),
        ("thru: {chord_hand: maybe}", "thru.chord_hand", "true or false"),
    ])
    func badValuesAreOneLineNamingTheirKey(yaml: String, keyPath: String, says: String) throws {
        let error = try #require(problem(yaml), "\(yaml) was accepted")
        #expect(error.keyPath == keyPath)
        #expect(error.problem.contains(says), "\(error)")
        #expect(!error.description.contains("\n"))
        #expect(error.line != nil)
    }

    @Test func theChordHandMayBeSilentWhenThereIsOne() throws {
        let p = try read("listener: {chord_input: {mode: fingered}}\nthru: {chord_hand: false}")
        #expect(!p.thru.chordHand)
    }

    /// As the daemon and the offline commands report it: the file, the key path and the line.
    @Test func aBadChordInputNamesTheFile() throws {
        var template = Array("/tmp/sideman-chord-input-XXXXXX".utf8CString)
        let folder = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
        let f = fopen("\(folder)/bad.yaml", "w")!
        fputs("name: bad\nlistener:\n  chord_input:\n    mode: split\n    split_point: middle\n", f)
        fclose(f)
        do {
            _ = try PresetLocator(searchFolders: [folder]).load("bad")
            Issue.record("expected an error")
        } catch PresetLoadError.invalid(let path, let error) {
            #expect(path == "\(folder)/bad.yaml")
            #expect(error.keyPath == "listener.chord_input.split_point")
            #expect(error.line == 5)
        }
    }
}
