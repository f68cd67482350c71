import Foundation
import Testing

@testable import Neural

/// What a weights file's values may be: finite (a NaN or infinity is refused, naming the tensor and the
/// element), and normal or zero (subnormals are flushed at load).
@Suite struct WeightValuesTests {
    static let base = BasicRNN(config: BasicRNNConfig(inputSize: 6, hidden: 8, layers: 1, outputs: 5), seed: 3).weights()

    /// The tiny model's weights with `value` at `element` of `tensor`.
    static func weights(_ tensor: String, _ element: Int, _ value: Float) -> WeightSet {
        var set = base
        set.tensors[tensor]!.values[element] = value
        return set
    }

    static func refusal(_ bytes: [UInt8]) -> String? {
        do {
            _ = try SafeTensors.decode(file: bytes)
            return nil
        } catch {
            return error.description
        }
    }

    @Test(arguments: [DType.f32, .f16, .bf16])
    func aNaNOrAnInfinityIsRefusedNamingTheTensorAndElement(dtype: DType) {
        let cases: [(String, Int, Float, String)] = [
            ("head.bias", 3, .nan, "tensor head.bias has a NaN at element 3"),
            ("weight_hh_l0", 17, .infinity, "tensor weight_hh_l0 has +Inf at element 17"),
            ("weight_ih_l0", 0, -.infinity, "tensor weight_ih_l0 has -Inf at element 0"),
        ]
        for (tensor, element, value, expected) in cases {
            #expect(Self.refusal(SafeTensors.encode(Self.weights(tensor, element, value), dtype: dtype)) == expected, "\(dtype)")
        }
    }

    @Test func onlyTheFirstBadElementIsNamed() {
        var set = Self.base
        set.tensors["head.weight"]!.values[5] = .nan
        set.tensors["head.weight"]!.values[9] = .infinity
        #expect(Self.refusal(SafeTensors.encode(set)) == "tensor head.weight has a NaN at element 5")
    }

    @Test func subnormalsLoadAsZeroAndNeighboursAsTheyWere() throws {
        let tiny = Float.leastNormalMagnitude / 4
        #expect(tiny.isSubnormal)
        let set = Self.weights("weight_hh_l0", 11, -tiny)
        let loaded = try SafeTensors.decode(file: SafeTensors.encode(set))
        let values = loaded.tensors["weight_hh_l0"]!.values
        #expect(values[11] == 0)
        #expect(values[10] == set.tensors["weight_hh_l0"]!.values[10])
        #expect(loaded.tensors.values.allSatisfy { $0.values.allSatisfy { !$0.isSubnormal } })
        // The model built from it steps to finite outputs.
        let model = try makeModel(from: loaded)
        let output = Array(model.step(FeatureList(oneHot: 1)))
        #expect(output.allSatisfy { $0.isFinite })
    }

    @Test func aFileOnDiskWithANaNIsRefusedByReadAndLoadModel() throws {
        let folder = temporaryFolder("nan")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("m.safetensors").path
        try SafeTensors.write(Self.weights("bias_hh_l0", 2, .nan), path: path)
        #expect(throws: WeightsError("tensor bias_hh_l0 has a NaN at element 2")) { _ = try loadModel(path: path) }
    }

    @Test func aFIFOIsRefusedWithoutBeingOpened() throws {
        let folder = temporaryFolder("fifo")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("m.safetensors").path
        try #require(mkfifo(path, 0o644) == 0)
        #expect(throws: WeightsError("is a FIFO, not a regular file")) { _ = try SafeTensors.read(path: path) }
    }

    @Test func anInt8RowOfTinyWeightsGetsANormalScale() {
        let m = Matrix(rows: 2, columns: 3)
        m.load(rowMajor: [1e-37, -2e-37, 0, 0.5, -1, 0.25])
        m.prepare(.int8)
        let scales = (0..<2).map { m.quantized!.scales[$0] }
        #expect(scales.allSatisfy { $0.isNormal }, "\(scales)")
        #expect(scales[1] == 1.0 / 127)
    }
}
