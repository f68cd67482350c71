import Foundation
import Live
import Music
import Neural

/// The measures of what a model generates, beside the same measures of the data it continues.
struct GeneratedAnalysis {
    var modelPath: String
    var dataPath: String
    var format: TrainingCorpus.Format
    var pieces: Int?
    var temperature: Float
    var topP: Float
    var seed: UInt64
    var voiceLeadingDraws = 1

    /// Steps of the tune that prime the model (2 bars of 4/4), and steps it generates after them (4 bars).
    static let primeSteps = 32
    static let continuationSteps = 64
    /// Bars a drums model plays from reset, 16 steps each.
    static let drumBars = 8

    func run() throws -> AnalysisReport {
        try CommandFiles.requireInput(modelPath)
        let model: any StreamingModel
        let config: TrainingModelConfig
        do {
            let set = try SafeTensors.read(path: modelPath)
            config = try TrainingModelConfig(metadata: set.metadata)
            model = try makeModel(from: set)
        } catch {
            throw Failure(modelPath, "\(error)", status: .dataError)
        }
        switch (config.data, format) {
        case (.frames, .jsbSATB) where config.conditioning == .soprano, (.frames, .jsbATB) where config.conditioning == .soprano:
            return chorales(model, chorales: try JSBCorpus.loadSATB(path: dataPath))
        case (.events, .folk) where config.conditioning == nil:
            return continuation(model, tunes: try FolkCorpus.load(path: dataPath))
        case (.frames, .band) where config.units == TrainingCorpus.pianoUnits && config.conditioning != .soprano:
            return drums(model, conditioning: config.conditioning, songs: try BandCorpus.load(manifestPath: dataPath))
        default:
            throw Failure(
                dataPath,
                "is \(format.rawValue) data; analyze --generate measures event models on folk tunes, soprano-conditioned ATB models on JSB SATB chorales and note-set drum models on band songs (the model is \(config.data.rawValue), \(config.units) units"
                    + (config.conditioning.map { ", conditioned on the \($0.rawValue)" } ?? "") + ")",
                status: .dataError)
        }
    }

    /// Back to the start; a Lookback model reads the tune in its own bar from its pickup, as training and the
    /// engine (the preset's meter) do.
    static func start(_ model: any StreamingModel, _ tune: FolkTune) {
        model.reset()
        if model.readsBars, let bars = tune.melody.stepsPerBar {
            let bar = TrainingCorpus.Bar(stepsPerBar: bars, pickupSteps: tune.melody.pickupSteps)
            model.restart(stepsPerBar: bar.stepsPerBar, firstStepInBar: bar.firstStepInBar)
        }
    }

    /// Notes starting at or after `from` in a line of event indices.
    static func notes(_ events: [Int], from: Int = 0, before: Int = .max) -> [PlacedNote] {
        let melody = Melody(events: events.map { EventVocabulary.event(at: $0) ?? .noEvent })
        return melody.placedNotes.filter { $0.onset >= from && $0.onset < before }
    }

