import Engine
import Foundation
import Neural
import Testing
import TestSupport

/// 10^4 mutated presets and 10^4 mutated weight files. Most go through the library calls the CLI makes
/// (`PresetReader.read`, `SafeTensors.decode` + `makeModel`), in process, for speed; a few hundred of the
/// rejected ones go through the real binary, which must exit 65 with one line naming the file.
/// A mutation may leave a file valid (a changed comment, a float in the tensor data): such a file must
/// load; everything else must be rejected with the data-error type, never crash or escape as another error.
@Suite(.serialized)
struct RobustnessMutationTests {
    static let mutations = 10_000
    static let throughBinary = 200

    static var scratch: URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sideman-mutations-\(getpid())")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// Values that have broken YAML readers before: types, anchors, tags, huge and odd numbers.
    static let nastyTokens = [
        "-1", "99999999999999999999999", "~", "[", "{", "]", "}", "!!binary AA==", "&a", "*a", "1e999", ".nan",
        "true", "\"", "'", ":", "- ", "?", "|", ">", "\t", "0x7f", "-0", "+5", "1/0", "4/0", "0/4", "per-part", "single",
        "follow", "clock", "\u{0}", "\u{FEFF}", "💥", String(repeating: "a", count: 300), "null", "[[[[[[[[", "{a: {b: {c:",
    ]

    static let bandPreset = """
        name: band
        ports:
          client_name: band
          outputs: per-part
        transport:
          source: follow
          bpm: 96
          meter: 3/4
        thru:
          enabled: false
          channel: 2
          transpose: -12
        controls:
          panic: 24
          learn: off
        parts:
          - name: bass
            role: bass
            model: bass.safetensors
            channel: 2
          - name: drums
            role: drums
            model: drums.safetensors
            channel: 10

        """

    static func mutate(_ text: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var bytes = text
        for _ in 0..<(1 + Int(rng.next() % 3)) {
            guard !bytes.isEmpty else { bytes = [UInt8(rng.next() & 0xFF)]; continue }
            let at = Int(rng.next() % UInt64(bytes.count))
            let length = min(bytes.count - at, 1 + Int(rng.next() % 12))
            switch rng.next() % 7 {
            case 0: bytes[at] = UInt8(rng.next() & 0xFF)
            case 1: bytes.removeSubrange(at..<at + length)
            case 2: bytes.insert(contentsOf: bytes[at..<at + length], at: Int(rng.next() % UInt64(bytes.count)))
            case 3: bytes.insert(contentsOf: (0..<length).map { _ in UInt8(rng.next() & 0xFF) }, at: at)
            case 4: bytes.removeSubrange(at...)
            case 5:
                // A value token replaced: the text after a ": " up to the line's end.
                let token = Array(nastyTokens[Int(rng.next() % UInt64(nastyTokens.count))].utf8)
                let colon = bytes[at...].firstIndex(of: UInt8(ascii: ":")) ?? at
                let end = bytes[colon...].firstIndex(of: 0x0A) ?? bytes.count
                bytes.replaceSubrange(min(colon + 1, end)..<end, with: [0x20] + token)
            default:
                // Indentation shifted on one line.
                let lineStart = (bytes[..<at].lastIndex(of: 0x0A)).map { $0 + 1 } ?? 0
                if rng.next() % 2 == 0 { bytes.insert(contentsOf: [0x20, 0x20, 0x20], at: lineStart) } else if bytes[lineStart] == 0x20 {
                    bytes.remove(at: lineStart)
                }
            }
        }
        return bytes
    }

    /// No JACK server may be started or reached by the binary runs (a mutant that loads must still fail fast).
    static let noJack = ["JACK_NO_START_SERVER": "1", "JACK_DEFAULT_SERVER": "sideman-none-\(getpid())"]

