import ArgumentParser

// Placeholder until its issue lands; replaced by the real command.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "(not yet available)")
    func run() throws { throw Failure("train", "not yet available in this build", status: .unavailable).report() }
}