    /// Primes with each tune's first 2 bars, samples 4, and measures the keys of both continuations.
    func continuation(_ model: any StreamingModel, tunes: [FolkTune]) -> AnalysisReport {
        let long = tunes.filter { $0.melody.events.count >= Self.primeSteps + Self.continuationSteps }
        let chosen = Array(long.prefix(pieces ?? long.count))
        var rng = SeededRandom(seed: seed)
        var fits: [String: KeyFit] = [:]
        func add(_ name: String, _ notes: [PlacedNote], _ key: Key?) {
            guard let key else { return }
            fits[name, default: KeyFit()] = fits[name, default: KeyFit()] + KeyFit(notes, key: key)
        }
        var primeKeyAgrees = 0, labelled = 0
        var nll = 0.0, scored = 0
        for tune in chosen {
            let events = EventVocabulary.indices(tune.melody)
            let prime = Array(events.prefix(Self.primeSteps))
            // The tune's own continuation, teacher-forced through the streaming model: its NLL should match
            // `sideman eval` on the same steps, or the model streams differently from how it was trained.
            Self.start(model, tune)
            for e in prime { model.step(event: e) }
            for e in events[Self.primeSteps..<(Self.primeSteps + Self.continuationSteps)] {
                nll -= Self.logProbability(of: e, model.logits)
                scored += 1
                model.step(event: e)
            }
            Self.start(model, tune)
            for e in prime { model.step(event: e) }
            var generated: [Int] = []
            for _ in 0..<Self.continuationSteps {
                let sample = model.sample(temperature: temperature, topP: topP, rng: &rng)
                generated.append(Int(sample.indices[0]))
                model.step(sample: sample)
            }
            let primeNotes = Self.notes(prime)
            let primeKey = KeyFinding.estimateKey(primeNotes)
            let mine = Self.notes(prime + generated, from: Self.primeSteps)
            let theirs = Self.notes(Array(events.prefix(Self.primeSteps + Self.continuationSteps)), from: Self.primeSteps)
            add("generated_vs_prime_key", mine, primeKey)
            add("generated_vs_label", mine, tune.key)
            add("generated_vs_own_estimate", mine, KeyFinding.estimateKey(mine))
            add("data_vs_prime_key", theirs, primeKey)
            add("data_vs_label", theirs, tune.key)
            add("data_vs_own_estimate", theirs, KeyFinding.estimateKey(theirs))
            if let key = tune.key {
                labelled += 1
                if primeKey == key { primeKeyAgrees += 1 }
            }
        }
        let share = { (name: String) -> Any in fits[name]?.share ?? NSNull() }
        var report = AnalysisReport()
        report.object = [
            "data": "folk", "model": modelPath, "tunes": chosen.count, "temperature": Double("\(temperature)") ?? 0, "top_p": Double("\(topP)") ?? 1, "seed": seed,
            "prime_steps": Self.primeSteps, "generated_steps": Self.continuationSteps,
            "generated_notes": fits["generated_vs_prime_key"]?.notes ?? 0, "data_notes": fits["data_vs_prime_key"]?.notes ?? 0,
            "data_continuation_nll_per_step": scored == 0 ? NSNull() : nll / Double(scored),
            "prime_key_agrees_with_label": labelled == 0 ? NSNull() : Double(primeKeyAgrees) / Double(labelled),
        ]
        for name in ["generated_vs_prime_key", "generated_vs_label", "generated_vs_own_estimate", "data_vs_prime_key", "data_vs_label", "data_vs_own_estimate"] {
            report.object["in_key_" + name] = share(name)
        }
        report.lines = [
            "folk continuation: \(chosen.count) tunes of at least 6 bars, primed with 2 bars, 4 bars sampled at temperature \(temperature), top-p \(topP), seed \(seed)",
            "                          generated   the tune's own next 4 bars",
            "notes:                    \(pad(fits["generated_vs_prime_key"]?.notes ?? 0))  \(fits["data_vs_prime_key"]?.notes ?? 0)",
            "in the prime's key:       \(pad(percent(fits["generated_vs_prime_key"]?.share)))  \(percent(fits["data_vs_prime_key"]?.share))",
            "in the labelled key:      \(pad(percent(fits["generated_vs_label"]?.share)))  \(percent(fits["data_vs_label"]?.share))",
            "in their own best key:    \(pad(percent(fits["generated_vs_own_estimate"]?.share)))  \(percent(fits["data_vs_own_estimate"]?.share))",
            "key estimated from the prime agrees with the label: \(percent(labelled == 0 ? nil : Double(primeKeyAgrees) / Double(labelled)))",
            String(format: "streaming NLL of the tunes' own next 4 bars after the prime: %.4f nats per step", scored == 0 ? .nan : nll / Double(scored)),
        ]
        return report
    }

