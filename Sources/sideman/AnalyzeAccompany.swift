import Dispatch
import Engine
import Foundation
import Live
import MIDI
import Music
import Neural
import Synchronization

/// The band as a musician hears it on held-out songs: each song's chord track is played through a preset
/// with the engine `accompany` runs, and what the band plays is measured beside the song's real parts
/// (Sources/Music/Analysis/BandScore.swift holds the measures).
struct AccompanyAnalysis {
    var presetName: String
    var dataPath: String
    var seeds: [UInt64]
    var pieces: Int?
    var jobs: Int
    /// The band's style: a name, "none", "nearest" (per song, the learned style whose drum signature is
    /// nearest the song's real drums), or nil for the preset's.
    var style: String? = nil
    /// Whether each song's drummer keeps to the kit pieces the song's own drums play (a musician telling
    /// the drummer the record's kit), instead of the preset's kit.
    var songKit = false

    /// One song ready to play: its file, the chord track the player plays, its real parts, the engine's meter.
    struct PreparedSong: Sendable {
        let song: BandSong
        let file: MIDIFile
        let chordTrack: Int
        let real: BandTake
        let meter: Meter
        /// The style the band plays it in (nil: the preset's).
        var style: String? = nil
        /// The drummer's kit (nil: the preset's).
        var kit: PitchSet? = nil
    }

    func run() throws -> AnalysisReport {
        let probe = try OfflineSession(presetName: presetName, seed: nil, style: style == "nearest" ? "none" : style)
        let signatures = style == "nearest" ? try Self.styleSignatures(probe) : [:]
        let measured = probe.parts.filter { Self.role(of: $0) != nil }
        guard !measured.isEmpty else {
            throw Failure(probe.loaded.path, "has no bass, chords or drums part to measure", status: .dataError)
        }
        let primer = probe.parts.first { $0.role == .drums && !$0.settings.primer.isEmpty }?.settings.primer
        let all = try BandCorpus.load(manifestPath: dataPath)
        let chosen = Array(all.prefix(pieces ?? all.count))
        let playable = chosen.filter { $0.chordTrack != nil }
        let families = Set(playable.map(\.grooveFile))
        // The style pools hold every song of the family in the data, also those --pieces leaves out.
        var files: [String: (MIDIFile, BandTake)] = [:]
        var pools: [String: [DrumBar]] = [:]
        for song in all where families.contains(song.grooveFile) {
            let file = try Self.read(song.path)
            let real = song.realTake(file: file)
            files[song.path] = (file, real)
            if !real.drums.isEmpty { pools[song.grooveFile, default: []] += DrumBar.bars(real.drums, grid: real.grid) }
        }
        let stylePools = pools.mapValues { DrumBarPool($0) }
        let prepared = try playable.map { song in
            let (file, real) = files[song.path]!
            let meter = try Self.engineMeter(song, file: file, preset: probe.accompanying)
            var prepared = PreparedSong(song: song, file: file, chordTrack: song.chordTrack!, real: real, meter: meter)
            if style == "nearest" {
                let bars = DrumBar.bars(real.drums, grid: real.grid)
                prepared.style = DrumStyleSignature(bars: bars, stepsPerBar: song.stepsPerBar).nearest(in: signatures) ?? "none"
            } else {
                prepared.style = style
            }
            if songKit, !real.drums.isEmpty { prepared.kit = PitchSet(real.drums.flatMap { $0.map(\.pitch) }) }
            return prepared
        }
        let primerBars = Dictionary(uniqueKeysWithValues: Set(prepared.map(\.song.stepsPerBar)).map { steps in
            (steps, primer.map { DrumBar(steps: $0, stepsPerBar: steps) })
        })
        let data = prepared.map { p in
            BandScore(take: p.real, real: p.real, stylePool: stylePools[p.song.grooveFile] ?? DrumBarPool([DrumBar]()), primer: primerBars[p.song.stepsPerBar]!, isReal: true)
        }
        let played = try render(prepared, stylePools: stylePools, primerBars: primerBars)
        return report(prepared, data: data, played: played, skipped: chosen.count - playable.count, preset: probe)
    }

