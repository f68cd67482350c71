import Foundation
import Neural

/// Why a preset's parts could not be built: the model file is missing (`isMissing`) or unusable.
public struct PartLoadError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var problem: String
    public var isMissing: Bool
    public var description: String { "\(path): \(problem)" }
}

/// Builds a preset's parts: loads each model (paths relative to the preset's folder), checks that its
/// vocabulary fits the role, and seeds part k's sampler with the preset's seed + k.
public enum PartLoader {
    public static func parts(for loaded: LoadedPreset) throws(PartLoadError) -> [Part] {
        var parts: [Part] = []
        for (k, settings) in loaded.preset.parts.enumerated() {
            let path = loaded.modelPath(for: settings)
            guard FileManager.default.fileExists(atPath: path) else {
                throw PartLoadError(path: path, problem: "no such model file (parts[\(k)].model)", isMissing: true)
            }
            do {
                let set = try SafeTensors.read(path: path)
                let model = try makeModel(from: set, precision: settings.precision)
                let port = loaded.preset.ports.outputs == .perPart ? k : 0
                parts.append(try Part(
                    settings: settings, model: model, conditioning: try Conditioning(metadata: set.metadata), port: port,
                    seed: loaded.preset.performance.seed &+ UInt64(k)))
            } catch {
                throw PartLoadError(path: path, problem: "\(error.description) (parts[\(k)].model)", isMissing: false)
            }
        }
        return parts
    }
}