    /// log softmax(logits)[index], in Double so long sums stay exact enough.
    static func logProbability(of index: Int, _ logits: UnsafeBufferPointer<Float>) -> Double {
        let top = Double(logits.max() ?? 0)
        let sum = logits.reduce(0.0) { $0 + exp(Double($1) - top) }
        return Double(logits[index]) - top - log(sum)
    }

    /// Samples 8 bars from reset per piece and sets their bar repetition beside the data's. A model that
    /// follows the harmony (and the beat) is fed the chords of the valid songs, one song per piece.
    func drums(_ model: any StreamingModel, conditioning: Conditioning?, songs: [BandSong]) -> AnalysisReport {
        let (data, withDrums) = ReferenceAnalysis.drumRepetition(songs)
        let count = pieces ?? withDrums
        let drummed = songs.filter { !$0.drums.frames.allSatisfy(\.isEmpty) }
        var rng = SeededRandom(seed: seed)
        var generated = DrumRepetition()
        for k in 0..<count {
            model.reset()
            let song = drummed.isEmpty ? nil : drummed[k % drummed.count]
            var frames: [[Int]] = []
            var input = FeatureList()
            for step in 0..<(Self.drumBars * 16) {
                if let conditioning, let song {
                    let classes = song.chordPerStep[step % song.steps]?.pitchClasses.reduce(UInt16(0)) { $0 | 1 << UInt16($1) } ?? 0
                    conditioning.appendUnits(melodyUnit: nil, pitchClasses: classes, stepInBar: step % 16,
                                             offset: TrainingCorpus.pianoUnits, to: &input)
                }
                model.step(input)
                input = model.sample(temperature: temperature, rng: &rng)
                frames.append(input.activeIndices.map { $0 + Int(PianoRoll.pianoRange.lowerBound) })
            }
            generated = generated + DrumRepetition(frames: frames, stepsPerBar: 16)
        }
        var report = AnalysisReport()
        report.object = [
            "data": "band", "model": modelPath, "temperature": Double("\(temperature)") ?? 0, "seed": seed,
            "generated_pieces": count, "generated_bars_per_piece": Self.drumBars,
            "generated_drums": ReferenceAnalysis.repetitionObject(generated),
            "songs_with_drums": withDrums, "data_drums": ReferenceAnalysis.repetitionObject(data),
        ]
        report.lines = [
            "band drums: \(count) pieces of \(Self.drumBars) bars sampled from reset at temperature \(temperature), seed \(seed)"
                + (conditioning.map { ", fed the valid songs' \($0.rawValue)" } ?? ""),
            "generated: " + ReferenceAnalysis.repetitionLine(generated),
            "data (\(withDrums) songs): " + ReferenceAnalysis.repetitionLine(data),
        ]
        return report
    }

