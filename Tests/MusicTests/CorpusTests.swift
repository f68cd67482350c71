import Glibc
import Testing

@testable import Music

/// The loaders against the real data files; the counts are the ones the data README states.
@Suite struct CorpusTests {
    @Test func jsbSATBMatchesTheReadme() throws {
        guard let data = sharedDataFolder() else {
            print("skipped: ../shared/data is not beside the package")
            return
        }
        let train = try JSBCorpus.loadSATB(path: "\(data)/jsb/satb-16th.train.json")
        let valid = try JSBCorpus.loadSATB(path: "\(data)/jsb/satb-16th.valid.json")
        #expect(train.count == 229)
        #expect(valid.count == 76)
        #expect(train.reduce(0) { $0 + $1.stepCount } == 55_228)
        #expect(valid.reduce(0) { $0 + $1.stepCount } == 18_408)
        let silent = (train + valid).reduce(0) { $0 + $1.voices.joined().filter { $0 == nil }.count }
        #expect(silent == 1_000)
        let pitches = (train + valid).flatMap { $0.voices.joined().compactMap { $0 } }
        #expect(pitches.min() == 36 && pitches.max() == 81)
    }

    @Test func jsbPianoRollMatchesTheReadme() throws {
        guard let data = sharedDataFolder() else {
            print("skipped: ../shared/data is not beside the package")
            return
        }
        let train = try JSBCorpus.loadPianoRoll(path: "\(data)/jsb/pianoroll-quarter.train.json")
        let valid = try JSBCorpus.loadPianoRoll(path: "\(data)/jsb/pianoroll-quarter.valid.json")
        #expect(train.reduce(0) { $0 + $1.frames.count } == 13_807)
        #expect(train.reduce(0) { $0 + $1.frames.joined().count } == 53_824)
        #expect(valid.reduce(0) { $0 + $1.frames.joined().count } == 17_811)
    }

    @Test func folkValidMatchesTheReadme() throws {
        guard let data = sharedDataFolder() else {
            print("skipped: ../shared/data is not beside the package")
            return
        }
        let tunes = try FolkCorpus.load(path: "\(data)/folk/valid.jsonl")
        #expect(tunes.count == 624)
        let notes = tunes.reduce(0) { n, t in n + t.melody.events.filter { if case .noteOn = $0 { true } else { false } }.count }
        #expect(notes == 43_776)
        #expect(tunes.allSatisfy { $0.key != nil })
        let first = try #require(tunes.first)
        #expect(first.title == "Ritter Ulrich")
        #expect(first.melody.stepsPerBar == 24)
        #expect(first.melody.pickupSteps == 4)
    }

    @Test func brokenFilesNameFileAndPlace() throws {
        let path = "/tmp/sideman-folk-\(UInt32.random(in: 0...UInt32.max)).jsonl"
        let good = #"{"id":"a","meter":[4,4],"key":"C major","spq":4,"notes":[[0,4,60]]}"#
        let bad = #"{"id":"b","meter":[4,4],"key":"C major","spq":4,"notes":[[0,4,60],[2,4,62]]}"#
        try (good + "\n" + bad + "\n").write(toFile: path)
        #expect(throws: CorpusError.self) { try FolkCorpus.load(path: path) }
        do { _ = try FolkCorpus.load(path: path) } catch let e as CorpusError {
            #expect(e.description.hasPrefix("\(path): line 2:"))
        }
        #expect(throws: CorpusError.self) { try JSBCorpus.loadSATB(path: "/nonexistent.json") }
    }
}

extension String {
    func write(toFile path: String) throws {
        guard let f = fopen(path, "w") else { throw CorpusError(file: path, problem: "cannot write") }
        fputs(self, f)
        fclose(f)
    }
}
