import Foundation
import Live
import MIDI
import Music

/// The measures of a data set on its own: the reference rates generated music is held against.
enum ReferenceAnalysis {
    static func run(path: String, format: TrainingCorpus.Format) throws -> AnalysisReport {
        switch format {
        case .folk: return try folk(FolkCorpus.load(path: path))
        case .jsbSATB, .jsbATB, .jsbSoprano: return try chorales(JSBCorpus.loadSATB(path: path))
        case .band: return try drums(BandCorpus.load(manifestPath: path))
        case .jsbPianoRoll, .midiFolder:
            throw Failure(path, "analyze measures folk tunes, JSB SATB chorales and band songs, not \(format.rawValue)", status: .dataError)
        }
    }

    static func folk(_ tunes: [FolkTune]) -> AnalysisReport {
        var labelled = KeyFit(), estimated = KeyFit()
        var agree = 0, withLabel = 0
        for tune in tunes {
            let notes = tune.melody.placedNotes
            let guess = KeyFinding.estimateKey(notes)
            if let guess { estimated = estimated + KeyFit(notes, key: guess) }
            if let key = tune.key {
                labelled = labelled + KeyFit(notes, key: key)
                withLabel += 1
                if guess == key { agree += 1 }
            }
        }
        let agreement = withLabel == 0 ? nil : Double(agree) / Double(withLabel)
        var report = AnalysisReport()
        report.object = [
            "data": "folk", "tunes": tunes.count, "notes": estimated.notes,
            "in_key_labelled": labelled.share ?? NSNull(), "in_key_estimated": estimated.share ?? NSNull(),
            "estimated_key_agrees_with_label": agreement ?? NSNull(),
        ]
        report.lines = [
            "folk: \(tunes.count) tunes, \(estimated.notes) notes",
            "notes in the labelled key: \(percent(labelled.share)) (natural-minor scale for minor keys)",
            "notes in the key estimated from the whole tune: \(percent(estimated.share))",
            "estimated key agrees with the label: \(percent(agreement))",
        ]
        return report
    }

    static func satbSteps(_ chorale: Chorale) -> [[Int]] {
        (0..<chorale.stepCount).map { s in chorale.voices.map { $0[s].map(Int.init) ?? -1 } }
    }

    static func chorales(_ chorales: [Chorale]) -> AnalysisReport {
        let motion = chorales.reduce(ParallelMotion()) { $0 + ParallelMotion(steps: satbSteps($1)) }
        var report = AnalysisReport()
        report.object = [
            "data": "jsb-satb", "chorales": chorales.count, "steps": motion.steps,
            "parallel_fifths": motion.fifths, "parallel_octaves": motion.octaves,
            "parallel_fifths_per_100_steps": motion.fifthsPer100Steps,
            "parallel_octaves_per_100_steps": motion.octavesPer100Steps,
        ]
        report.lines = [
            "jsb-satb: \(chorales.count) chorales, \(motion.steps) 16th steps",
            String(format: "parallel fifths: %d (%.3f per 100 steps), all six voice pairs", motion.fifths, motion.fifthsPer100Steps),
            String(format: "parallel octaves and unisons: %d (%.3f per 100 steps)", motion.octaves, motion.octavesPer100Steps),
        ]
        return report
    }

    /// The drum parts of the songs that have one, each read in its own meter's bars.
    static func drumRepetition(_ songs: [BandSong]) -> (DrumRepetition, songs: Int) {
        var total = DrumRepetition(), count = 0
        for song in songs where !song.drums.frames.allSatisfy(\.isEmpty) {
            total = total + DrumRepetition(frames: song.drums.frames.map { $0.map(Int.init) }, stepsPerBar: song.stepsPerBar)
            count += 1
        }
        return (total, count)
    }

    static func drums(_ songs: [BandSong]) throws -> AnalysisReport {
        let (r, count) = drumRepetition(songs)
        var report = AnalysisReport()
        report.object = ["data": "band", "songs_with_drums": count, "data_drums": repetitionObject(r)]
        report.lines = ["band drums: \(count) songs with drums", "data: " + repetitionLine(r)]
        let accents = try velocityAccents(songs)
        var object: [String: Any] = [:]
        for (role, a) in accents {
            object[role] = ["onsets": a.onsets, "offsets": a.offsets]
            report.lines.append("\(role) velocity accents per 16th of a 4/4 bar (\(a.onsets) onsets): \(a.offsets)")
        }
        report.object["velocity_accents_4_4"] = object
        return report
    }

    /// The accents of each role's onsets, over the songs in 4/4 (a bar of 16 steps), each onset on its
    /// nearest 16th.
    static func velocityAccents(_ songs: [BandSong]) throws -> [(String, VelocityAccents)] {
        var byRole = ["bass", "chord", "drums"].map { ($0, VelocityAccents(stepsPerBar: 16)) }
        for song in songs where song.stepsPerBar == 16 {
            let file: MIDIFile
            do { file = try MIDIFileReader.read(path: song.path).file } catch { throw CorpusError(file: song.path, problem: "\(error)") }
            guard case .ticksPerQuarter(let tpq) = file.division, tpq >= 4 else { continue }
            let ticksPerStep = Double(tpq) / 4
            for k in byRole.indices {
                for track in song.tracks where track.role == byRole[k].0 && track.index < file.tracks.count {
                    for note in file.tracks[track.index].noteSpans() {
                        byRole[k].1.add(step: Int((Double(note.start) / ticksPerStep).rounded()), velocity: note.velocity)
                    }
                }
            }
        }
        return byRole
    }

    static func repetitionObject(_ r: DrumRepetition) -> [String: Any] {
        [
            "bars": r.bars, "hits_per_bar": r.hitsPerBar ?? NSNull(), "compared_bars": r.comparedBars, "same_as_previous_bar": r.sameAsPreviousShare ?? NSNull(),
            "same_as_an_earlier_bar": r.seenBeforeShare ?? NSNull(), "mean_jaccard_consecutive_bars": r.meanJaccard ?? NSNull(),
        ]
    }

    static func repetitionLine(_ r: DrumRepetition) -> String {
        (r.hitsPerBar.map { String(format: "%.1f hits per bar; ", $0) } ?? "")
            + "\(r.comparedBars) bars after the first: \(percent(r.sameAsPreviousShare)) same as the bar before, "
            + "\(percent(r.seenBeforeShare)) same as an earlier bar, mean Jaccard of consecutive bars "
            + (r.meanJaccard.map { String(format: "%.3f", $0) } ?? "n/a")
    }
}