    /// Alto, tenor and bass sampled under each valid chorale's soprano (the model is fed the soprano of the
    /// step it predicts, as the chorale preset feeds the player's note), measured beside Bach's own voices:
    /// parallel fifths and octaves per 100 steps (all six pairs) and the share of notes in the chorale's key
    /// (estimated from Bach's four voices).
    func chorales(_ model: any StreamingModel, chorales all: [Chorale]) -> AnalysisReport {
        let chosen = Array(all.prefix(pieces ?? all.count))
        var rng = SeededRandom(seed: seed)
        var generatedMotion = ParallelMotion(), bachMotion = ParallelMotion()
        var generatedFit = KeyFit(), bachFit = KeyFit()
        var voicesPerStep = 0.0, steps = 0
        for chorale in chosen {
            let soprano = chorale.soprano.map { $0.map(Int.init) ?? -1 }
            model.reset()
            var previous = FeatureList()
            var voices = FourVoices.silent
            var frames: [[Int]] = []
            for s in soprano {
                var input = previous
                Conditioning.soprano.appendUnits(
                    melodyUnit: s >= 0 ? s - Int(PianoRoll.pianoRange.lowerBound) : nil, pitchClasses: 0, stepInBar: 0,
                    offset: TrainingCorpus.pianoUnits, to: &input)
                model.step(input)
                (previous, voices) = VoiceLeading.draw(
                    attempts: voiceLeadingDraws, after: voices, { model.sample(temperature: temperature, topP: topP, rng: &rng) },
                    voicing: { drawn in
                        var v = FourVoices(soprano: s)
                        for unit in drawn.activeIndices { v.include(unit + Int(PianoRoll.pianoRange.lowerBound)) }
                        return v
                    })
                frames.append(previous.activeIndices.map { $0 + Int(PianoRoll.pianoRange.lowerBound) })
                voicesPerStep += Double(previous.count)
                steps += 1
            }
            let bach = ReferenceAnalysis.satbSteps(chorale)
            generatedMotion = generatedMotion + ChoraleVoicing.parallelMotion(soprano: soprano, generatedATB: frames)
            bachMotion = bachMotion + ParallelMotion(steps: bach)
            guard let key = KeyFinding.estimateKey(Self.onsets(bach)) else { continue }
            generatedFit = generatedFit + KeyFit(Self.onsets(frames), key: key)
            bachFit = bachFit + KeyFit(Self.onsets(bach.map { Array($0.dropFirst()) }), key: key)
        }
        var report = AnalysisReport()
        report.object = [
            "data": "jsb-satb", "model": modelPath, "chorales": chosen.count, "steps": steps, "temperature": Double("\(temperature)") ?? 0,
            "top_p": Double("\(topP)") ?? 1, "seed": seed, "voice_leading_draws": voiceLeadingDraws, "generated_voices_per_step": steps == 0 ? 0 : voicesPerStep / Double(steps),
            "generated_parallel_fifths_per_100_steps": generatedMotion.fifthsPer100Steps,
            "generated_parallel_octaves_per_100_steps": generatedMotion.octavesPer100Steps,
            "bach_parallel_fifths_per_100_steps": bachMotion.fifthsPer100Steps,
            "bach_parallel_octaves_per_100_steps": bachMotion.octavesPer100Steps,
            "generated_in_key": generatedFit.share ?? NSNull(), "bach_atb_in_key": bachFit.share ?? NSNull(),
        ]
        report.lines = [
            "chorale ATB under the soprano: \(chosen.count) chorales, \(steps) 16th steps, temperature \(temperature), top-p \(topP), seed \(seed), \(voiceLeadingDraws) draws per step at most",
            "                                generated   Bach",
            String(format: "parallel fifths per 100 steps:  %-10.3f  %.3f", generatedMotion.fifthsPer100Steps, bachMotion.fifthsPer100Steps),
            String(format: "parallel octaves per 100 steps: %-10.3f  %.3f", generatedMotion.octavesPer100Steps, bachMotion.octavesPer100Steps),
            "ATB notes in the chorale's key: \(pad(percent(generatedFit.share)))  \(percent(bachFit.share))",
            String(format: "voices per step (generated): %.2f", steps == 0 ? 0 : voicesPerStep / Double(steps)),
        ]
        return report
    }

    /// Notes of note-set frames (MIDI pitches per step): a pitch starts a note where the previous step did
    /// not sound it, and sounds while the following steps hold it.
    static func onsets(_ frames: [[Int]]) -> [PlacedNote] {
        var notes: [PlacedNote] = []
        var open: [Int: Int] = [:]
        for (step, frame) in frames.enumerated() {
            let now = Set(frame.filter { $0 >= 0 })
            for (pitch, onset) in open where !now.contains(pitch) {
                notes.append(PlacedNote(onset: onset, duration: step - onset, pitch: UInt8(pitch)))
                open[pitch] = nil
            }
            for pitch in now where open[pitch] == nil { open[pitch] = step }
        }
        for (pitch, onset) in open { notes.append(PlacedNote(onset: onset, duration: max(1, frames.count - onset), pitch: UInt8(pitch))) }
        return notes
    }
}

private func pad(_ value: Any) -> String {
    let text = "\(value)"
    return text.count >= 10 ? text : text + String(repeating: " ", count: 10 - text.count)
}
