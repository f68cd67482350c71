import Foundation
import Glibc
import Testing

@testable import Engine

@Suite struct PresetLocatorTests {
    private func packageRoot() -> String {
        var path = #filePath
        while let slash = path.lastIndex(of: "/") {
            path = String(path[..<slash])
            if access("\(path)/Package.swift", F_OK) == 0 { return path }
        }
        return "."
    }

    private func temporaryFolder() -> String {
        var template = Array("/tmp/sideman-presets-XXXXXX".utf8CString)
        return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    }

    private func write(_ text: String, to path: String) {
        let f = fopen(path, "w")!
        fputs(text, f)
        fclose(f)
    }

    @Test func shippedPresetsAllLoad() throws {
        let locator = PresetLocator(searchFolders: ["\(packageRoot())/presets"])
        let names = locator.availableNames()
        #expect(names.contains("default"))
        for name in names {
            let loaded = try locator.load(name)
            #expect(loaded.preset.name == name)
        }
    }

    @Test func firstFolderWinsSoUsersOverrideShippedPresets() throws {
        let user = temporaryFolder()
        let shipped = temporaryFolder()
        write("name: mine\n", to: "\(user)/band.yaml")
        write("name: shipped\n", to: "\(shipped)/band.yaml")
        let locator = PresetLocator(searchFolders: [user, shipped])
        #expect(try locator.load("band").preset.name == "mine")
        #expect(try locator.load("\(shipped)/band.yaml").preset.name == "shipped")
    }

    @Test func missingNameListsWhereItLooked() {
        let locator = PresetLocator(searchFolders: ["/nonexistent-a", "/nonexistent-b"])
        #expect(throws: PresetLoadError.self) { try locator.load("nope") }
        do {
            _ = try locator.load("nope")
        } catch {
            #expect("\(error)".contains("/nonexistent-a, /nonexistent-b"))
        }
    }

    @Test func invalidPresetNamesFileAndKeyPath() throws {
        let folder = temporaryFolder()
        write("thru:\n  transpose: 99\n", to: "\(folder)/bad.yaml")
        do {
            _ = try PresetLocator(searchFolders: [folder]).load("bad")
            Issue.record("expected an error")
        } catch PresetLoadError.invalid(let path, let error) {
            #expect(path == "\(folder)/bad.yaml")
            #expect(error.keyPath == "thru.transpose")
            #expect(error.line == 2)
        }
    }

    @Test func modelPathsAreRelativeToThePresetFolder() throws {
        let loaded = LoadedPreset(preset: Preset(name: "x"), path: "/etc/sideman/band.yaml")
        let part = PartSettings(name: "bass", role: .bass, model: "band/bass.safetensors", channel: 1)
        #expect(loaded.modelPath(for: part) == "/etc/sideman/band/bass.safetensors")
    }

    /// A shipped preset copied to the user's folder without its models finds them where they were shipped;
    /// a model beside the copy wins; one found nowhere is named beside the preset.
    @Test func aCopiedPresetFindsItsModelsInThePresetFolders() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sideman-copied-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (user, shipped) = ("\(root)/user", "\(root)/shipped")
        for folder in [user, shipped, "\(shipped)/band"] { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        let yaml = "name: band\nparts:\n  - {name: bass, role: bass, model: band/bass.safetensors, channel: 3}\n"
        try yaml.write(toFile: "\(user)/band.yaml", atomically: true, encoding: .utf8)
        try Data([1]).write(to: URL(fileURLWithPath: "\(shipped)/band/bass.safetensors"))
        let loaded = try PresetLocator(searchFolders: [user, shipped]).load("band")
        let part = loaded.preset.parts[0]
        #expect(loaded.modelPath(for: part) == "\(shipped)/band/bass.safetensors")
        try FileManager.default.createDirectory(atPath: "\(user)/band", withIntermediateDirectories: true)
        try Data([1]).write(to: URL(fileURLWithPath: "\(user)/band/bass.safetensors"))
        #expect(loaded.modelPath(for: part) == "\(user)/band/bass.safetensors")
        var other = part
        other.model = "band/none.safetensors"
        #expect(loaded.modelPath(for: other) == "\(user)/band/none.safetensors")
    }

    @Test func standardFoldersPutTheUserFirst() {
        let locator = PresetLocator.standard(executablePath: "/usr/local/bin/sideman", environment: ["HOME": "/home/ann"])
        #expect(locator.searchFolders.first == "/home/ann/.config/sideman")
        #expect(locator.searchFolders.contains("/etc/sideman"))
        #expect(locator.searchFolders.contains("/usr/local/bin/presets"))
    }
}
