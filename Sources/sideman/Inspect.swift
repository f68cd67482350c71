import ArgumentParser

// Placeholder until its issue lands; replaced by the real command.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "(not yet available)")
    func run() throws { throw Failure("inspect", "not yet available in this build", status: .unavailable).report() }
}
