import Foundation

/// A data file turned into what the sequence models train on: melody event lines (class indices of
/// EventVocabulary) or note-set frames (units of the 88-key piano range, 0 = MIDI 21).
public struct TrainingCorpus: Sendable {
    public enum Format: String, Sendable, CaseIterable {
        /// Folk melodies, JSON Lines (data/folk): one event line per tune.
        case folk
        /// JSB chorales, SATB voices at 16th steps: the sounding voices of each step as one frame.
        case jsbSATB = "jsb-satb"
        /// JSB chorales, SATB at 16th steps: alto, tenor and bass as one frame, the soprano as the condition.
        case jsbATB = "jsb-atb"
        /// JSB chorales, SATB at 16th steps: the soprano lines as melody events.
        case jsbSoprano = "jsb-soprano"
        /// JSB chorales, quarter-note piano rolls: the classic frame benchmark.
        case jsbPianoRoll = "jsb-pianoroll"
        /// Band grooves: a manifest (data/band/*.jsonl) naming .mid files and their tracks' roles.
        case band
        /// A folder of .mid files: each pitched track's top line as melody events.
        case midiFolder = "midi-folder"
    }

    /// Which part of a band song becomes the training sequence.
    public enum BandPart: String, Sendable, CaseIterable {
        /// The bass line, as melody events.
        case bass
        /// The comping tracks' sounding notes, as frames.
        case chord
        /// The kit pieces struck on each step, as frames (GM drum notes in the same 88 units).
        case drums
        /// Drums, bass and keys together as one event stream (EnsembleVocabulary), for one model of the band.
        case band
    }

    /// What the steps' condition rows hold, where the data has something for a part to follow.
    public enum Condition: String, Sendable, CaseIterable {
        /// The soprano's piano unit (pitch − 21) on each step, none while it rests.
        case soprano
        /// The pitch classes of the song's chord on each step (from the band manifest's chord symbols).
        case harmony
        /// The chord's pitch classes, then 12 + the step's place in its bar.
        case harmonyAndBeat = "harmony_beat"
        /// harmony_beat, then 12 + beatUnits when the player (the song's chord track) struck on the step before.
        case harmonyBeatAndRhythm = "harmony_beat_rhythm"
        /// harmony_beat; the style unit is added from `styles` by whoever knows the model's style list.
        case harmonyBeatAndStyle = "harmony_beat_style"
        /// The step's place in its bar (from the pieces' bars: folk tunes with a meter, JSB soprano lines).
        case beat

        /// The units of a richer condition's row that a model of this kind takes (band rows carry them all).
        public func keeps(_ unit: Int) -> Bool {
            switch self {
            case .soprano, .harmonyBeatAndRhythm, .beat: return true
            case .harmony: return unit < 12
            case .harmonyAndBeat, .harmonyBeatAndStyle: return unit < 12 + TrainingCorpus.beatUnits
            }
        }
    }

    /// What a note-set frame's units say about each pitch.
    public enum FrameLayout: String, Sendable, CaseIterable {
        /// One unit per piano key (88): the pitch sounds on the step (drums: is struck on it).
        case pitches
        /// Two units per piano key (176, OnsetHoldRoll.unitFrames): struck on the step (units 0..<88), or
        /// held from an earlier onset (88..<176). Band chord parts only: their MIDI notes have onsets.
        case onsetHold = "onset_hold"

        public var units: Int { self == .onsetHold ? OnsetHoldRoll.units : TrainingCorpus.pianoUnits }
    }

    public enum Content: Sendable {
        case events([[Int]])
        case frames([[[Int]]])
    }

    public var format: Format
    public var content: Content
    /// How `content`'s frames lay out their units (events ignore it).
    public var frameLayout = FrameLayout.pitches
    /// Files skipped while reading a folder, `path: problem` each.
    public var skipped: [String] = []
    /// The kind of `conditions`, nil when the data has none.
    public var condition: Condition? = nil
    /// Per piece, per step (the same steps as `content`): the sorted condition units.
    public var conditions: [[[Int]]]? = nil
    /// The band part the pieces are (nil for other data).
    public var part: BandPart? = nil
    /// Per piece, the style it plays (band: its groove family, BandSong.style), nil when the data names none.
    public var styles: [String]? = nil
    /// For a band event stream (part `band`), the 16th step each event acts on.
    public var eventSteps: [[Int]]? = nil
    /// Per piece, its bar in 16th steps and where in its bar its first step falls (melody lines whose
    /// meter is known), nil for a piece read in the model's default bar.
    public var bars: [Bar?]? = nil

