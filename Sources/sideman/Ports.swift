import ArgumentParser
import Live
import Ports

struct Ports: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ports",
        abstract: "List the MIDI and audio ports Sideman can connect to, on JACK and the ALSA sequencer.",
        discussion: """
            One line per port: backend, full name, type (midi/audio), direction seen from the port's \
            owner (out: it sends, so it can feed Sideman's input), and `physical` for hardware ports. \
            A backend that is unavailable (no JACK server running, no /dev/snd/seq) is reported on \
            stderr with the reason. Exits 69 when the backend asked for with --backend is unavailable, \
            or, with the default `all`, when neither is.

            Examples:
              sideman ports --midi
              sideman ports --backend alsa
            """)

    enum Choice: String, ExpressibleByArgument, CaseIterable {
        case all, jack, alsa
    }

    @Option(help: "all, jack or alsa.")
    var backend: Choice = .all

    @Flag(help: "Only MIDI ports.")
    var midi = false

    func run() throws {
        try reportingFailures {
            var backends: [any PortBackend] = []
            if backend != .alsa { backends.append(JACKBackend(configuration: PortConfiguration())) }
            if backend != .jack { backends.append(ALSABackend(configuration: PortConfiguration())) }
            var listed: [(String, PortInfo)] = []
            var failures: [Failure] = []
            for candidate in backends {
                do {
                    listed += try candidate.listPorts().map { (candidate.backendName, $0) }
                } catch let error as PortError {
                    let hint = candidate.backendName == "jack" ? "; start jackd or set JACK_DEFAULT_SERVER" : ""
                    failures.append(Failure(error.subject, error.problem + hint, status: .unavailable))
                }
            }
            let shown = listed.filter { !midi || $0.1.type == "midi" }
            if shown.isEmpty, failures.count < backends.count {
                // An empty answer looks like a hang or a bug; say what was looked for and where.
                let reached = backends.map(\.backendName).filter { name in !failures.contains { $0.subject.hasPrefix(name) } }
                let hint = midi && reached.contains("jack") ? " (hardware on the ALSA sequencer reaches JACK through a2jmidid -e)" : ""
                print("no \(midi ? "MIDI " : "")ports on \(reached.joined(separator: " or "))\(hint)")
            }
            let width = shown.map(\.1.name.count).max() ?? 0
            for (name, port) in shown {
                let padded = port.name + String(repeating: " ", count: width - port.name.count)
                print("\(name.padding(5))\(padded)  \(port.type)  \(port.direction.rawValue)\(port.isPhysical ? "  physical" : "")")
            }
            if failures.count == backends.count, let last = failures.popLast() {
                for failure in failures { printToStandardError("sideman: \(failure.subject): \(failure.problem)") }
                throw last
            }
            for failure in failures { printToStandardError("sideman: \(failure.subject): \(failure.problem)") }
        }
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count + 1)
    }
}
