import ArgumentParser

@main
struct Sideman: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sideman",
        abstract: "Real-time MIDI accompaniment: answers a player's phrases and plays along with them.",
        discussion: """
            Exit codes follow sysexits: 0 ok, 64 usage, 65 bad input data, 66 missing input,
            69 backend unavailable, 70 internal error.
            """,
        subcommands: [Inspect.self, Ports.self, Run.self, Accompany.self, Continue.self, Demo.self, Train.self, Eval.self, Bench.self, Doctor.self]
    )
}
