import Foundation
import Testing
import TestSupport

/// `sideman analyze --accompany` as a user runs it: a tiny band manifest made here (songs in 4/4, 3/4,
/// 5/4 and 6/4 whose real parts have known measures, and one with no chord track), played through the
/// shipped band preset.
@Suite("sideman analyze --accompany")
struct AnalyzeAccompanyCommandTests {
    static let triads: [String: [Int]] = ["C": [48, 52, 55], "F": [53, 57, 60], "G": [55, 59, 62]]
    static let roots: [String: UInt8] = ["C": 36, "F": 41, "G": 43]
    /// The band preset's drum primer: a bar of it in the data is a bar equal to the primer.
    static let primer: [[UInt8]] = [[36, 42], [], [42], [], [38, 42], [], [42], [], [36, 42], [], [42], [], [38, 42], [], [42], []]

    /// Four bars of C F G C: the chord struck on each downbeat and held the bar, the bass on the root held
    /// the bar, and (when asked) the primer on the drums in every bar, each hit a 16th long.
    static func song(_ name: String, family: String, beats: Int, chordTrack: Bool = true, drums: Bool = false) -> BandFixture.Song {
        var song = BandFixture.Song(name: name, grooveFile: family, beatsPerBar: beats, chords: [["C"], ["F"], ["G"], ["C"]], tracks: [])
        let bar = song.ticksPerBar
        if drums {
            let sixteenth = BandFixture.ticksPerBeat / 4
            let hits = (0..<4).flatMap { b in
                primer.enumerated().flatMap { s, notes in notes.map { (start: b * bar + s * sixteenth, end: b * bar + (s + 1) * sixteenth, pitch: $0) } }
            }
            song.tracks.append(BandFixture.Track(name: "Drum", role: "drums", channel: 9, notes: hits))
        }
        if chordTrack { song.tracks.append(BandFixture.chordTrack(song, triads: triads)) }
        let bass = song.chords.enumerated().map { (start: $0.offset * bar, end: ($0.offset + 1) * bar, pitch: roots[$0.element[0]]!) }
        song.tracks.append(BandFixture.Track(name: "Bass", role: "bass", channel: 15, notes: bass))
        return song
    }

    static func band() throws -> String {
        try #require(InspectCommandTests.packageRoot()).appendingPathComponent("presets/band.yaml").path
    }

