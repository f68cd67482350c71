import ArgumentParser
import Foundation
import Live
import MIDI
import Music
import Neural

/// `sideman lead`: a melody over chords, bar by bar, from a MidiNet (each bar from its chord and the bar
/// before) or from a melody model that steps (a Lookback RNN hears no chords: `--chord-bias` gives it the
/// pull toward chord tones that the daemon's parts get). With `--progressions` it plays over every 4/4
/// song of a band manifest and reports how the melodies sit on the chords, so two models compare on the
/// same chords.
struct Lead: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lead",
        abstract: "Play a melody over chords with a MidiNet (or a melody model), and measure it.",
        discussion: """
            Chords are one per bar: --chords "C G Am F" (repeated to --bars), or the songs of a band \
            manifest (--progressions; a bar with two chords counts its first). The report gives the \
            share of struck notes in the bar's triad, in the song's key, onsets per bar, distinct bars \
            per 100 and bars with nothing struck.

            Examples:
              sideman lead --model presets/band/lead.safetensors --chords "C Am F G" --bars 8 -o lead.mid
              sideman lead --model presets/band/lead.safetensors --progressions band/valid.jsonl --songs 40
              sideman lead --model presets/folk/continuation.safetensors --progressions band/valid.jsonl --songs 40
            """)

    @Option(help: "A MidiNet (sideman train-midinet) or a melody events model.") var model: String
    @Option(help: "Chords, one per bar, e.g. \"C G Am F\".") var chords: String?
    @Option(help: "A band manifest whose 4/4 songs give the chords.") var progressions: String?
    @Option(help: "Bars to play over --chords.") var bars = 16
    @Option(help: "Songs of --progressions to play over (0: all).") var songs = 40
    @Option(help: "Sampling temperature (0: the likeliest; default 0 for MidiNet, 1 for a step model).") var temperature: Float?
    @Option(help: "A step model's pull toward the bar's chord tones, in nats (MidiNet needs none).") var chordBias: Float = 0
    @Option(help: "Nats against notes outside the song's key (--progressions: each song's; --chords: --key).") var keyBias: Float = 0
    @Option(help: "The key of --chords, e.g. \"C major\" (for --key-bias).") var key: String?
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Option(name: .shortAndLong, help: "Write the melodies and their chords here (.mid).") var out: String?
    @Flag(help: "Print the report as one JSON object.") var json = false

    func run() throws {
        try reportingFailures { try play() }
    }

    private struct Song { var chords: [MidiNetChord?]; var key: Key? }

    private func play() throws {
        guard (chords == nil) != (progressions == nil) else { throw Failure("lead", "give exactly one of --chords, --progressions", status: .usage) }
        guard (1...4096).contains(bars), songs >= 0, chordBias >= 0, keyBias >= 0 else {
            throw Failure("lead", "--bars 1...4096; --songs, --chord-bias and --key-bias not negative", status: .usage)
        }
        try CommandFiles.requireInput(model)
        if let out { try CommandFiles.checkOutput(out, notOver: [model] + [progressions].compactMap { $0 }) }
        let set: WeightSet
        do { set = try SafeTensors.read(path: model) } catch { throw Failure(model, error.description, status: .dataError) }
        let pieces = try songsToPlay()
        var rng = SeededRandom(seed: seed)
        var lines: [[Int]] = []
        do {
            if MidiNetConfig.describes(set.metadata) {
                let net = try MidiNet(set)
                let t = temperature ?? 0
                var bias = [Float](repeating: 0, count: net.config.classes)
                for song in pieces {
                    var previous: [Int]? = nil
                    let keyed = song.key.map { net.writeOutOfScaleBias(Self.classes(of: $0), nats: keyBias, into: &bias) } ?? false
                    for chord in song.chords {
                        let bar = net.bar(chord: chord, previous: previous, temperature: t, bias: keyed ? bias : nil, rng: &rng)
                        previous = bar
                        lines.append(bar.map { net.config.pitch(of: $0).map { EventVocabulary.firstPitchIndex + $0 } ?? $0 })
                    }
                }
            } else {
                let stepModel = try loadModel(path: model)
                guard stepModel.outputSize == EventVocabulary.classes, stepModel.chain == nil else {
                    throw WeightsError("is not a melody events model (\(stepModel.outputSize) outputs); give a MidiNet or a melody model")
                }
                for song in pieces { lines += stepped(stepModel, song, &rng) }
            }
        } catch let error as WeightsError {
            throw Failure(model, error.description, status: .dataError)
        }
        let allChords = pieces.flatMap(\.chords)
        let figures = BarFigures(lines, chords: allChords, pitch: { $0 >= EventVocabulary.firstPitchIndex ? $0 - EventVocabulary.firstPitchIndex : nil })
        var inKey = 0, struck = 0
        var k = 0
        for song in pieces {
            for _ in song.chords {
                defer { k += 1 }
                guard let key = song.key else { continue }
                for e in lines[k] where e >= EventVocabulary.firstPitchIndex {
                    struck += 1
                    if key.scale.contains((e - EventVocabulary.firstPitchIndex) % 12) { inKey += 1 }
                }
            }
        }
        let keyShare = struck > 0 ? Double(inKey) / Double(struck) : .nan
        if let out { try write(lines, chords: allChords, to: out) }
        if json {
            // A share with nothing to count (no key given, no chord) is null.
            func number(_ x: Double, _ digits: Int) -> String { x.isFinite ? String(format: "%.\(digits)f", x) : "null" }
            print("{\"model\": \"\(model)\", \"bars\": \(figures.bars), \"notes_in_chord\": \(number(figures.notesInChord, 4)), "
                  + "\"notes_in_key\": \(number(keyShare, 4)), \"onsets_per_bar\": \(number(figures.onsetsPerBar, 3)), "
                  + "\"distinct_per_100\": \(number(figures.distinctPer100, 1)), \"silent_bars\": \(number(figures.silentBars, 4))}")
        } else {
            print(String(format: "%@ over %d bars: %.1f%% of notes in the bar's triad, %.1f%% in the key, %.2f onsets per bar, "
                         + "%.0f distinct bars per 100, %.1f%% bars with nothing struck",
                         model, figures.bars, 100 * figures.notesInChord, 100 * keyShare, figures.onsetsPerBar, figures.distinctPer100,
                         100 * figures.silentBars))
        }
    }

    private func songsToPlay() throws -> [Song] {
        if let chords {
            let names = chords.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "|" }).map(String.init)
            var parsed: [MidiNetChord] = []
            for name in names {
                guard let symbol = ChordSymbol(name: name) else { throw Failure("lead", "--chords: \(name) is not a chord (C, Am, G7, F#m7b5, ...)", status: .usage) }
                parsed.append(Self.chord(symbol))
            }
            guard !parsed.isEmpty else { throw Failure("lead", "--chords names no chord", status: .usage) }
            var songKey: Key? = nil
            if let key {
                guard let k = Key(name: key) else { throw Failure("lead", "--key: \(key) is not a key (C major, F# minor, ...)", status: .usage) }
                songKey = k
            }
            return [Song(chords: (0..<bars).map { parsed[$0 % parsed.count] }, key: songKey)]
        }
        let path = progressions!
        try CommandFiles.requireInput(path)
        let loaded: [BandSong]
        do { loaded = try BandCorpus.load(manifestPath: path) } catch let error as CorpusError {
            throw Failure(error.file, error.problem, status: .dataError)
        }
        let fourFour = loaded.filter { $0.stepsPerBar == LeadSheetBars.stepsPerBar }
        let chosen = songs == 0 ? fourFour : Array(fourFour.prefix(songs))
        guard !chosen.isEmpty else { throw Failure(path, "has no 4/4 songs", status: .dataError) }
        return chosen.map { song in
            let count = song.steps / song.stepsPerBar
            return Song(chords: (0..<count).map { b in song.chordPerStep[b * song.stepsPerBar].map(Self.chord) }, key: song.key)
        }
    }

    static func classes(of key: Key) -> UInt16 { key.scale.reduce(0) { $0 | UInt16(1 << $1) } }

    static func chord(_ symbol: ChordSymbol) -> MidiNetChord {
        MidiNetChord(root: symbol.root, minor: symbol.intervals.contains(3) && !symbol.intervals.contains(4))
    }

    /// A step model's melody over a song's chords, from silence, bar by bar in 16th steps.
    private func stepped(_ model: any StreamingModel, _ song: Song, _ rng: inout SeededRandom) -> [[Int]] {
        // A model that reads bars starts on the lead sheet's first downbeat; any other, restarting, only resets.
        model.restart(stepsPerBar: LeadSheetBars.stepsPerBar, firstStepInBar: 0)
        let sampler = Sampler(count: EventVocabulary.classes)
        var biased = [Float](repeating: 0, count: EventVocabulary.classes)
        var event = 0
        var out: [[Int]] = []
        for chord in song.chords {
            var bar: [Int] = []
            for _ in 0..<LeadSheetBars.stepsPerBar {
                let logits = model.step(event: event)
                for i in biased.indices {
                    let pc = (i - EventVocabulary.firstPitchIndex) % 12
                    let tone = i >= EventVocabulary.firstPitchIndex && chord.map { $0.triad & (1 << pc) != 0 } == true
                    let outside = i >= EventVocabulary.firstPitchIndex && song.key.map { !$0.scale.contains(pc) } == true
                    biased[i] = logits[i] + (tone ? chordBias : 0) - (outside ? keyBias : 0)
                }
                event = biased.withUnsafeBufferPointer { sampler.sampleEvent($0.baseAddress!, temperature: temperature ?? 1, topP: 1, rng: &rng) }
                bar.append(event)
            }
            out.append(bar)
        }
        return out
    }

    /// The melodies on channel 1 and each bar's triad held on channel 2, at 120 bpm in 4/4.
    private func write(_ lines: [[Int]], chords: [MidiNetChord?], to path: String) throws {
        let tpq = 480, ticksPerStep = 120
        let conductor = MIDITrack(events: [
            SMFEvent(tick: 0, .tempo(microsecondsPerQuarter: 500_000)),
            SMFEvent(tick: 0, .timeSignature(numerator: 4, denominatorPower: 2, clocksPerClick: 24, thirtySecondsPerQuarter: 8)),
        ])
        let melody = Melody(events: lines.flatMap { $0 }.map { EventVocabulary.event(at: $0) ?? .noEvent })
        let notes = melody.placedNotes.map { (on: $0.onset * ticksPerStep, off: ($0.onset + $0.duration) * ticksPerStep, pitch: $0.pitch) }
        var chordNotes: [(on: Int, off: Int, pitch: UInt8)] = []
        let barTicks = LeadSheetBars.stepsPerBar * ticksPerStep
        for (b, chord) in chords.enumerated() {
            guard let chord else { continue }
            for pc in 0..<12 where chord.triad & (1 << pc) != 0 {
                chordNotes.append((b * barTicks, (b + 1) * barTicks, UInt8(48 + (pc - chord.root + 12) % 12 + chord.root)))
            }
        }
        let file = MIDIFile(format: .simultaneousTracks, division: .ticksPerQuarter(UInt16(tpq)), tracks: [
            conductor, MIDITrack(events: PhraseFile.track(named: "lead", notes, channel: 0, velocity: 90)),
            MIDITrack(events: PhraseFile.track(named: "chords", chordNotes, channel: 1, velocity: 60)),
        ])
        try CommandFiles.write(MIDIFileWriter.write(file), to: path, notOver: [model] + [progressions].compactMap { $0 })
    }
}