    /// The drum style signatures of the preset's drums model (written by `sideman train --condition
    /// harmony_beat_style --part drums`).
    static func styleSignatures(_ session: OfflineSession) throws -> [String: DrumStyleSignature] {
        guard let drums = session.loaded.preset.parts.first(where: { $0.role == .drums }) else {
            throw Failure(session.loaded.path, "has no drums part to match a style by (--style nearest)", status: .usage)
        }
        let path = session.loaded.modelPath(for: drums)
        let metadata: [String: String]
        do { metadata = try SafeTensors.read(path: path).metadata } catch { throw Failure(path, "\(error)", status: .dataError) }
        guard let text = metadata[DrumStyleSignature.metadataKey], let signatures = DrumStyleSignature.parse(text), !signatures.isEmpty else {
            throw Failure(path, "has no drum style signatures (\(DrumStyleSignature.metadataKey)); --style nearest needs a style drums model", status: .dataError)
        }
        return signatures
    }

    static func read(_ path: String) throws -> MIDIFile {
        do { return try MIDIFileReader.read(path: path).file } catch { throw Failure(midiLoad: error) }
    }

    /// The role a part is measured in, nil for parts the band corpus has no real counterpart of.
    static func role(of part: Part) -> String? {
        switch part.role {
        case .bass: return "bass"
        case .chords: return "keys"
        case .drums: return "drums"
        default: return nil
        }
    }

    /// The meter the engine plays the song in; it must have the manifest's bar length, or the measures
    /// would read the band's bars against the wrong downbeats.
    static func engineMeter(_ song: BandSong, file: MIDIFile, preset: Preset) throws -> Meter {
        let offline = try OfflineSong(file: file, path: song.path, playerTrack: song.chordTrack)
        let meter = OfflineSession.engineSettings(for: offline, preset: preset, phraseEndAtEnd: false).transport.meter
        guard meter.stepsPerBar == song.stepsPerBar else {
            throw Failure(
                song.path, "the engine would play it in \(meter) (\(meter.stepsPerBar) 16ths a bar); the manifest gives \(song.stepsPerBar / 4) beats a bar",
                status: .dataError)
        }
        return meter
    }

    /// Every song once per seed, `jobs` at a time; the scores come back in song-then-seed order whatever
    /// finishes first, and each render has its own session, so a seed gives the same notes in any order.
    func render(_ songs: [PreparedSong], stylePools: [String: DrumBarPool], primerBars: [Int: DrumBar?]) throws -> [[BandScore]] {
        let count = songs.count * seeds.count
        let next = Mutex(0)
        let results = Mutex([BandScore?](repeating: nil, count: count))
        let failure = Mutex<Failure?>(nil)
        let (presetName, seeds) = (presetName, seeds)
        DispatchQueue.concurrentPerform(iterations: max(1, min(jobs, count))) { _ in
            while true {
                let k = next.withLock { n in defer { n += 1 }; return n }
                guard k < count, failure.withLock({ $0 == nil }) else { return }
                let song = songs[k / seeds.count]
                do {
                    let score = try Self.play(
                        song, presetName: presetName, seed: seeds[k % seeds.count],
                        stylePool: stylePools[song.song.grooveFile] ?? DrumBarPool([DrumBar]()), primer: primerBars[song.song.stepsPerBar]!)
                    results.withLock { $0[k] = score }
                } catch let error as Failure {
                    failure.withLock { if $0 == nil { $0 = error } }
                } catch {
                    failure.withLock { if $0 == nil { $0 = Failure(song.song.path, "\(error)", status: .software) } }
                }
            }
        }
        if let error = failure.withLock({ $0 }) { throw error }
        let scores = results.withLock { $0 }.map { $0! }
        return (0..<songs.count).map { Array(scores[$0 * seeds.count..<($0 + 1) * seeds.count]) }
    }

