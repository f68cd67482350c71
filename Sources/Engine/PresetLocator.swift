import Files
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Why a preset could not be loaded; the CLI maps `missing` to exit 66 and `invalid` to 65.
public enum PresetLoadError: Error, CustomStringConvertible {
    /// The name matched no file; `searched` lists where we looked, in order.
    case missing(name: String, searched: [String])
    case unreadable(path: String, reason: String)
    case invalid(path: String, error: PresetError)

    public var description: String {
        switch self {
        case .missing(let name, let searched):
            return "\(name): no such preset (looked in \(searched.joined(separator: ", ")))"
        case .unreadable(let path, let reason): return "\(path): \(reason)"
        case .invalid(let path, let error): return "\(path): \(error)"
        }
    }
}

/// A preset and the file it came from (part model paths are relative to that file's folder).
public struct LoadedPreset: Sendable {
    public var preset: Preset
    public var path: String
    /// Other folders a file the preset names is looked for in when it is not beside the preset: the
    /// preset folders, so a shipped preset copied to ~/.config/sideman or /etc/sideman still finds the
    /// models shipped with it.
    public var fallbackFolders: [String] = []

    public init(preset: Preset, path: String, fallbackFolders: [String] = []) {
        self.preset = preset
        self.path = path
        self.fallbackFolders = fallbackFolders
    }

    public var folder: String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return String(path[..<slash])
    }

    /// A part's model path made absolute against the preset's folder.
    public func modelPath(for part: PartSettings) -> String { path(of: part.model) }

    /// A file the preset names, resolved against its folder; when it is not there, the first of the
    /// fallback folders that holds it (else the path beside the preset, which errors then name).
    public func path(of file: String) -> String {
        guard !file.hasPrefix("/") else { return file }
        let beside = "\(folder)/\(file)"
        guard !FileManager.default.fileExists(atPath: beside) else { return beside }
        return fallbackFolders.lazy.map { "\($0)/\(file)" }.first { FileManager.default.fileExists(atPath: $0) } ?? beside
    }
}

/// Finds a preset by name or path. A name is looked up, first match wins, in the user's
/// ~/.config/sideman, then /etc/sideman, then the presets/ bundled with the binary, so a user's own
/// copy of `band` overrides the shipped one without touching it.
public struct PresetLocator {
    public var searchFolders: [String]

    public init(searchFolders: [String]) {
        self.searchFolders = searchFolders
    }

    /// The standard folders for a binary at `executablePath`.
    public static func standard(executablePath: String, environment: [String: String]) -> PresetLocator {
        var folders: [String] = []
        if let config = environment["XDG_CONFIG_HOME"], !config.isEmpty {
            folders.append("\(config)/sideman")
        } else if let home = environment["HOME"], !home.isEmpty {
            folders.append("\(home)/.config/sideman")
        }
        folders.append("/etc/sideman")
        let binDir = executablePath.lastIndex(of: "/").map { String(executablePath[..<$0]) } ?? "."
        folders.append("\(binDir)/presets")
        folders.append("\(binDir)/../share/sideman/presets")
        // A build tree: .build/<config>/sideman or, once symlinks are resolved,
        // .build/<triple>/<config>/sideman, with presets/ at the package root.
        folders.append("\(binDir)/../../presets")
        folders.append("\(binDir)/../../../presets")
        return PresetLocator(searchFolders: folders)
    }

    /// A value with a slash or a .yaml suffix is a path; anything else is a name. The first file found
    /// must be a regular file: a FIFO, device or socket is refused (never opened: that could block for ever),
    /// not passed over for a preset of the same name further down the list.
    public func resolve(_ nameOrPath: String) throws -> String {
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".yaml") || nameOrPath.hasSuffix(".yml") {
            guard try isPresetFile(nameOrPath) else { throw PresetLoadError.missing(name: nameOrPath, searched: [nameOrPath]) }
            return nameOrPath
        }
        for folder in searchFolders {
            for ext in ["yaml", "yml"] {
                let candidate = "\(folder)/\(nameOrPath).\(ext)"
                if try isPresetFile(candidate) { return candidate }
            }
        }
        throw PresetLoadError.missing(name: nameOrPath, searched: searchFolders)
    }

    public func load(_ nameOrPath: String) throws -> LoadedPreset {
        let path = try resolve(nameOrPath)
        let text = try readTextFile(path)
        let stem = path.split(separator: "/").last.map { String($0.split(separator: ".").first ?? $0) } ?? nameOrPath
        do {
            return LoadedPreset(preset: try PresetReader.read(yaml: text, defaultName: stem), path: path, fallbackFolders: searchFolders)
        } catch let error as PresetError {
            throw PresetLoadError.invalid(path: path, error: error)
        }
    }

    /// Names of every preset in the search folders, for `--help` and `doctor`.
    public func availableNames() -> [String] {
        var names = Set<String>()
        for folder in searchFolders {
            guard let dir = opendir(folder) else { continue }
            defer { closedir(dir) }
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                for ext in [".yaml", ".yml"] where name.hasSuffix(ext) {
                    names.insert(String(name.dropLast(ext.count)))
                }
            }
        }
        return names.sorted()
    }
}

/// false when nothing is there; throws `unreadable` for something other than a regular file.
private func isPresetFile(_ path: String) throws(PresetLoadError) -> Bool {
    do {
        try InputFile.check(path)
        return true
    } catch {
        if error.kind == .missing { return false }
        throw .unreadable(path: path, reason: error.problem)
    }
}

/// Reads a whole UTF-8 text file. Presets are small; a file over 1 MiB is refused rather than read.
func readTextFile(_ path: String) throws -> String {
    let bytes: [UInt8]
    do {
        bytes = try InputFile.read(path, limit: 1 << 20)
    } catch {
        // Bad contents are bad data (exit 65), not a file that cannot be read (66).
        if case .tooLarge = error.kind {
            throw PresetLoadError.invalid(path: path, error: PresetError(keyPath: "", problem: "larger than 1 MiB, not a preset"))
        }
        throw PresetLoadError.unreadable(path: path, reason: error.problem)
    }
    guard let text = String(validating: bytes, as: UTF8.self) else {
        throw PresetLoadError.invalid(path: path, error: PresetError(keyPath: "", problem: "not UTF-8 text"))
    }
    return text
}
