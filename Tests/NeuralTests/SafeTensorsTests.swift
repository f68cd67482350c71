import Foundation
import Testing
@testable import Neural

@Suite struct SafeTensorsTests {
    static func family(_ index: Int) -> any StreamingModel {
        [
        BasicRNN(config: BasicRNNConfig(inputSize: 10, hidden: 7, layers: 2, outputs: 9), seed: 1),
        LookbackRNN(config: LookbackRNNConfig(eventClasses: 6, stepsPerBar: 4, hidden: 5, layers: 1), seed: 2),
        AttentionRNN(config: AttentionRNNConfig(inputSize: 8, hidden: 6, layers: 2, window: 3, outputs: 5), seed: 3),
        ConvPredictor(config: ConvPredictorConfig(inputSize: 9, residual: 4, gate: 3, skip: 5, layersPerStack: 2,
                                                  stacks: 2, headHidden: 6, outputs: 7, head: .multiHot), seed: 4),
        ][index]
    }

    @Test(arguments: 0..<4) func modelRoundTripsThroughAFile(index: Int) throws {
        let model = Self.family(index)
        let folder = temporaryFolder("roundtrip")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("m.safetensors").path
        try SafeTensors.write(model.weights(), path: path)
        let loaded = try loadModel(path: path)
        #expect(loaded.weights() == model.weights())
        #expect(loaded.family == model.family)
        let inputs = randomInputs(12, size: model.inputSize, oneHot: min(model.inputSize, model.outputSize), extra: 0, seed: 5)
        model.reset()
        loaded.reset()
        for x in inputs { #expect(Array(model.step(x)) == Array(loaded.step(x))) }
    }

    @Test func halfAndBFloat16FilesRoundTripWithinTheirPrecision() throws {
        let set = Self.family(0).weights()
        for dtype in [DType.f16, .bf16] {
            let back = try SafeTensors.decode(file: SafeTensors.encode(set, dtype: dtype))
            #expect(back.metadata == set.metadata)
            for (name, t) in set.tensors {
                let worst = maxAbsDifference(t.values, back.tensors[name]!.values)
                #expect(worst < (dtype == .f16 ? 1e-3 : 8e-3), "\(dtype) \(name): \(worst)")
            }
        }
    }

    @Test func metadataAndNamesWithEscapesRoundTrip() throws {
        let set = WeightSet(
            tensors: ["a \"quoted\" \\ name\n": Tensor(shape: [2], values: [1, 2]), "é/ü": Tensor(shape: [0], values: [])],
            metadata: ["note": "tab\there \u{1}", "ключ": "значение"])
        #expect(try SafeTensors.decode(file: SafeTensors.encode(set)) == set)
    }

    @Test func modelRefusesTensorsOfAnotherConfiguration() throws {
        let good = Self.family(0).weights()
        var wrongShape = good
        wrongShape.tensors["head.weight"] = Tensor(shape: [9, 6], repeating: 0)
        wrongShape.tensors["head.bias"] = Tensor(shape: [16], repeating: 0)
        var missing = good
        missing.tensors["weight_hh_l1"] = nil
        var extra = good
        extra.tensors["stray"] = Tensor(shape: [1], values: [0])
        var absurd = good
        absurd.metadata["hidden"] = "60000"
        var unknown = good
        unknown.metadata["family"] = "transformer"
        var text = good
        text.metadata["layers"] = "two"
        for bad in [wrongShape, missing, extra, absurd, unknown, text] {
            #expect(throws: WeightsError.self) { _ = try makeModel(from: bad) }
        }
    }

    // MARK: hostile headers

    /// A valid file with two tensors, as bytes: [len][header][data].
    static func file(header: String, data: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        let h = Array(header.utf8)
        for k in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: UInt64(h.count) >> (8 * UInt64(k)))) }
        return bytes + h + [UInt8](repeating: 0x3F, count: data)
    }

    static let valid = #"{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"b":{"dtype":"F16","shape":[4],"data_offsets":[24,32]},"__metadata__":{"k":"v"}}"#

    @Test func theBaseFileIsValid() throws {
        let set = try SafeTensors.decode(file: Self.file(header: Self.valid, data: 32))
        #expect(set.tensors["a"]?.shape == [2, 3] && set.tensors["b"]?.values.count == 4 && set.metadata == ["k": "v"])
    }

    static let crafted: [(String, Int)] = [
        (#"{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}"#, 32),            // trailing bytes
        (#"{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}"#, 20),            // beyond the data
        (#"{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,28]}}"#, 28),            // span ≠ shape
        (#"{"a":{"dtype":"F33","shape":[2,3],"data_offsets":[0,24]}}"#, 24),            // unknown dtype
        (#"{"a":{"dtype":"f32","shape":[2,3],"data_offsets":[0,24]}}"#, 24),            // dtype case
        (#"{"a":{"dtype":"F32","shape":[2,-3],"data_offsets":[0,24]}}"#, 24),           // negative dim
        (#"{"a":{"dtype":"F32","shape":[2.0,3],"data_offsets":[0,24]}}"#, 24),          // fractional dim
        (#"{"a":{"dtype":"F32","shape":[4294967296,4294967296,4],"data_offsets":[0,24]}}"#, 24), // overflow
        (#"{"a":{"dtype":"F32","shape":[9007199254740993],"data_offsets":[0,24]}}"#, 24), // > 2^53
        (#"{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[24,0]}}"#, 24),            // reversed
        (#"{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0]}}"#, 24),               // one offset
        (#"{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24,48]}}"#, 48),         // three offsets
        (#"{"a":{"dtype":"F32","shape":[2,3]}}"#, 24),                                  // no offsets
        (#"{"a":{"shape":[2,3],"data_offsets":[0,24]}}"#, 24),                          // no dtype
        (#"{"a":{"dtype":"F32","data_offsets":[0,24]}}"#, 24),                          // no shape
        (#"{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24],"x":1}}"#, 24),      // unknown field
        (#"{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"b":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}}"#, 24), // overlap
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}"#, 16),              // gap at start
        (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#, 12), // gap
        (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, 8), // duplicate
        (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, 4), // same span
        (#"{"__metadata__":{"k":1}}"#, 0),                                               // metadata not strings
        (#"{"__metadata__":[]}"#, 0),
        (#"{"a":[]}"#, 0), (#"[]"#, 0), (#""a""#, 0), (#"{"#, 0), (#"{}}"#, 0), (#"{"a":}"#, 0),
        (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},}"#, 4),              // trailing comma
        (#"{'a':1}"#, 0), (#"{"a\u0":1}"#, 0), (#"{"\ud800":1}"#, 0), ("{\"a\n\":1}", 0),
        (#"{"a":{"dtype":"F32","shape":[01],"data_offsets":[0,4]}}"#, 4),              // leading zero
        (String(repeating: "[", count: 5000), 0),                                      // deep nesting
        ("{\"a\":" + String(repeating: "{\"b\":", count: 3000) + "1" + String(repeating: "}", count: 3001), 0),
        (#"{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,1e9]}}"#, 24),
        (#"{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,99999999999999999999]}}"#, 24),
    ]

    @Test func craftedHeadersAreRejected() {
        for (k, (header, data)) in Self.crafted.enumerated() {
            #expect(throws: WeightsError.self, "case \(k): \(header.prefix(80))") {
                _ = try SafeTensors.decode(file: Self.file(header: header, data: data))
            }
        }
    }

    @Test func absurdHeaderLengthsAreRejectedWithoutAllocating() {
        let body = Array(Self.valid.utf8) + [UInt8](repeating: 0, count: 32)
        for length: UInt64 in [0, 1, UInt64(body.count) + 1, 100_000_001, 1 << 40, UInt64.max, 1 << 63] {
            var bytes: [UInt8] = []
            for k in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: length >> (8 * UInt64(k)))) }
            #expect(throws: WeightsError.self, "length \(length)") { _ = try SafeTensors.decode(file: bytes + body) }
        }
        for short in 0..<8 {
            #expect(throws: WeightsError.self) { _ = try SafeTensors.decode(file: [UInt8](repeating: 1, count: short)) }
        }
    }

    /// Hundreds of random corruptions of a real model file: each must decode to a consistent set or throw
    /// WeightsError; none may crash. Every corruption of the length prefix or a structural header byte that
    /// breaks the layout is caught by validation.
    @Test func mutatedFilesNeverCrash() {
        let original = SafeTensors.encode(Self.family(2).weights())
        let headerLength = Int(original[0]) | Int(original[1]) << 8 | Int(original[2]) << 16
        var rng = SeededRandom(seed: 77)
        var rejected = 0, accepted = 0
        let interesting: [UInt8] = Array("{}[]\":,0123456789-eE. \\u".utf8) + [0, 0xFF, 0x80]
        for trial in 0..<600 {
            var bytes = original
            let edits = 1 + Int(rng.next() % 4)
            for _ in 0..<edits {
                switch rng.next() % 6 {
                case 0:  // a byte of the length prefix
                    bytes[Int(rng.next() % 8)] = UInt8(truncatingIfNeeded: rng.next())
                case 1, 2:  // a header byte → a JSON-significant character
                    bytes[8 + Int(rng.next() % UInt64(headerLength))] = interesting[Int(rng.next() % UInt64(interesting.count))]
                case 3:  // a random header byte
                    bytes[8 + Int(rng.next() % UInt64(headerLength))] = UInt8(truncatingIfNeeded: rng.next())
                case 4:  // truncate
                    bytes.removeLast(Int(rng.next() % UInt64(min(bytes.count, 64))) + 1)
                default:  // insert a digit into the header (shifts every offset after it)
                    let at = 8 + Int(rng.next() % UInt64(headerLength))
                    bytes.insert(UInt8(ascii: "1"), at: min(at, bytes.count))
                }
            }
            do {
                let set = try SafeTensors.decode(file: bytes)
                for t in set.tensors.values { #expect(t.shape.reduce(1, *) == t.values.count) }
                if (try? makeModel(from: set)) != nil { accepted += 1 } else { rejected += 1 }
            } catch {
                rejected += 1
            }
            _ = trial
        }
        #expect(rejected > 500, "only \(rejected) of 600 corruptions were refused")
        #expect(rejected + accepted == 600)
    }

    @Test func missingAndUnreadableFilesAreErrorsNotCrashes() {
        #expect(throws: WeightsError.self) { _ = try SafeTensors.read(path: "/nonexistent/m.safetensors") }
        #expect(throws: WeightsError.self) { _ = try SafeTensors.read(path: "/") }
        let folder = temporaryFolder("empty")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("e.safetensors").path
        FileManager.default.createFile(atPath: path, contents: Data())
        #expect(throws: WeightsError.self) { _ = try SafeTensors.read(path: path) }
    }
}
