import Foundation
import Testing
import TestSupport

@testable import Music

/// The training corpora: format detection on the real files and what a step becomes.
@Suite struct TrainingCorpusTests {
    @Test func eventVocabularyRoundTrips() {
        for i in 0..<EventVocabulary.classes {
            #expect(EventVocabulary.index(of: EventVocabulary.event(at: i)!) == i)
        }
        #expect(EventVocabulary.event(at: 130) == nil)
        #expect(EventVocabulary.index(of: .noteOn(60)) == 62)
    }

    @Test func detectsEveryFormatOfTheSharedData() throws {
        guard let data = Corpora.folder() else {
            print(Corpora.skipReason)
            return
        }
        #expect(try TrainingCorpus.detect(path: "\(data)/folk/valid.jsonl") == .folk)
        #expect(try TrainingCorpus.detect(path: "\(data)/band/valid.jsonl") == .band)
        #expect(try TrainingCorpus.detect(path: "\(data)/jsb/satb-16th.valid.json") == .jsbSATB)
        #expect(try TrainingCorpus.detect(path: "\(data)/jsb/pianoroll-quarter.valid.json") == .jsbPianoRoll)
        #expect(try TrainingCorpus.detect(path: "\(data)/band/valid") == .midiFolder)
    }

    @Test func detectionByContentWhenTheNameSaysNothing() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("corpus-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let satb = folder.appendingPathComponent("a.json"), roll = folder.appendingPathComponent("b.json")
        try "[[[74,70,65,58],[74,-1,65,58]]]".write(to: satb, atomically: true, encoding: .utf8)
        try "[[[58,65,70,74],[60]]]".write(to: roll, atomically: true, encoding: .utf8)
        #expect(try TrainingCorpus.detect(path: satb.path) == .jsbSATB)
        #expect(try TrainingCorpus.detect(path: roll.path) == .jsbPianoRoll)
        // SATB steps become frames of the sounding voices in piano units (MIDI 21 = unit 0).
        let corpus = try TrainingCorpus.load(path: satb.path)
        guard case .frames(let pieces) = corpus.content else { Issue.record("SATB should give frames"); return }
        #expect(pieces == [[[37, 44, 49, 53], [37, 44, 53]]])
    }

    /// Folk tunes keep their meter and pickup for the Lookback bar; ATB frames come with the soprano as
    /// their condition; soprano lines are melody events.
    @Test func barsAndConditionsComeWithThePieces() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("corpus-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let folk = folder.appendingPathComponent("tunes.jsonl")
        try ([
            #"{"id":"w","meter":[3,4],"key":"G major","spq":4,"pickup_steps":4,"notes":[[0,4,67],[4,8,71],[12,4,74]]}"#,
            #"{"id":"j","meter":[6,8],"key":"D major","spq":4,"pickup_steps":0,"notes":[[0,2,62],[2,2,66]]}"#,
            #"{"id":"n","meter":null,"key":"D major","spq":4,"pickup_steps":0,"notes":[[0,2,62],[2,2,66]]}"#,
        ].joined(separator: "\n") + "\n").write(to: folk, atomically: true, encoding: .utf8)
        let tunes = try TrainingCorpus.load(path: folk.path)
        #expect(tunes.bars == [TrainingCorpus.Bar(stepsPerBar: 12, pickupSteps: 4), TrainingCorpus.Bar(stepsPerBar: 12, pickupSteps: 0), nil])
        #expect(tunes.bars?[0]?.firstStepInBar == 8)

        let satb = folder.appendingPathComponent("satb-16th.json")
        try "[[[74,70,65,58],[-1,70,65,58]]]".write(to: satb, atomically: true, encoding: .utf8)
        let atb = try TrainingCorpus.load(path: satb.path, format: .jsbATB)
        guard case .frames(let frames) = atb.content else { Issue.record("ATB should give frames"); return }
        #expect(frames == [[[37, 44, 49], [37, 44, 49]]])
        #expect(atb.condition == .soprano && atb.conditions == [[[53], []]])
        let soprano = try TrainingCorpus.load(path: satb.path, format: .jsbSoprano)
        guard case .events(let lines) = soprano.content else { Issue.record("soprano lines should give events"); return }
        #expect(lines[0].prefix(2) == [EventVocabulary.index(of: .noteOn(74)), EventVocabulary.index(of: .noteOff)])
    }

    @Test func pianoRollFramesMatchTheReadmeCounts() throws {
        guard let data = Corpora.folder() else {
            print(Corpora.skipReason)
            return
        }
        let corpus = try TrainingCorpus.load(path: "\(data)/jsb/pianoroll-quarter.train.json")
        guard case .frames(let pieces) = corpus.content else { Issue.record("piano rolls should give frames"); return }
        #expect(pieces.count == 229)
        #expect(pieces.reduce(0) { $0 + $1.count } == 13_807)
        #expect(pieces.reduce(0) { $0 + $1.reduce(0) { $0 + $1.count } } == 53_824)
    }
}