    /// Plays the song's chord track through the preset with `seed` (as `accompany` does, one bar past its
    /// end so the last notes end as played) and measures the band against the song's real parts.
    static func play(_ prepared: PreparedSong, presetName: String, seed: UInt64, stylePool: DrumBarPool, primer: DrumBar?) throws -> BandScore {
        let session = try OfflineSession(presetName: presetName, seed: seed, style: prepared.style, kit: prepared.kit)
        let song = try OfflineSong(file: prepared.file, path: prepared.song.path, playerTrack: prepared.chordTrack)
        let played = try session.render(song: song, preset: session.accompanying, extraBars: 1, phraseEndAtEnd: false, warn: false)
        var parts: [String: [[TimedNote]]] = [:]
        for part in session.parts {
            guard let role = role(of: part) else { continue }
            parts[role, default: []].append(
                TimedNote.notes(of: played, channel: part.channel, origin: OfflineSong.leadFrames, sampleRate: Double(OfflineSession.sampleRate)))
        }
        let take = BandTake(
            grid: prepared.real.grid, chordPerStep: prepared.real.chordPerStep, bass: parts["bass"] ?? [], keys: parts["keys"] ?? [],
            drums: parts["drums"] ?? [])
        return BandScore(take: take, real: prepared.real, stylePool: stylePool, primer: primer, isReal: false)
    }
}

// MARK: - The report

extension AccompanyAnalysis {
    /// One line of the table: what it measures, its JSON key, how to read it from a score and print it.
    struct Row: Sendable {
        enum Style { case percent, number, milliseconds }
        let label: String
        let key: String
        let style: Style
        let value: @Sendable (BandScore) -> Double?
    }

    static let rows: [Row] = [
        Row(label: "bass: downbeats on the bar's chord root", key: "bass_root_on_downbeats", style: .percent) { $0.bassDownbeats.rootShare },
        Row(label: "bass: previous chord's root at a change", key: "bass_previous_root_at_changes", style: .percent) { $0.bassDownbeats.previousRootShare },
        Row(label: "bass: chord tones", key: "bass_chord_tones", style: .percent) { $0.bassTones.share },
        Row(label: "keys: chord tones", key: "keys_chord_tones", style: .percent) { $0.keysTones.share },
        Row(label: "keys: mean note length (16ths)", key: "keys_mean_length_16ths", style: .number) { $0.keys.meanSixteenths },
        Row(label: "keys: notes held a bar or more", key: "keys_held_bar_or_more", style: .percent) { $0.keys.heldBarShare },
        Row(label: "keys: onsets per bar", key: "keys_onsets_per_bar", style: .number) { $0.keys.onsetsPerBar },
        Row(label: "drums: hits per bar", key: "drums_hits_per_bar", style: .number) { $0.drums.hitsPerBar },
        Row(label: "drums: kit pieces per song", key: "drums_kit_pieces_per_song", style: .number) { $0.drums.kitPiecesPerSong },
        Row(label: "drums: bars equal to the primer", key: "drums_primer_bars", style: .percent) { $0.drums.primerBarShare },
        Row(label: "drums: best overlap, the song's bars", key: "drums_overlap_song", style: .number) { $0.drums.songOverlap },
        Row(label: "drums: best overlap, the style's bars", key: "drums_overlap_style", style: .number) { $0.drums.styleOverlap },
        Row(label: "bass: notes under 30 ms", key: "bass_short_notes", style: .percent) { $0.bassHygiene.shortShare },
        Row(label: "keys: notes under 30 ms", key: "keys_short_notes", style: .percent) { $0.keysHygiene.shortShare },
        Row(label: "drums: notes under 30 ms", key: "drums_short_notes", style: .percent) { $0.drumsHygiene.shortShare },
        Row(label: "bass: flams per 1000 notes", key: "bass_flams_per_1000", style: .number) { $0.bassHygiene.flamsPerThousand },
        Row(label: "keys: flams per 1000 notes", key: "keys_flams_per_1000", style: .number) { $0.keysHygiene.flamsPerThousand },
        Row(label: "drums: flams per 1000 notes", key: "drums_flams_per_1000", style: .number) { $0.drumsHygiene.flamsPerThousand },
        Row(label: "first bar: largest offset from grid (ms)", key: "first_bar_offset_ms", style: .milliseconds) { $0.timing.meanMilliseconds },
        Row(label: "first bar: worst song (ms)", key: "first_bar_offset_ms_worst", style: .milliseconds) { $0.timing.songs == 0 ? nil : $0.timing.worst },
    ]

    /// The columns of the per-style lines.
    static let styleRows = ["bass_root_on_downbeats", "keys_mean_length_16ths", "keys_onsets_per_bar", "drums_primer_bars", "drums_overlap_style"]

