import ArgumentParser
import Ports

struct Ports: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ports",
        abstract: "List the MIDI and audio ports Sideman can connect to.",
        discussion: """
            One line per port: backend, full name, type (midi/audio), direction seen from the port's \
            owner (out: it sends, so it can feed Sideman's input), and `physical` for hardware ports. \
            Exits 69 when the backend is unavailable (no JACK server running). The ALSA sequencer is not \
            listed in this build.
            """)

    @Flag(help: "Only MIDI ports.")
    var midi = false

    func run() throws {
        try reportingFailures {
            let backend = JACKBackend(configuration: PortConfiguration())
            let ports: [PortInfo]
            do {
                ports = try backend.listPorts()
            } catch let error as PortError {
                throw Failure(error.subject, error.problem + "; start jackd or set JACK_DEFAULT_SERVER", status: .unavailable)
            }
            let shown = ports.filter { !midi || $0.type == "midi" }
            let width = shown.map(\.name.count).max() ?? 0
            for port in shown {
                let name = port.name + String(repeating: " ", count: width - port.name.count)
                print("jack  \(name)  \(port.type)  \(port.direction.rawValue)\(port.isPhysical ? "  physical" : "")")
            }
        }
    }
}