    public struct Bar: Sendable, Equatable {
        public var stepsPerBar: Int
        public var firstStepInBar: Int

        /// The bar of a melody whose first step comes `pickupSteps` before a downbeat.
        public init(stepsPerBar: Int, pickupSteps: Int) {
            self.stepsPerBar = stepsPerBar
            firstStepInBar = (stepsPerBar - pickupSteps % stepsPerBar) % stepsPerBar
        }
    }

    public var pieceCount: Int {
        switch content {
        case .events(let e): e.count
        case .frames(let f): f.count
        }
    }

    public static let pianoUnits = 88
    /// Places in a bar a beat condition tells apart (steps past it share the last).
    public static let beatUnits = 32

    /// Reads `path` in `format`, or in the format its name and contents show; `part` picks the band part,
    /// `frameLayout` its frames' units (onset and hold units come only from band chord parts).
    public static func load(path: String, format: Format? = nil, part: BandPart = .bass, frameLayout: FrameLayout = .pitches) throws
        -> TrainingCorpus
    {
        let chosen = try format ?? detect(path: path)
        guard frameLayout == .pitches || (chosen == .band && part == .chord) else {
            throw CorpusError(file: path, problem: "onset and hold frames are made from band chord parts only (this is \(chosen.rawValue) data"
                + (chosen == .band ? ", part \(part.rawValue))" : ")"))
        }
        switch chosen {
        case .band:
            let songs = try BandCorpus.load(manifestPath: path)
            var corpus: TrainingCorpus
            var kept: [BandSong]
            switch part {
            case .bass:
                kept = songs.filter { $0.bass != nil }
                corpus = TrainingCorpus(format: .band, content: .events(kept.map { EventVocabulary.indices($0.bass!) }))
            case .chord:
                kept = songs
                corpus = TrainingCorpus(format: .band, content: .frames(kept.map {
                    frameLayout == .onsetHold ? $0.chordOnsets.unitFrames : $0.chords.pianoUnitFrames
                }))
                corpus.frameLayout = frameLayout
            case .drums:
                // Grooves without drums would only teach silence.
                kept = songs.filter { !$0.drums.frames.allSatisfy(\.isEmpty) }
                corpus = TrainingCorpus(format: .band, content: .frames(kept.map { $0.drums.pianoUnitFrames }))
            case .band:
                kept = songs
                let streams = songs.map { EnsembleVocabulary.encode(drums: $0.drums, bass: $0.bass?.events ?? [], keys: $0.chordOnsets) }
                corpus = TrainingCorpus(format: .band, content: .events(streams.map(\.classes)))
                corpus.eventSteps = streams.map(\.steps)
            }
            corpus.condition = .harmonyBeatAndRhythm
            corpus.styles = kept.map(\.style)
            corpus.part = part
            corpus.conditions = zip(kept.indices, corpus.stepCounts).map { k, count in
                let song = kept[k]
                // A bass line's events can run a step past the last bar (its final note-off): that step keeps
                // the last chord. A band event stream's events each take the condition of the step they act on.
                return (0..<count).map { i in
                    let s = corpus.eventSteps?[k][i] ?? i
                    let classes = song.chordPerStep[min(s, song.steps - 1)].map { $0.pitchClasses.sorted() } ?? []
                    let struckBefore = s > 0 && s - 1 < song.playerOnsets.count && song.playerOnsets[s - 1]
                    return classes + [12 + min(s % song.stepsPerBar, beatUnits - 1)] + (struckBefore ? [12 + beatUnits] : [])
                }
            }
            return corpus
        case .midiFolder:
            let result = try MIDIFolderCorpus.load(folder: path)
            let lines = result.tracks.filter { !$0.isDrums }.map { EventVocabulary.indices($0.melody) }.filter { $0.count >= 2 }
            return TrainingCorpus(format: .midiFolder, content: .events(lines), skipped: result.skipped)
        case .folk:
            let tunes = try FolkCorpus.load(path: path)
            var corpus = TrainingCorpus(format: .folk, content: .events(tunes.map { EventVocabulary.indices($0.melody) }))
            corpus.bars = tunes.map { tune in
                tune.melody.stepsPerBar.map { Bar(stepsPerBar: $0, pickupSteps: tune.melody.pickupSteps) }
            }
            return corpus
        case .jsbPianoRoll:
            let rolls = try JSBCorpus.loadPianoRoll(path: path)
            return TrainingCorpus(format: .jsbPianoRoll, content: .frames(try rolls.enumerated().map { i, roll in
                try pianoUnits(roll.frames, file: path, piece: i)
            }))
        case .jsbSATB, .jsbATB, .jsbSoprano:
            let chorales = try JSBCorpus.loadSATB(path: path)
            if chosen == .jsbSoprano {
                var corpus = TrainingCorpus(format: chosen, content: .events(chorales.map {
                    EventVocabulary.indices(Melody(pitchPerStep: $0.soprano, stepsPerBar: 16))
                }))
                // The chorales are in 4/4 and start on a downbeat in this encoding.
                corpus.bars = chorales.map { _ in Bar(stepsPerBar: 16, pickupSteps: 0) }
                return corpus
            }
            let lower = chosen == .jsbATB ? 1..<4 : 0..<4
            var corpus = TrainingCorpus(format: chosen, content: .frames(try chorales.enumerated().map { i, chorale in
                let frames = (0..<chorale.stepCount).map { s in lower.compactMap { chorale.voices[$0][s] } }
                return try pianoUnits(frames, file: path, piece: i)
            }))
            if chosen == .jsbATB {
                corpus.condition = .soprano
                corpus.conditions = try chorales.enumerated().map { i, chorale in
                    try pianoUnits(chorale.soprano.map { $0.map { [$0] } ?? [] }, file: path, piece: i)
                }
            }
            return corpus
        }
    }

