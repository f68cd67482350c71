import Foundation
import MIDI
import Music
import Testing
import TestSupport

/// The shipped presets with their trained models, played offline over the example files through the
/// daemon's engine (`sideman accompany`): what a musician would hear, checked for the musical basics.
@Suite("shipped presets play music")
struct ShippedPresetTests {
    typealias CLI = InspectCommandTests

    struct Played {
        var file: MIDIFile
        /// Note spans per track name.
        var spans: [String: [NoteSpan]]
    }

    /// `presetPath`: a preset file elsewhere (default: the shipped `preset`).
    static func accompany(_ example: String, preset: String, presetPath: String? = nil, style: String? = nil, seed: Int? = nil) throws -> Played {
        let root = try #require(CLI.packageRoot())
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("sideman-shipped-\(preset)-\(style ?? "")-\(seed ?? 0)-\(getpid()).mid").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let run = try Program.sideman(["accompany", root.appendingPathComponent("examples/\(example)").path, "-o", out,
                               "--preset", presetPath ?? root.appendingPathComponent("presets/\(preset).yaml").path]
                               + (style.map { ["--style", $0] } ?? []) + (seed.map { ["--seed", "\($0)"] } ?? []))
        #expect(run.status == 0, "\(run.stderr)")
        let file = try MIDIFileReader.read(path: out).file
        var spans: [String: [NoteSpan]] = [:]
        for track in file.tracks {
            // Every note that starts also ends: count note-ons against note-offs in the track.
            var balance: [Int: Int] = [:]
            for event in track.events {
                guard case .channel(let m) = event.kind else { continue }
                switch m {
                case .noteOn(let c, let p, let v) where v > 0: balance[Int(c) << 7 | Int(p), default: 0] += 1
                case .noteOn(let c, let p, _), .noteOff(let c, let p, _): balance[Int(c) << 7 | Int(p), default: 0] -= 1
                default: break
                }
            }
            #expect(balance.values.allSatisfy { $0 <= 0 }, "a note left sounding in \(track.name ?? "?")")
            spans[track.name ?? "", default: []] += track.noteSpans()
        }
        return Played(file: file, spans: spans)
    }

    @Test("chorale: alto, tenor and bass sing under each soprano note and come in with it")
    func choraleVoicesFollowTheSoprano() throws {
        let played = try Self.accompany("chorale-soprano.mid", preset: "chorale")
        let soprano = try #require(played.spans["soprano"]).sorted { $0.start < $1.start }
        let choir = try #require(played.spans["choir"])
        #expect(choir.count >= 2 * soprano.count, "\(choir.count) choir notes for \(soprano.count) soprano notes")
        let sixteenth = 120  // the example's 480 ticks per quarter
        var under = 0, over = 0, together = 0
        for note in soprano {
            let entering = choir.filter { $0.start >= note.start && $0.start < note.start + sixteenth }
            if !entering.isEmpty { together += 1 }
            for v in entering { if v.pitch < note.pitch { under += 1 } else { over += 1 } }
        }
        // The voices change with the melody, and stay under it.
        #expect(Double(together) >= 0.7 * Double(soprano.count), "the choir moved with \(together) of \(soprano.count) soprano notes")
        #expect(Double(under) >= 0.95 * Double(under + over), "\(over) of \(under + over) entering voices above the soprano")
        // Three voices under a held soprano most of the time: count the choir notes sounding at each
        // soprano note's midpoint.
        let voicesAtMid = soprano.map { n in choir.filter { $0.start <= (n.start + n.end) / 2 && $0.end > (n.start + n.end) / 2 }.count }
        let full = voicesAtMid.filter { $0 >= 2 }.count
        #expect(Double(full) >= 0.8 * Double(soprano.count), "voices sounding at the soprano notes: \(voicesAtMid)")
        // Part-writing: on the 16th grid, voiced as ChoraleVoicing reads a generated ATB, the choir's parallel
        // fifths and octaves stay near Bach's rate (0.1 per 100 steps together); with the first draw of every
        // step kept, this example had 6 fifths and 8 octaves in 191 steps (7.3).
        let steps = (soprano.map(\.end).max() ?? 0) / sixteenth
        func sounding(_ notes: [NoteSpan], _ t: Int) -> [Int] {
            let tick = t * sixteenth + sixteenth / 2
            return notes.filter { $0.start <= tick && $0.end > tick }.map { Int($0.pitch) }
        }
        let motion = ChoraleVoicing.parallelMotion(
            soprano: (0..<steps).map { sounding(soprano, $0).max() ?? -1 }, generatedATB: (0..<steps).map { sounding(choir, $0) })
        let rate = Double(motion.fifths + motion.octaves) * 100 / Double(max(1, steps))
        print("MEASURE chorale \(motion) \(steps)")
        #expect(rate < 0.8, "\(motion.fifths) parallel fifths and \(motion.octaves) octaves in \(steps) steps")
    }