    /// The band preset with the rock primer on its drums, written into `folder` (its models where they
    /// ship): the primer measure needs a preset that has one.
    static func bandWithPrimer(in folder: String) throws -> String {
        let root = try #require(InspectCommandTests.packageRoot()).appendingPathComponent("presets").path
        let steps = primer.map { "[" + $0.map(String.init).joined(separator: ", ") + "]" }.joined(separator: ", ")
        let text = try String(contentsOfFile: try band(), encoding: .utf8)
            .replacingOccurrences(of: "model: band/", with: "model: \(root)/band/")
            .replacingOccurrences(of: "    model: \(root)/band/drums.safetensors\n", with: "    model: \(root)/band/drums.safetensors\n    primer: [\(steps)]\n")
        let path = "\(folder)/band-primed.yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func theBandIsMeasuredBesideTheRealPartsInEachSongsMeter() throws {
        try TrainCommandTests.inFolder { dir in
            let manifest = try BandFixture.write([
                Self.song("Rock_0", family: "stdlib/rock.mma", beats: 4, drums: true),
                Self.song("NoChord_0", family: "stdlib/rock.mma", beats: 4, chordTrack: false, drums: true),
                Self.song("Waltz_0", family: "stdlib/waltz.mma", beats: 3),
                Self.song("Jazz54_0", family: "stdlib/jazz-54.mma", beats: 5),
                Self.song("Slow64_0", family: "stdlib/slow.mma", beats: 6),
            ], to: dir.path)
            let arguments = ["analyze", "--data", manifest, "--accompany", "--preset", try Self.bandWithPrimer(in: dir.path), "--seeds", "1,2", "--json"]
            let object = try AnalyzeCommandTests.json(Program.sideman(arguments))
            #expect(object["songs"] as? Int == 4 && object["skipped_no_chord_track"] as? Int == 1)
            // The engine plays each song in its file's meter.
            #expect(object["engine_meters"] as? [String: Int] == ["4/4": 1, "3/4": 1, "5/4": 1, "6/4": 1])
            let overall = try #require(object["overall"] as? [String: Any])
            let data = try #require(overall["data"] as? [String: Any])
            let band = try #require(overall["sideman"] as? [String: Any])
            // The real bass is on the root at all 16 downbeats, and at each of the 12 changes the new one.
            #expect(data["bass_downbeats"] as? Int == 16 && data["bass_chord_changes"] as? Int == 12)
            #expect(data["bass_root_on_downbeats"] as? Double == 1 && data["bass_previous_root_at_changes"] as? Double == 0)
            // Chords held a whole bar: 16, 12, 20 and 24 16ths, one onset a bar, all chord tones.
            #expect(abs((data["keys_mean_length_16ths"] as? Double ?? 0) - 18) < 1e-9 && data["keys_held_bar_or_more"] as? Double == 1)
            #expect(data["keys_onsets_per_bar"] as? Double == 1 && data["keys_chord_tones"] as? Double == 1)
            // The rock song's drums are the primer in every bar; the skipped song of its family is in the pool.
            #expect(data["drum_bars"] as? Int == 4 && data["drums_primer_bars"] as? Double == 1)
            #expect(data["drums_hits_per_bar"] as? Double == 12 && data["drums_kit_pieces_per_song"] as? Double == 3)
            #expect(data["drums_overlap_song"] as? Double == 1 && data["drums_overlap_style"] as? Double == 1)
            #expect(data["keys_short_notes"] as? Double == 0 && data["drums_flams_per_1000"] as? Double == 0)
            #expect(abs(data["first_bar_offset_ms"] as? Double ?? 1) < 1e-6)
            // The band is held at the same downbeats and bars, once per seed.
            #expect(band["songs"] as? Int == 8 && band["bass_downbeats"] as? Int == 32 && band["drum_bars"] as? Int == 8)
            for key in ["bass_root_on_downbeats", "keys_chord_tones", "drums_primer_bars", "drums_overlap_style", "keys_short_notes"] {
                let share = try #require(band[key] as? Double, "\(key) is \(String(describing: band[key]))")
                #expect(share >= 0 && share <= 1, "\(key) \(share)")
            }
            #expect((band["keys_notes"] as? Int ?? 0) > 0 && (band["first_bar_offset_ms"] as? Double ?? 999) < 62.5)
            let seeds = try #require(object["per_seed"] as? [String: [String: Any]])
            #expect(Set(seeds.keys) == ["1", "2"] && seeds["1"]?["songs"] as? Int == 4)
            let styles = try #require(object["styles"] as? [String: [String: Any]])
            #expect(Set(styles.keys) == ["stdlib/rock.mma", "stdlib/waltz.mma", "stdlib/jazz-54.mma", "stdlib/slow.mma"])
            let waltz = try #require(styles["stdlib/waltz.mma"]?["data"] as? [String: Any])
            #expect(abs((waltz["keys_mean_length_16ths"] as? Double ?? 0) - 12) < 1e-9)
            // The same seeds give the same numbers, whatever order the songs finish in.
            let again = try Program.sideman(arguments + ["--jobs", "1"])
            #expect(again.stdout == (try Program.sideman(arguments)).stdout)
            // The text: the table and a line per style.
            let text = try Program.sideman(Array(arguments.dropLast()) + ["--pieces", "3"])
            #expect(text.status == 0, "\(text.stderr)")
            #expect(text.stdout.contains("songs of \(manifest), seeds 1, 2; 1 skipped (no chord track)"))
            #expect(text.stdout.contains("the engine plays in 3/4 (1 song), 4/4 (1 song)"))
            #expect(text.stdout.split(separator: "\n").contains { $0.hasPrefix("bass: downbeats on the bar's chord root   100.0%") })
            #expect(text.stdout.split(separator: "\n").contains { $0.hasPrefix("stdlib/waltz.mma (1)") })
            #expect(!text.stdout.contains("jazz-54"))
        }
    }

