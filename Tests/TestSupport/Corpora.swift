import Foundation

/// Where the tests that measure against the training corpora find them: the folder `SIDEMAN_CORPORA`
/// names, else `corpora/` in the package (ignored by git: a copy or a link a developer puts there). The
/// corpora are not in the repository (docs/DATA.md says what they are, their formats and where they come
/// from); the tests that need them skip with `Corpora.skipReason` when neither is there.
public enum Corpora {
    public static let skipReason =
        "skipped: the training corpora are not here (set SIDEMAN_CORPORA to a folder laid out as docs/DATA.md describes, or put them in corpora/ in the repository)"

    /// The corpora folder, nil when there is none; `needing` a path inside it (e.g. "band/valid.jsonl"),
    /// nil unless that is there too.
    public static func folder(needing inside: String? = nil, filePath: String = #filePath) -> String? {
        let fm = FileManager.default
        var candidates: [String] = []
        if let named = ProcessInfo.processInfo.environment["SIDEMAN_CORPORA"], !named.isEmpty { candidates.append(named) }
        var url = URL(fileURLWithPath: filePath).deletingLastPathComponent()
        while url.path != "/" {
            if fm.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
                candidates.append(url.appendingPathComponent("corpora").path)
                break
            }
            url = url.deletingLastPathComponent()
        }
        return candidates.first { folder in
            fm.fileExists(atPath: folder) && (inside.map { fm.fileExists(atPath: "\(folder)/\($0)") } ?? true)
        }
    }
}
