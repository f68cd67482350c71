import ArgumentParser

// Placeholder until its issue lands; replaced by the real command.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "(not yet available)")
    func run() throws { throw Failure("run", "not yet available in this build", status: .unavailable).report() }
}