    @Test func mutatedPresetsAreRejectedWithExit65OrStillValid() throws {
        let defaultText = try String(contentsOf: TestPaths.packageRoot.appendingPathComponent("presets/thru.yaml"), encoding: .utf8)
        let bases = [Array(defaultText.utf8), Array(Self.bandPreset.utf8)]
        for base in bases { _ = try PresetReader.read(yaml: String(decoding: base, as: UTF8.self), defaultName: "base") }
        var rng = SplitMix64(seed: 0x5EED_7)
        var rejected: [[UInt8]] = []
        var valid = 0
        var otherErrors: [String] = []
        for index in 0..<Self.mutations {
            let bytes = Self.mutate(bases[index % 2], &rng)
            // The locator refuses bytes that are not UTF-8 as invalid (65), as it does a bad value.
            guard let text = String(validating: bytes, as: UTF8.self) else {
                rejected.append(bytes)
                continue
            }
            do {
                _ = try PresetReader.read(yaml: text, defaultName: "mutant")
                valid += 1
            } catch is PresetError {
                rejected.append(bytes)
            } catch {
                otherErrors.append("\(type(of: error)): \(error)")
            }
        }
        print("presets: \(Self.mutations) mutations, \(rejected.count) rejected, \(valid) still valid")
        #expect(otherErrors.isEmpty, "errors other than PresetError (would exit 70): \(otherErrors.prefix(3))")
        #expect(rejected.count > Self.mutations / 2, "the mutations should mostly break the preset")

        let folder = Self.scratch.appendingPathComponent("presets")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for (index, bytes) in rejected.prefix(Self.throughBinary).enumerated() {
            let path = folder.appendingPathComponent("mutant\(index).yaml").path
            FileManager.default.createFile(atPath: path, contents: Data(bytes))
            let run = try Program.sideman(["run", "--backend", "jack", "--preset", path], environment: Self.noJack)
            let (status, lines) = (run.status, run.stderrLines)
            #expect(status == 65, "\(path): exit \(status): \(lines)")
            #expect(lines.count == 1 && lines[0].hasPrefix("sideman: \(path): "), "\(path): \(lines)")
        }
    }

    @Test func mutatedWeightFilesAreRejectedWithExit65OrStillValid() throws {
        let model = BasicRNN(config: BasicRNNConfig(inputSize: 6, hidden: 8, layers: 1, outputs: 5), seed: 3)
        let base = SafeTensors.encode(model.weights())
        _ = try makeModel(from: SafeTensors.decode(file: base))
        let headerEnd = 8 + (0..<8).reduce(0) { $0 | Int(base[$1]) << (8 * $1) }
        var rng = SplitMix64(seed: 0xBAD_F11E)
        var rejected: [[UInt8]] = []
        var valid = 0
        for _ in 0..<Self.mutations {
            var bytes = base
            // Mostly the header (where a mutation means something), sometimes the size field, the
            // file's length or the tensor data.
            switch rng.next() % 6 {
            case 0: bytes[Int(rng.next() % 8)] = UInt8(rng.next() & 0xFF)
            case 1: bytes.removeSubrange(Int(rng.next() % UInt64(bytes.count))...)
            case 2: bytes += (0..<(1 + rng.next() % 64)).map { _ in UInt8(rng.next() & 0xFF) }
            case 3: bytes[headerEnd + Int(rng.next() % UInt64(bytes.count - headerEnd))] ^= UInt8(1 + rng.next() % 255)
            default:
                let header = Array(bytes[8..<headerEnd])
                var mutated = Self.mutate(header, &rng)
                if rng.next() % 2 == 0 { mutated = Array(String(decoding: mutated, as: UTF8.self).utf8) }
                let size = UInt64(mutated.count)
                bytes = (0..<8).map { UInt8((size >> (8 * UInt64($0))) & 0xFF) } + mutated + bytes[headerEnd...]
            }
            // Typed throws: anything thrown here is a WeightsError, which the CLI maps to 65.
            do {
                _ = try makeModel(from: SafeTensors.decode(file: bytes))
                valid += 1
            } catch {
                rejected.append(bytes)
            }
        }
        print("weights: \(Self.mutations) mutations, \(rejected.count) rejected, \(valid) still valid")
        #expect(rejected.count > Self.mutations / 2, "the mutations should mostly break the file")

        let folder = Self.scratch.appendingPathComponent("weights")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for (index, bytes) in rejected.prefix(Self.throughBinary).enumerated() {
            let path = folder.appendingPathComponent("mutant\(index).safetensors").path
            FileManager.default.createFile(atPath: path, contents: Data(bytes))
            let run = try Program.sideman(
                ["bench", "--model", path, "--steps", "1", "--warmup", "0", "--cold-steps", "0"], environment: Self.noJack)
            let (status, lines) = (run.status, run.stderrLines)
            #expect(status == 65, "\(path): exit \(status): \(lines)")
            #expect(lines.count == 1 && lines[0].hasPrefix("sideman: \(path): "), "\(path): \(lines)")
        }
    }
}