    /// Told the song's kit (kick, snare, closed hi-hat: the primer's), the drummer plays no other piece.
    @Test func theDrummerPlaysOnTheSongsKit() throws {
        try TrainCommandTests.inFolder { dir in
            let manifest = try BandFixture.write([Self.song("Rock_0", family: "stdlib/rock.mma", beats: 4, drums: true)], to: dir.path)
            let arguments = ["analyze", "--data", manifest, "--accompany", "--preset", try Self.band(), "--seeds", "1,2", "--json"]
            let own = try AnalyzeCommandTests.json(Program.sideman(arguments))
            let told = try AnalyzeCommandTests.json(Program.sideman(arguments + ["--kit", "song"]))
            #expect(own["kit"] as? String == "preset" && told["kit"] as? String == "song")
            func pieces(_ object: [String: Any]) -> Double? { ((object["overall"] as? [String: Any])?["sideman"] as? [String: Any])?["drums_kit_pieces_per_song"] as? Double }
            let kit = try #require(pieces(told)), before = try #require(pieces(own))
            #expect(kit > 0 && kit <= 3, "kit pieces per song on the song's kit: \(kit)")
            #expect(before > 3, "the preset's own kit: \(before) pieces per song")
            let alone = try Program.sideman(["analyze", "--data", manifest, "--kit", "song"])
            #expect(alone.status == 64 && alone.stderr.contains("--kit"), "\(alone.stderr)")
        }
    }

    @Test func badUseIsOneLineAndItsExitCode() throws {
        try TrainCommandTests.inFolder { dir in
            let manifest = try BandFixture.write([Self.song("Waltz_0", family: "stdlib/waltz.mma", beats: 3)], to: dir.path)
            let band = try Self.band()
            let noPreset = try Program.sideman(["analyze", "--data", manifest, "--accompany"])
            #expect(noPreset.status == 64 && noPreset.stderr.contains("--accompany needs --preset"), "\(noPreset.stderr)")
            let presetAlone = try Program.sideman(["analyze", "--data", manifest, "--preset", band])
            #expect(presetAlone.status == 64)
            let badSeeds = try Program.sideman(["analyze", "--data", manifest, "--accompany", "--preset", band, "--seeds", "1,x"])
            #expect(badSeeds.status == 64 && badSeeds.stderr.contains("--seeds"))
            let badStyle = try Program.sideman(["analyze", "--data", manifest, "--accompany", "--preset", band, "--style", "cha-cha"])
            #expect(badStyle.status == 65 && badStyle.stderr.hasPrefix("sideman: \(band): performance.style = cha-cha is not a style of this preset"),
                    "\(badStyle.status) \(badStyle.stderr)")
            #expect(badStyle.stderr.split(separator: "\n").count == 1)
            let nearest = try Program.sideman(["analyze", "--data", manifest, "--accompany", "--preset", band, "--style", "nearest", "--seeds", "1"])
            #expect(nearest.status == 0, "\(nearest.stderr)")
            let folk = dir.appendingPathComponent("tunes.jsonl")
            try TrainCommandTests.folk(2, shift: 0).write(to: folk, atomically: true, encoding: .utf8)
            let notBand = try Program.sideman(["analyze", "--data", folk.path, "--accompany", "--preset", band])
            #expect(notBand.status == 65 && notBand.stderr.hasPrefix("sideman: \(folk.path): is folk data;"), "\(notBand.stderr)")
            // A manifest whose bars disagree with the file's time signature would be measured on the wrong
            // downbeats: refused, naming the file.
            let text = try String(contentsOfFile: manifest, encoding: .utf8).replacingOccurrences(of: "\"beats_per_bar\": 3", with: "\"beats_per_bar\": 4")
            try text.write(toFile: manifest, atomically: true, encoding: .utf8)
            let wrong = try Program.sideman(["analyze", "--data", manifest, "--accompany", "--preset", band])
            #expect(wrong.status == 65, "\(wrong.stderr)")
            #expect(wrong.stderr == "sideman: \(dir.path)/valid/Waltz_0.mid: the engine would play it in 3/4 (12 16ths a bar); the manifest gives 4 beats a bar\n")
        }
    }
}