    @Test("default: the band plays along with the tune, and the fiddle answers it when it ends")
    func defaultPlaysAlongAndAnswers() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sideman-demo-default-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let run = try Program.sideman(["demo", "--preset", "default", "--out", folder])
        #expect(run.status == 0 && run.stdout.contains("accompaniment and answer"), "\(run.stdout) \(run.stderr)")
        let file = try MIDIFileReader.read(path: folder + "/demo.mid").file
        func spans(_ name: String) throws -> [NoteSpan] { try #require(file.tracks.first { $0.name == name }).noteSpans() }
        let tune = try spans("Melody")
        let end = try #require(tune.map(\.end).max())
        // The band under the tune; the answer after it, while the band plays on.
        for part in ["bass", "keys", "drums"] {
            let notes = try spans(part)
            #expect(notes.filter { $0.start < end }.count >= 8, "\(part): \(notes.count) notes")
        }
        let answer = try spans("answer")
        #expect(answer.count >= 3 && answer.allSatisfy { $0.start >= end - 480 }, "answer: \(answer.map(\.start)) after \(end)")
        #expect(try spans("lead").isEmpty, "the lead waits for CC 33")
    }

    @Test("band: its lead, brought in, plays a melody in the chords and the key")
    func bandLeadPlaysOverTheChords() throws {
        let root = try #require(CLI.packageRoot())
        // The band preset with the lead in from the start (it ships muted), its models where they are.
        let text = try String(contentsOf: root.appendingPathComponent("presets/band.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "    muted: true\n", with: "")
            .replacingOccurrences(of: "model: band/", with: "model: \(root.appendingPathComponent("presets/band").path)/")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sideman-band-lead-\(getpid()).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let played = try Self.accompany("band-chords.mid", preset: "band-lead", presetPath: path)
        let chords = try #require(played.spans["chords"])
        let lead = try #require(played.spans["lead"])
        let fit = ChordFit(chords: chords)
        // The key as the player's chords spell it: the pitch classes they use.
        let used = Set(chords.map { Int($0.pitch) % 12 })
        let inKey = lead.filter { used.contains(Int($0.pitch) % 12) }.count
        print("MEASURE lead \(lead.count) notes over \(fit.bars) bars, in chord \(fit.inChord(lead)), in key \(Double(inKey) / Double(max(1, lead.count)))")
        #expect(lead.count >= 2 * fit.bars, "\(lead.count) lead notes over \(fit.bars) bars")
        #expect(lead.allSatisfy { (60...88).contains($0.pitch) })
        // A melody over the chords, not beside them: the data's own bars have 67% of their notes in the
        // triad read from them; a Lookback RNN with no chord input, 26% over held-out progressions.
        #expect(fit.inChord(lead) >= 0.45, "lead notes in the bar's chord: \(fit.inChord(lead))")
        #expect(Double(inKey) >= 0.8 * Double(lead.count), "lead notes in the key: \(inKey) of \(lead.count)")
    }

    @Test("band: bass and comping follow the chords, the comping re-strikes, the drums keep playing")
    func bandFollowsTheChords() throws {
        let played = try Self.accompany("band-chords.mid", preset: "band")
        let chords = try #require(played.spans["chords"])
        let bass = try #require(played.spans["bass"])
        let keys = try #require(played.spans["keys"])
        let drums = try #require(played.spans["drums"])
        let fit = ChordFit(chords: chords)
        let (bar, bars) = (ChordFit.bar, fit.bars)
        func inChord(_ notes: [NoteSpan]) -> Double { fit.inChord(notes) }
        #expect(bass.count >= bars && keys.count >= bars, "bass \(bass.count), keys \(keys.count) notes over \(bars) bars")
        print("MEASURE bass \(inChord(bass)) keys \(inChord(keys)) bass notes \(bass.count) keys \(keys.count) drums \(drums.count) bars \(bars)")
        #expect(inChord(bass) >= 0.6, "bass notes in the bar's chord: \(inChord(bass))")
        #expect(inChord(keys) >= 0.6, "comping notes in the bar's chord: \(inChord(keys))")
        // On each bar's downbeat the bass sounds the player's new root (the lowest note of their chord): the
        // harmony commits late, with the chord struck on the beat heard. Deciding ahead it played the old
        // root at 10 of 11 changes on this example. And nothing struck and withdrawn: no bass or keys note
        // under 30 ms (25 ticks at the example's 104 bpm).
        let sixteenth = ChordFit.sixteenth
        let (rootOnDownbeat, downbeats) = fit.rootsOnDownbeats(bass)
        print("MEASURE bass root on \(rootOnDownbeat) of \(downbeats) downbeats")
        #expect(downbeats >= 8 && rootOnDownbeat * 10 >= downbeats * 7, "the bass played the root on \(rootOnDownbeat) of \(downbeats) downbeats")
        for (name, notes) in [("bass", bass), ("keys", keys)] {
            let short = notes.filter { $0.end - $0.start < 25 }
            #expect(short.isEmpty, "\(name): \(short.count) notes under 30 ms")
        }
        // The comping plays rhythm, not pads (the onset and hold model re-strikes as the band data does: its
        // chord tracks' notes last 4.2 16ths on average, 3.5% a bar or more; the 8beat style's 4.2 and 2.9%).
        // The sounding-notes model it replaced held its notes 13 to 20 16ths, a third of them a bar or more.
        // Over seeds 1-3, as the held-out measure pools them: each seed draws its own figure, and one may
        // hold its top notes (seed 1 here: 9.3 16ths; seeds 2 and 3: 4.7 and 4.8).
        var lengths: [Double] = [], onsets = 0
        for keysOfSeed in [keys] + (try [2, 3].map { try #require(try Self.accompany("band-chords.mid", preset: "band", seed: $0).spans["keys"]) }) {
            let placed = keysOfSeed.filter { $0.start / bar < bars }
            lengths += placed.map { Double($0.end - $0.start) / Double(sixteenth) }
            onsets += Set(placed.map { ($0.start + sixteenth / 2) / sixteenth }).count
        }
        let meanLength = lengths.reduce(0, +) / Double(max(1, lengths.count))
        let longShare = Double(lengths.filter { $0 >= 16 }.count) / Double(max(1, lengths.count))
        let onsetsPerBar = Double(onsets) / Double(3 * bars)
        print("MEASURE keys mean length \(meanLength) 16ths, a bar or more \(longShare), onsets per bar \(onsetsPerBar)")
        #expect(meanLength < 6.5, "keys notes last \(meanLength) 16ths on average")
        #expect(longShare < 0.1, "\(longShare) of the keys notes last a bar or more")
        #expect(onsetsPerBar >= 2.5, "\(onsetsPerBar) keys onsets per bar")
        // Drums on channel 10 in most bars.
        #expect(drums.allSatisfy { $0.channel == 9 })
        let drumBars = Set(drums.map { $0.start / bar }.filter { $0 < bars })
        #expect(drumBars.count >= bars * 3 / 4, "drums in \(drumBars.count) of \(bars) bars")
    }

    /// One transformer plays the band (presets/band-transformer.yaml): its bass and keys follow the chords
    /// and the drums keep the bars, as the three-model band's do.
    @Test("band-transformer: one model's bass, keys and drums follow the chords")
    func bandTransformerFollowsTheChords() throws {
        let played = try Self.accompany("band-chords.mid", preset: "band-transformer")
        let chords = try #require(played.spans["chords"])
        let bass = try #require(played.spans["bass"]), keys = try #require(played.spans["keys"]), drums = try #require(played.spans["drums"])
        let fit = ChordFit(chords: chords)
        let (bar, sixteenth, bars) = (ChordFit.bar, ChordFit.sixteenth, fit.bars)
        func inChord(_ notes: [NoteSpan]) -> Double { fit.inChord(notes) }
        let (rootOnDownbeat, downbeats) = fit.rootsOnDownbeats(bass)
        let drumBars = Set(drums.map { $0.start / bar }.filter { $0 < bars })
        print("MEASURE band-transformer bass \(inChord(bass)) keys \(inChord(keys)) root \(rootOnDownbeat)/\(downbeats) "
            + "notes bass \(bass.count) keys \(keys.count) drums \(drums.count) in \(drumBars.count) of \(bars) bars")
        #expect(bass.count >= bars && keys.count >= bars, "bass \(bass.count), keys \(keys.count) notes over \(bars) bars")
        #expect(inChord(bass) >= BandTransformerFloor.bassInChord && inChord(keys) >= BandTransformerFloor.keysInChord,
                "in the bar's chord: bass \(inChord(bass)), keys \(inChord(keys))")
        #expect(rootOnDownbeat * 10 >= downbeats * BandTransformerFloor.rootTenths, "bass root on \(rootOnDownbeat) of \(downbeats) downbeats")
        #expect(drums.allSatisfy { $0.channel == 9 } && drumBars.count >= bars * 3 / 4, "drums in \(drumBars.count) of \(bars) bars")
        for (name, notes) in [("bass", bass), ("keys", keys)] {
            #expect(notes.filter { $0.end - $0.start < 25 }.isEmpty, "\(name): a note under 30 ms")
        }
        // Rhythmic comping, not pads and not a strike on every 16th (the data's chord parts: 5.0 16ths, 5.7
        // onsets per bar), over three seeds: one take may hold its chords longer (seed 1: 7.5 16ths, 2 and 3: 4.5).
        var lengths: [Double] = [], onsets = 0
        for seed in 1...3 {
            let take = seed == 1 ? keys : try #require(try Self.accompany("band-chords.mid", preset: "band-transformer", seed: seed).spans["keys"])
            let placed = take.filter { $0.start / bar < bars }
            lengths += placed.map { Double($0.end - $0.start) / Double(sixteenth) }
            onsets += Set(placed.map { ($0.start + sixteenth / 2) / sixteenth }).count
        }
        let meanLength = lengths.reduce(0, +) / Double(max(1, lengths.count))
        let onsetsPerBar = Double(onsets) / Double(3 * bars)
        print("MEASURE band-transformer keys mean length \(meanLength) 16ths, onsets per bar \(onsetsPerBar)")
        #expect(meanLength < 7 && onsetsPerBar >= 4 && onsetsPerBar <= 10, "keys: \(meanLength) 16ths long, \(onsetsPerBar) onsets per bar")
    }

    /// The player's chord in each bar of examples/band-chords.mid (480 ticks per quarter, 4/4), and a band's
    /// notes measured against it.
    struct ChordFit {
        static let bar = 4 * 480, sixteenth = 120
        let chords: [NoteSpan]
        let bars: Int
        /// Pitch classes the player plays in each bar.
        let harmony: [Set<Int>]

        init(chords: [NoteSpan]) {
            self.chords = chords
            let bars = (chords.map(\.end).max() ?? 0) / Self.bar
            self.bars = bars
            harmony = (0..<bars).map { b in Set(chords.filter { $0.start / Self.bar == b }.map { Int($0.pitch) % 12 }) }
        }

        /// The share of notes (starting within the player's bars) in their bar's chord.
        func inChord(_ notes: [NoteSpan]) -> Double {
            let placed = notes.filter { $0.start / Self.bar < bars }
            guard !placed.isEmpty else { return 0 }
            return Double(placed.filter { harmony[$0.start / Self.bar].contains(Int($0.pitch) % 12) }.count) / Double(placed.count)
        }

        /// Downbeats after the first where the bass sounds the root of the chord struck on it (its lowest
        /// note), of the downbeats with a chord struck.
        func rootsOnDownbeats(_ bass: [NoteSpan]) -> (played: Int, downbeats: Int) {
            var played = 0, downbeats = 0
            for b in 1..<bars {
                let t = b * Self.bar, half = Self.sixteenth / 2
                guard let root = chords.filter({ abs($0.start - t) < half }).map(\.pitch).min() else { continue }
                downbeats += 1
                let sounding = bass.filter { $0.start <= t + half && $0.end > t + half }.map(\.pitch).min()
                if let sounding, sounding % 12 == root % 12 { played += 1 }
            }
            return (played, downbeats)
        }
    }

    /// What the band transformer must keep on examples/band-chords.mid (seed 1), a little under what it
    /// played when it shipped: every bass and keys note in the bar's chord, the root on 10 of 10 downbeats.
    enum BandTransformerFloor {
        static let bassInChord = 0.9
        static let keysInChord = 0.9
        static let rootTenths = 8
    }

    /// The style makes the groove: in 8beat the drums keep straight eighths with the backbeat on the snare,
    /// in swing the off-beat eighths fall on the triplet (two thirds of the beat, the data's feel), and the
    /// bossa nova is played on the side stick and hand percussion, not the kit's snare.
    @Test("band: each style plays its own groove and feel")
    func bandStylesHaveTheirGrooves() throws {
        let ticksPerSixteenth = 120.0
        func drums(_ style: String) throws -> [NoteSpan] {
            try #require(try Self.accompany("band-chords.mid", preset: "band", style: style).spans["drums"])
        }
        /// Where the onsets between beats fall, as a share of the beat (0.5: straight; 0.67: the triplet).
        func offBeatPlaces(_ notes: [NoteSpan]) -> [Double] {
            notes.map { (Double($0.start) / ticksPerSixteenth / 4).truncatingRemainder(dividingBy: 1) }.filter { $0 > 0.1 && $0 < 0.9 }
        }
        let straight = offBeatPlaces(try drums("8beat")), swung = offBeatPlaces(try drums("swing"))
        let triplet = { (places: [Double]) in Double(places.filter { abs($0 - 2.0 / 3) < 0.04 }.count) / Double(max(1, places.count)) }
        let eighth = { (places: [Double]) in Double(places.filter { abs($0 - 0.5) < 0.04 }.count) / Double(max(1, places.count)) }
        print("MEASURE off-beat onsets: 8beat \(eighth(straight)) on the eighth, swing \(triplet(swung)) on the triplet")
        #expect(eighth(straight) > 0.8 && triplet(straight) < 0.05, "8beat's off-beats: \(eighth(straight)) on the 8th")
        #expect(triplet(swung) > 0.6 && eighth(swung) < 0.2, "swing's off-beats: \(triplet(swung)) on the triplet")
        let bossa = try drums("bossanova")
        let share = { (notes: [NoteSpan], pitches: Set<UInt8>) in Double(notes.filter { pitches.contains($0.pitch) }.count) / Double(max(1, notes.count)) }
        let rock = try drums("8beat")
        #expect(share(bossa, [37]) > 0.1 && share(rock, [37]) < 0.02, "side stick: bossa \(share(bossa, [37])), 8beat \(share(rock, [37]))")
        #expect(share(rock, [38, 40]) > 0.1 && share(bossa, [38, 40]) < 0.02, "snare: 8beat \(share(rock, [38, 40])), bossa \(share(bossa, [38, 40]))")
    }

    /// A style learned in another bar than the song's is played cut to the song's bar, and `accompany`
    /// says so (a waltz under a 4/4 song); a style in the song's bar plays without a word.
    @Test("band: a style in another meter is played, with a warning")
    func aStyleInAnotherMeterIsWarnedAbout() throws {
        let root = try #require(CLI.packageRoot())
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("sideman-meter-\(getpid()).mid").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        func run(_ style: String) throws -> (status: Int32, stderr: String) {
            let r = try Program.sideman(["accompany", root.appendingPathComponent("examples/band-chords.mid").path, "-o", out,
                                         "--preset", root.appendingPathComponent("presets/band.yaml").path, "--style", style])
            return (r.status, r.stderr)
        }
        let waltz = try run("waltz"), swing = try run("swing")
        #expect(waltz.status == 0 && waltz.stderr.contains("warning: style waltz was learned in bars of 12 16ths; the band plays in 4/4"), "\(waltz.stderr)")
        #expect(swing.status == 0 && !swing.stderr.contains("warning"), "\(swing.stderr)")
        // doctor says the same of a preset whose performance.style does not fit its meter (a user's copy of
        // the band preset starting in a waltz, found in $XDG_CONFIG_HOME/sideman).
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("sideman-meter-config-\(getpid())")
        defer { try? FileManager.default.removeItem(at: config) }
        try FileManager.default.createDirectory(at: config.appendingPathComponent("sideman"), withIntermediateDirectories: true)
        let band = try String(contentsOf: root.appendingPathComponent("presets/band.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "model: band/", with: "model: \(root.appendingPathComponent("presets").path)/band/")
            .replacingOccurrences(of: "  style: 8beat\n", with: "  style: waltz\n")
        try band.write(to: config.appendingPathComponent("sideman/waltzing.yaml"), atomically: true, encoding: .utf8)
        let doctor = try Program.sideman(["doctor"], environment: ["XDG_CONFIG_HOME": config.path])
        let line = doctor.stdout.split(separator: "\n").first { $0.contains("preset waltzing") }
        #expect(line?.contains("performance.style waltz was learned in bars of 12 16ths") == true, "\(doctor.stdout)")
        #expect(!doctor.stdout.contains("preset band:"), "the shipped band preset fits its meter")
    }

    /// The JSB models ship for the benchmark: each meets its target on the valid split (the withheld test
    /// split is measured elsewhere), and every folder of shipped weights stays well under 20 MB.
    @Test("jsb: the frame models meet their targets on valid; shipped weights stay small")
    func jsbModelsMeetTheirTargets() throws {
        let root = try #require(CLI.packageRoot())
        for folder in ["band", "band-transformer", "chorale", "folk", "groove", "jsb"] {
            let url = root.appendingPathComponent("presets/\(folder)")
            let bytes = try FileManager.default.contentsOfDirectory(atPath: url.path).filter { $0.hasSuffix(".safetensors") }
                .reduce(0) { $0 + ((try FileManager.default.attributesOfItem(atPath: url.appendingPathComponent($1).path)[.size] as? Int) ?? 0) }
            #expect(bytes > 0 && bytes < 16_000_000, "presets/\(folder): \(bytes) bytes of weights")
        }
        guard let data = Corpora.folder() else {
            print(Corpora.skipReason)
            return
        }
        // The transformer's is issue 15's target (it shipped at 4.573).
        for (model, target) in [("frame-model", 5.5), ("sigmoid-conv", 8.0), ("frame-transformer", 4.6)] {
            let nll = try Self.validNLL("jsb/\(model)", "\(data)/jsb/pianoroll-quarter.valid.json", key: "frame_nll")
            #expect(nll > 3 && nll <= target, "\(model): frame NLL \(nll), target \(target)")
        }
    }

    /// A shipped model's NLL on a validation file, as `sideman eval --json` reports it under `key`.
    static func validNLL(_ model: String, _ data: String, key: String, precision: String? = nil) throws -> Double {
        let root = try #require(CLI.packageRoot())
        let run = try Program.sideman(["eval", "--model", root.appendingPathComponent("presets/\(model).safetensors").path,
                                       "--data", data, "--json"] + (precision.map { ["--precision", $0] } ?? []))
        #expect(run.status == 0, "\(run.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        return try #require(object[key] as? Double)
    }

    /// The notes of a shipped call-and-response preset's four-bar answer to examples/twinkle.mid.
    static func answerToTwinkle(preset: String, seed: Int) throws -> [NoteSpan] {
        let root = try #require(CLI.packageRoot())
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("sideman-\(preset)-\(seed)-\(getpid()).mid").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let run = try Program.sideman(["continue", root.appendingPathComponent("examples/twinkle.mid").path, "-o", out,
                                       "--preset", root.appendingPathComponent("presets/\(preset).yaml").path, "--bars", "4",
                                       "--seed", "\(seed)"])
        #expect(run.status == 0, "\(run.stderr)")
        let file = try MIDIFileReader.read(path: out).file
        return try #require(file.tracks.first { $0.name == "answer" }).noteSpans()
    }

    /// The player's last notes in the file: twinkle's last two bars, F F E E D D C, in C major.
    @Test("folk-variation: the answer is a variation of the last bars, on the next downbeat, in the key")
    func folkVariationAnswersWithAVariation() throws {
        let phraseClasses: Set<Int> = [0, 2, 4, 5]
        let major: Set<Int> = [0, 2, 4, 5, 7, 9, 11]
        var inKey = 0, shared = 0, count = 0
        for seed in 1...3 {
            let answer = try Self.answerToTwinkle(preset: "folk-variation", seed: seed)
            #expect(answer.count >= 4, "seed \(seed): \(answer.count) notes")
            // The file ends on bar 12's downbeat (tick 23040): the answer starts there, humanized by a few ms.
            let first = try #require(answer.map(\.start).min())
            #expect(abs(first - 23040) <= 8, "seed \(seed): the answer starts at tick \(first)")
            #expect(answer.allSatisfy { (55...93).contains(Int($0.pitch)) && $0.end <= 23040 + 4 * 1920 })
            count += answer.count
            inKey += answer.filter { major.contains(Int($0.pitch) % 12) }.count
            shared += answer.filter { phraseClasses.contains(Int($0.pitch) % 12) }.count
        }
        #expect(Double(inKey) >= 0.85 * Double(count), "\(inKey) of \(count) notes in C major")
        // A variation, not another tune: most of its notes are the phrase's own pitch classes.
        #expect(Double(shared) >= 0.6 * Double(count), "\(shared) of \(count) notes on the phrase's pitch classes")
    }

    /// The transformer's answer to twinkle: it comes after the phrase, stays in the fiddle's range and in the
    /// key; and on folk valid the model meets issue 15's 0.68 nats per step (it shipped at 0.6770).
    @Test("folk-transformer: the answer follows the phrase in the key; the model meets its target on valid")
    func folkTransformerAnswersInTheKey() throws {
        let major: Set<Int> = [0, 2, 4, 5, 7, 9, 11]
        var inKey = 0, count = 0
        for seed in 1...3 {
            let answer = try Self.answerToTwinkle(preset: "folk-transformer", seed: seed)
            #expect(answer.count >= 4, "seed \(seed): \(answer.count) notes")
            // The phrase ends at tick 23040 (bar 12); humanizing moves a note by a few ticks at most.
            #expect(answer.allSatisfy { $0.start >= 23040 - 8 && (55...93).contains(Int($0.pitch)) }, "seed \(seed)")
            count += answer.count
            inKey += answer.filter { major.contains(Int($0.pitch) % 12) }.count
        }
        #expect(Double(inKey) >= 0.85 * Double(count), "\(inKey) of \(count) notes in C major")
        guard let data = Corpora.folder() else {
            print(Corpora.skipReason)
            return
        }
        let nll = try Self.validNLL("folk/transformer", "\(data)/folk/valid.jsonl", key: "nll_per_step")
        #expect(nll > 0.3 && nll <= 0.68, "folk valid NLL \(nll), target 0.68")
        // The preset's precision keeps to docs/PRECISION.md's rule: at most 0.1% of the NLL over fp32.
        let cost = try Self.validNLL("folk/transformer", "\(data)/folk/valid.jsonl", key: "precision_cost_nats",
                                     precision: "int8-wide-attention")
        #expect(cost <= 0.001 * nll, "int8-wide-attention costs \(cost) nats per step on \(nll)")
    }

    /// Kick and snare (or side stick) steps of each bar of a groove file, from its nine-class hits.
    static func kickAndSnare(_ path: String) throws -> [(kick: [Int], snare: [Int])] {
        let file = try MIDIFileReader.read(path: path).file
        guard case .ticksPerQuarter(let tpq) = file.division else { return [] }
        let spans = file.tracks.flatMap { $0.noteSpans() }.filter { $0.channel == 9 || file.tracks.count == 1 }
        let bars = (spans.map(\.start).max() ?? 0) / (4 * Int(tpq)) + 1
        return (0..<bars).map { bar in
            func steps(_ notes: Set<UInt8>) -> [Int] {
                spans.filter { notes.contains($0.pitch) && $0.start / (4 * Int(tpq)) == bar }
                    .map { ($0.start % (4 * Int(tpq)) + Int(tpq) / 8) / (Int(tpq) / 4) }.sorted()
            }
            return (steps([35, 36]), steps([37, 38, 40]))
        }
    }

    @Test("groove: the drums MusicVAE gives back both grooves and goes from one to the other")
    func grooveModelInterpolatesBetweenTheGrooves() throws {
        let root = try #require(CLI.packageRoot())
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("sideman-groove-\(getpid()).mid").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let run = try Program.sideman(["interpolate", root.appendingPathComponent("presets/groove/8beat.mid").path,
                                       root.appendingPathComponent("presets/groove/bossanova.mid").path, "-o", out,
                                       "--model", root.appendingPathComponent("presets/groove/drums-vae.safetensors").path, "--steps", "6"])
        #expect(run.status == 0, "\(run.stderr)")
        let bars = try Self.kickAndSnare(out)
        #expect(bars.count == 12)
        // The 8beat: kick on 1 and 3, snare on 2 and 4.
        #expect(bars.first.map { $0.kick.contains(0) && $0.kick.contains(8) && $0.snare == [4, 12] } == true, "\(bars.first!)")
        // The bossa nova: the dotted kick (1, the a of 2, 3, the a of 4).
        #expect(bars.last.map { $0.kick == [0, 6, 8, 14] } == true, "\(bars.last!)")
        // The groove preset starts on the 8beat under the example chords.
        let played = try Self.accompany("band-chords.mid", preset: "groove")
        let drums = try #require(played.spans["drums"])
        #expect(drums.allSatisfy { $0.channel == 9 })
        #expect(drums.filter { $0.start < 1920 && [36, 38].contains($0.pitch) }.count >= 4)
    }

    @Test("doctor finds every shipped preset's models good, the MusicVAEs among them")
    func doctorFindsTheShippedModelsGood() throws {
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("sideman-doctor-models-\(getpid())")
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: config) }
        let doctor = try Program.sideman(["doctor"], environment: ["XDG_CONFIG_HOME": config.path])
        let lines = doctor.stdout.split(separator: "\n")
        #expect(!lines.contains { $0.hasPrefix("fail model") || $0.hasPrefix("fail groove") }, "\(doctor.stdout)")
        #expect(lines.contains { $0.hasPrefix("ok   model folk-variation/answer") && $0.contains("MusicVAE of melody") }, "\(doctor.stdout)")
        #expect(lines.contains { $0.hasPrefix("ok   model groove/drums") && $0.contains("MusicVAE of drums") }, "\(doctor.stdout)")
    }
}