    /// The first unit of a step that transposition moves: a melody event's pitches, a frame's every unit,
    /// and none of a drum frame (its units are kit pieces: a snare moved up two semitones is a hand clap;
    /// the harmony a drummer hears still moves, which teaches it that the key does not change the groove).
    public var firstMovingUnit: Int {
        switch content {
        case .events: return part == .band ? EnsembleVocabulary.firstPitchedClass : EventVocabulary.firstPitchIndex
        case .frames: return part == .drums ? frameLayout.units : 0
        }
    }

    /// Steps of each piece, in order.
    public var stepCounts: [Int] {
        switch content {
        case .events(let e): e.map(\.count)
        case .frames(let f): f.map(\.count)
        }
    }

    /// Frames in piano units; a pitch outside the 88 keys is an error in the JSB files (none occur there). MIDI
    /// parts use PianoRoll.pianoUnitFrames instead, which drops such notes (a comping voice below A0).
    static func pianoUnits(_ frames: [[UInt8]], file: String, piece: Int) throws -> [[Int]] {
        try frames.map { frame in
            try Array(Set(frame)).sorted().map { p in
                guard PianoRoll.pianoRange.contains(p) else {
                    throw CorpusError(file: file, problem: "piece \(piece): pitch \(p) is outside the piano range 21...108")
                }
                return Int(p - PianoRoll.pianoRange.lowerBound)
            }
        }
    }

    /// A folder holds .mid files; .jsonl is a band manifest or folk tunes (by its first line); a .json file
    /// is SATB when every step of its first chorale holds four voices from the top down (-1 for silence),
    /// otherwise a piano roll.
    public static func detect(path: String) throws -> Format {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CorpusError(file: path, problem: "no such file")
        }
        if isDirectory.boolValue { return .midiFolder }
        let name = (path as NSString).lastPathComponent.lowercased()
        if name.hasSuffix(".jsonl") { return isBandManifest(path) ? .band : .folk }
        if name.contains("satb") { return .jsbSATB }
        if name.contains("atb") { return .jsbATB }
        if name.contains("pianoroll") || name.contains("piano-roll") { return .jsbPianoRoll }
        guard name.hasSuffix(".json") else {
            throw CorpusError(file: path, problem: "unknown data format (expected .jsonl folk tunes or .json JSB chorales; or give --format)")
        }
        let pieces: [[[Int]]] = try decodeJSON(path: path)
        guard let first = pieces.first, !first.isEmpty else { throw CorpusError(file: path, problem: "holds no chorales") }
        let satb = first.allSatisfy { step in
            step.count == 4 && zip(step, step.dropFirst()).allSatisfy { $0 == -1 || $1 == -1 || $0 >= $1 }
        }
        return satb ? .jsbSATB : .jsbPianoRoll
    }

    /// True when the first line of a .jsonl file is a band manifest entry (it names a file and its tracks).
    static func isBandManifest(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = handle.readData(ofLength: 8192)
        guard let firstLine = head.split(separator: UInt8(ascii: "\n")).first,
              let object = try? JSONSerialization.jsonObject(with: Data(firstLine)) as? [String: Any]
        else { return false }
        return object["file"] != nil && object["tracks"] != nil
    }
}
