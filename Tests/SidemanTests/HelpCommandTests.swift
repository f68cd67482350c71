import Foundation
import Testing
import TestSupport

/// Every subcommand explains itself with examples, and the shell completions name them all.
@Suite("sideman help and completions")
struct HelpCommandTests {
    typealias CLI = InspectCommandTests
    static let subcommands = ["inspect", "ports", "run", "accompany", "continue", "demo", "train", "eval", "analyze", "styles", "bench", "doctor"]

    @Test("every subcommand's help has a discussion with examples that run that subcommand", arguments: subcommands)
    func examples(subcommand: String) throws {
        let run = try Program.sideman([subcommand, "--help"])
        #expect(run.status == 0)
        let lines = run.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex(of: "Examples:"), "no Examples: in \(subcommand) --help")
        let usage = try #require(lines.firstIndex { $0.hasPrefix("USAGE:") })
        #expect(start < usage)
        let examples = lines[(start + 1)..<usage].filter { $0.hasPrefix("  sideman ") }
        #expect(!examples.isEmpty)
        #expect(examples.allSatisfy { $0.hasPrefix("  sideman \(subcommand)") })
        // The discussion (text between the overview and the examples) is there too.
        #expect(start > 3)
    }

    @Test("completion scripts name every subcommand", arguments: ["bash", "zsh", "fish"])
    func completions(shell: String) throws {
        let run = try Program.sideman(["--generate-completion-script", shell])
        #expect(run.status == 0, "\(run.stderr)")
        for subcommand in Self.subcommands {
            #expect(run.stdout.contains(subcommand), "\(shell) completions lack \(subcommand)")
        }
        // fish spells options as `-l svg`, bash and zsh as `--svg`.
        #expect(run.stdout.contains("svg"))
    }

    @Test("--preset completes with the names of the presets there are, for each command that takes one",
          arguments: ["run", "accompany", "continue", "demo", "styles"])
    func presetNamesComplete(command: String) throws {
        // What the bash script runs for `sideman COMMAND --preset f<TAB>`: the words, the word's index, the cursor.
        let run = try Program.sideman(["---completion", command, "--", "--preset", "3", "1", "sideman", command, "--preset", "f"])
        #expect(run.status == 0, "\(run.stderr)")
        // The shipped presets whose names start with f (folk, folk-transformer, folk-variation).
        let root = try #require(InspectCommandTests.packageRoot())
        let shipped = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("presets").path)
            .filter { $0.hasPrefix("f") && $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted()
        #expect(shipped.count >= 2 && shipped.contains("folk"))
        #expect(run.stdout.split(separator: "\n").map(String.init) == shipped)
    }
}
