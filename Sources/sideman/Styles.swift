import ArgumentParser
import Engine
import Foundation
import Live

/// `sideman styles --preset band`: the styles a preset's band can play, by the number that picks each.
struct Styles: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "styles",
        abstract: "List the styles a preset's band learned, with the program change that picks each.",
        discussion: """
            A style-conditioned part (trained with --condition harmony_beat_style) learned each groove family \
            of its data as a style. The band's styles are every style of its parts, sorted by name; a style's \
            number is the program change (0-based, as on the wire; a keyboard that counts from 1 shows one \
            more) or the value of controls.style that picks it live, from the next downbeat. \
            performance.style names the one the band starts in. Each line gives the number, the name, the \
            bar the style's drums were learned in (from the drums model) and the parts that play it.

            Examples:
              sideman styles --preset band
              sideman styles --preset band --json
            """)

    @Option(help: "Preset name or path.", completion: .presetNames) var preset = "band"
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        try reportingFailures {
            let session = try OfflineSession(presetName: preset, seed: nil)
            let bank = StyleBank(parts: session.parts.map(\.styles))
            guard !bank.isEmpty else {
                throw Failure(session.loaded.path, "has no style-conditioned part (its models learned no styles)", status: .dataError)
            }
            // The bar each style was learned in, as the drums model's signatures say (PartLoader reads them).
            let bars = session.parts.reduce(into: [String: Int]()) { $0.merge($1.styleBars) { a, _ in a } }
            let current = session.loaded.preset.performance.style
            var rows: [[String: Any]] = []
            for (number, name) in bank.names.enumerated() {
                let players = session.parts.filter { $0.styles.contains(name) }.map(\.settings.name)
                var row: [String: Any] = ["number": number, "name": name, "parts": players]
                if let steps = bars[name] { row["beats_per_bar"] = Double(steps) / 4 }
                rows.append(row)
            }
            if json {
                let object: [String: Any] = ["preset": session.loaded.path, "style": current ?? NSNull(), "styles": rows]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
                return
            }
            print("\(bank.names.count) styles of \(session.loaded.path); it starts in \(current ?? "none") (performance.style)")
            for row in rows {
                let number = row["number"] as! Int, name = row["name"] as! String
                let beats = (row["beats_per_bar"] as? Double).map { $0 == $0.rounded() ? "\(Int($0)) beats" : "\($0) beats" } ?? ""
                let parts = (row["parts"] as! [String]).joined(separator: ", ")
                print(String(format: "%3d  %@%@%@", number, name.padding(toLength: 18, withPad: " ", startingAt: 0),
                             beats.padding(toLength: 10, withPad: " ", startingAt: 0), parts))
            }
        }
    }
}
