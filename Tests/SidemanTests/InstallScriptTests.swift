import Foundation
import Testing
import TestSupport

/// `scripts/install.sh` as a user runs it, into a prefix of its own: the program finds the presets it
/// installed, and a shipped preset copied to the user's folder still finds its models.
@Suite("scripts/install.sh")
struct InstallScriptTests {
    @Test func installsTheProgramPresetsUnitsAndCompletionsInThePrefix() throws {
        let root = try #require(InspectCommandTests.packageRoot())
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("sideman-install-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let prefix = "\(tmp)/usr"
        let install = try Program.run("/bin/bash", [root.appendingPathComponent("scripts/install.sh").path, prefix],
                                      environment: ["SIDEMAN_BIN": Program.sideman])
        #expect(install.status == 0, "\(install.stdout) \(install.stderr)")
        let files = FileManager.default
        for path in ["bin/sideman", "share/sideman/presets/default.yaml", "share/sideman/presets/band/lead.safetensors",
                     "share/sideman/presets/folk/continuation.safetensors", "share/bash-completion/completions/sideman",
                     "share/zsh/site-functions/_sideman", "share/fish/vendor_completions.d/sideman.fish"] {
            #expect(files.fileExists(atPath: "\(prefix)/\(path)"), "\(path) not installed")
        }
        let unit = try String(contentsOfFile: "\(prefix)/lib/systemd/system/sideman.service", encoding: .utf8)
        #expect(unit.contains("ExecStart=\(prefix)/bin/sideman run"))
        let userUnit = try String(contentsOfFile: "\(prefix)/lib/systemd/user/sideman.service", encoding: .utf8)
        #expect(userUnit.contains("ExecStart=\(prefix)/bin/sideman run"))

        // The installed program plays the installed presets, with a home of its own (no user presets).
        let home = ["HOME": "\(tmp)/home", "XDG_CONFIG_HOME": "\(tmp)/home/.config"]
        let example = root.appendingPathComponent("examples/band-chords.mid").path
        let played = try Program.run("\(prefix)/bin/sideman", ["accompany", example, "-o", "\(tmp)/a.mid", "--preset", "band"], environment: home)
        #expect(played.status == 0, "\(played.stderr)")
        // A copy of the band preset in the user's folder (no models beside it) finds the installed models.
        try files.createDirectory(atPath: "\(tmp)/home/.config/sideman", withIntermediateDirectories: true)
        try files.copyItem(atPath: "\(prefix)/share/sideman/presets/band.yaml", toPath: "\(tmp)/home/.config/sideman/band.yaml")
        let copied = try Program.run("\(prefix)/bin/sideman", ["accompany", example, "-o", "\(tmp)/b.mid", "--preset", "band"], environment: home)
        #expect(copied.status == 0, "\(copied.stderr)")
    }
}
