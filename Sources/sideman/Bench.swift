import ArgumentParser

// Placeholder until its issue lands; replaced by the real command.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "(not yet available)")
    func run() throws { throw Failure("bench", "not yet available in this build", status: .unavailable).report() }
}
