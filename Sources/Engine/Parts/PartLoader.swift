import Files
import MIDI
import Music
import Neural

/// Why a preset's parts could not be built: the model file cannot be read (`cannotRead`: it is missing, or a
/// FIFO, device or socket, which is never opened) or its contents are unusable.
public struct PartLoadError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var problem: String
    public var cannotRead: Bool
    public var description: String { "\(path): \(problem)" }
}

/// Builds a preset's parts: loads each model (paths relative to the preset's folder), checks that its
/// vocabulary fits the role, and seeds part k's sampler with the preset's seed + k. Parts that name the same
/// band model (`frame_layout: ensemble`) share one model and one BandDecoder.
public enum PartLoader {
    /// The place of a groove file's first phrase (its drums: channel 10, or its first track with notes when
    /// none is on channel 10) in the MusicVAE's latent space.
    static func grooveLatent(_ path: String, vae: MusicVAE, part k: Int, key: String) throws(PartLoadError) -> [Float] {
        let file: MIDIFile
        do { file = try MIDIFileReader.read(path: path).file } catch {
            let unreadable: Bool = if case .unreadable = error { true } else { false }
            throw PartLoadError(path: path, problem: "\(error.description.dropFirst(path.count + 2)) (parts[\(k)].groove.\(key))",
                                cannotRead: unreadable)
        }
        guard case .ticksPerQuarter(let tpq) = file.division else {
            throw PartLoadError(path: path, problem: "uses SMPTE time; a groove needs ticks per quarter note (parts[\(k)].groove.\(key))",
                                cannotRead: false)
        }
        let spans = file.tracks.flatMap { $0.noteSpans() }
        let drums = spans.contains { $0.channel == 9 } ? spans.filter { $0.channel == 9 } : spans
        let line = Phrases.drumLine(drums, ticksPerQuarter: Int(tpq))
        guard line.contains(where: { $0 != 0 }) else {
            throw PartLoadError(path: path, problem: "has no drum hits (parts[\(k)].groove.\(key))", cannotRead: false)
        }
        let phrase = (0..<vae.config.steps).map { $0 < line.count ? line[$0] : 0 }
        return vae.posterior(of: phrase).mu
    }

    public static func parts(for loaded: LoadedPreset) throws(PartLoadError) -> [Part] {
        var parts: [Part] = []
        var bands: [String: BandDecoder] = [:]
        // Groove drummers are built once their models load: their groove files are read apart, so a bad
        // one is named as itself.
        var grooves: [(index: Int, vae: MusicVAE, groove: GrooveSettings, port: Int, seed: UInt64)] = []
        for (k, settings) in loaded.preset.parts.enumerated() {
            let path = loaded.modelPath(for: settings)
            do { try InputFile.check(path) } catch {
                let problem = error.kind == .missing ? "no such model file" : error.problem
                throw PartLoadError(path: path, problem: "\(problem) (parts[\(k)].model)", cannotRead: true)
            }
            do throws(WeightsError) {
                let set = try SafeTensors.read(path: path)
                let seed = loaded.preset.performance.seed &+ UInt64(k)
                let port = loaded.preset.ports.outputs == .perPart ? k : 0
                if MidiNetConfig.describes(set.metadata) {
                    let net = try MidiNet(set)
                    let meter = loaded.preset.transport.meter
                    guard meter.stepsPerBar == net.config.stepsPerBar else {
                        throw WeightsError("is a MidiNet of \(net.config.stepsPerBar)-step bars; transport.meter is \(meter.beats)/\(meter.beatUnit)")
                    }
                    parts.append(try Part(settings: settings, lead: net, port: port, seed: seed))
                    continue
                }
                if MusicVAEConfig.describes(set.metadata) {
                    // A MusicVAE learned bars of 16 steps: its phrases start on the player's downbeats.
                    let meter = loaded.preset.transport.meter
                    guard meter.stepsPerBar == Phrases.stepsPerBar else {
                        throw WeightsError("is a MusicVAE of \(Phrases.stepsPerBar)-step bars; transport.meter is \(meter.beats)/\(meter.beatUnit)")
                    }
                    let vae = try MusicVAE(set)
                    if vae.config.content == .drums, let groove = settings.groove {
                        grooves.append((parts.count, vae, groove, port, seed))
                    } else {
                        guard vae.config.content == .melody else {
                            throw WeightsError("is a MusicVAE of drum grooves; give the drums part a groove: from and to, the grooves it moves between")
                        }
                        parts.append(try Part(settings: settings, variation: vae, port: port, seed: seed))
                    }
                    continue
                }
                let layout = try FrameLayout(metadata: set.metadata)
                let conditioning = try Conditioning(metadata: set.metadata)
                let shared = layout == .ensemble ? bands[path] : nil
                let model: any StreamingModel
                if let shared { model = shared.model } else { model = try makeModel(from: set, precision: settings.precision) }
                let band = layout == .ensemble ? shared ?? BandDecoder(model: model, conditioning: conditioning, seed: seed) : nil
                if let band { bands[path] = band }
                parts.append(try Part(
                    settings: settings, model: model, conditioning: conditioning,
                    styles: try conditioning?.styleNames(metadata: set.metadata) ?? [], frameLayout: layout, port: port,
                    seed: seed, band: band))
                if let text = set.metadata[StyleTiming.metadataKey] {
                    guard let timing = StyleTiming.parse(text) else {
                        throw WeightsError("metadata \(StyleTiming.metadataKey) is not name=offset,offset,... joined by ; (offsets under a step)")
                    }
                    parts[parts.count - 1].styleTiming = timing
                }
                if let text = set.metadata[DrumStyleSignature.metadataKey] {
                    guard let signatures = DrumStyleSignature.parse(text) else {
                        throw WeightsError("metadata \(DrumStyleSignature.metadataKey) is not name=steps|hit:share,... joined by ;")
                    }
                    parts[parts.count - 1].styleBars = signatures.mapValues(\.stepsPerBar)
                }
            } catch {
                throw PartLoadError(path: path, problem: "\(error.description) (parts[\(k)].model)", cannotRead: false)
            }
        }
        for g in grooves.reversed() {
            let k = g.index, settings = loaded.preset.parts[k]
            let from = try grooveLatent(loaded.path(of: g.groove.from), vae: g.vae, part: k, key: "from")
            let to = try grooveLatent(loaded.path(of: g.groove.to), vae: g.vae, part: k, key: "to")
            do throws(WeightsError) {
                parts.insert(try Part(settings: settings, groove: g.vae, from: from, to: to, port: g.port, seed: g.seed), at: k)
            } catch {
                throw PartLoadError(path: loaded.modelPath(for: settings), problem: "\(error.description) (parts[\(k)].model)", cannotRead: false)
            }
        }
        if let style = loaded.preset.performance.style {
            let bank = StyleBank(parts: parts.map(\.styles))
            guard bank.number(of: style) != nil else {
                let known = bank.isEmpty ? "its models learned no styles" : "its models learned \(bank.names.count): \(bank.names.joined(separator: ", "))"
                throw PartLoadError(path: loaded.path, problem: "performance.style = \(style) is not a style of this preset (\(known))", cannotRead: false)
            }
        }
        return parts
    }
}