    static func text(_ value: Double?, _ style: Row.Style) -> String {
        guard let value else { return "n/a" }
        switch style {
        case .percent: return String(format: "%.1f%%", value * 100)
        case .number: return String(format: "%.2f", value)
        case .milliseconds: return String(format: "%.1f", value)
        }
    }

    /// A score's measures and the counts they rest on.
    static func object(_ score: BandScore) -> [String: Any] {
        var object: [String: Any] = [
            "songs": score.songs, "bass_downbeats": score.bassDownbeats.downbeats, "bass_chord_changes": score.bassDownbeats.changes,
            "bass_notes": score.bassHygiene.notes, "keys_notes": score.keysHygiene.notes, "drums_notes": score.drumsHygiene.notes,
            "drum_bars": score.drums.bars,
        ]
        for row in rows { object[row.key] = row.value(score) ?? NSNull() }
        return object
    }

    func report(_ songs: [PreparedSong], data: [BandScore], played: [[BandScore]], skipped: Int, preset: OfflineSession) -> AnalysisReport {
        let sum = { (scores: [BandScore]) in scores.reduce(BandScore(), +) }
        let dataAll = sum(data), playedAll = sum(played.flatMap { $0 })
        let families = Set(songs.map(\.song.grooveFile)).sorted()
        var styles: [String: Any] = [:]
        var meters: [String: Int] = [:]
        for song in songs { meters[song.meter.description, default: 0] += 1 }
        var report = AnalysisReport()
        let seedList = seeds.map(String.init).joined(separator: ", ")
        report.lines = [
            "band through preset \(preset.loaded.preset.name): \(songs.count) songs of \(dataPath), seeds \(seedList)"
                + (skipped > 0 ? "; \(skipped) skipped (no chord track)" : ""),
            "the player plays each song's chord track; the engine plays in " + meters.keys.sorted().map { "\($0) (\(meters[$0]!) song\(meters[$0]! == 1 ? "" : "s"))" }.joined(separator: ", ")
                + (songKit ? "; each song's drummer keeps to the kit pieces its real drums play" : ""),
            "",
            Self.pad("measure", 42) + Self.pad("data", 10) + "Sideman",
        ]
        for row in Self.rows {
            report.lines.append(Self.pad(row.label, 42) + Self.pad(Self.text(row.value(dataAll), row.style), 10) + Self.text(row.value(playedAll), row.style))
        }
        report.lines += ["", "per style (data / Sideman): bass root on downbeats | keys length | keys onsets per bar | drum bars = primer | drum overlap with the style"]
        for family in families {
            let indices = songs.indices.filter { songs[$0].song.grooveFile == family }
            let d = sum(indices.map { data[$0] }), p = sum(indices.flatMap { played[$0] })
            styles[family] = ["songs": indices.count, "data": Self.object(d), "sideman": Self.object(p)]
            let cells = Self.styleRows.map { key in
                let row = Self.rows.first { $0.key == key }!
                return Self.text(row.value(d), row.style) + " / " + Self.text(row.value(p), row.style)
            }
            // The style the band played it in, when --style chose one per song.
            let played = indices.compactMap { songs[$0].style }
            var counts: [String: Int] = [:]
            for name in played { counts[name, default: 0] += 1 }
            let chosen = counts.keys.sorted { counts[$0]! > counts[$1]! || (counts[$0]! == counts[$1]! && $0 < $1) }
            if style == "nearest", var entry = styles[family] as? [String: Any] {
                entry["styles_played"] = counts
                styles[family] = entry
            }
            report.lines.append(Self.pad("\(family) (\(indices.count))", 30) + cells.joined(separator: " | ")
                + (style == "nearest" ? "  [" + chosen.map { "\($0) \(counts[$0]!)" }.joined(separator: ", ") + "]" : ""))
        }
        var perSeed: [String: Any] = [:]
        for (k, seed) in seeds.enumerated() { perSeed["\(seed)"] = Self.object(sum(played.map { $0[k] })) }
        report.object = [
            "data": "band", "mode": "accompany", "manifest": dataPath, "preset": preset.loaded.path, "seeds": seeds.map { Int($0) },
            "songs": songs.count, "skipped_no_chord_track": skipped, "engine_meters": meters, "kit": songKit ? "song" : "preset",
            "overall": ["data": Self.object(dataAll), "sideman": Self.object(playedAll)],
            "styles": styles, "per_seed": perSeed,
        ]
        return report
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}
