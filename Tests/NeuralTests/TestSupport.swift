import Foundation
import TestSupport
@testable import Neural

/// The folder holding Package.swift, found by walking up from this file.
let packageRoot: URL = {
    var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    while url.path != "/" {
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        url.deleteLastPathComponent()
    }
    return url
}()

/// benchmarks/reference: the numpy reference models (and their onnxruntime benchmark).
let referenceFolder = packageRoot.appendingPathComponent("benchmarks/reference")

/// Runs a program and returns its exit status and combined output.
func runProgram(_ path: String, _ arguments: [String]) -> (status: Int32, output: String) {
    guard let run = try? Program.run(path, arguments, mergeOutput: true) else { return (-1, "cannot run \(path)") }
    return (run.status, run.stdout)
}

/// A python3 that can import numpy (the PATH one first, then the system one), or nil.
let numpyPython: String? = {
    for candidate in [["/usr/bin/env", "python3"], ["/usr/bin/python3"]] {
        let result = runProgram(candidate[0], Array(candidate.dropFirst()) + ["-c", "import numpy"])
        if result.status == 0 { return candidate.joined(separator: " ") }
    }
    return nil
}()

func runPython(_ script: String, _ arguments: [String]) -> (status: Int32, output: String) {
    let parts = numpyPython!.split(separator: " ").map(String.init)
    return runProgram(parts[0], Array(parts.dropFirst()) + ["-c", script] + arguments)
}

func temporaryFolder(_ name: String) -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("neural-\(name)-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

/// Random sparse inputs: one event one-hot among the first `oneHot` features, plus `extra` distinct features
/// from the rest.
func randomInputs(_ count: Int, size: Int, oneHot: Int, extra: Int, seed: UInt64) -> [FeatureList] {
    var rng = SeededRandom(seed: seed)
    return (0..<count).map { _ in
        var x = FeatureList(oneHot: Int(rng.next() % UInt64(oneHot)))
        var used: Set<Int> = []
        while used.count < extra && size > oneHot {
            let i = oneHot + Int(rng.next() % UInt64(size - oneHot))
            if used.insert(i).inserted { x.append(i) }
        }
        return x
    }
}
