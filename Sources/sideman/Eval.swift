import ArgumentParser

// Placeholder until its issue lands; replaced by the real command.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "eval", abstract: "(not yet available)")
    func run() throws { throw Failure("eval", "not yet available in this build", status: .unavailable).report() }
}
