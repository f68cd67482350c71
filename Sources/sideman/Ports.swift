import ArgumentParser

// Placeholder until its issue lands; replaced by the real command.
struct Ports: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ports", abstract: "(not yet available)")
    func run() throws { throw Failure("ports", "not yet available in this build", status: .unavailable).report() }
}
