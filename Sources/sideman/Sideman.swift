import ArgumentParser

@main
struct Sideman: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sideman",
        abstract: "Real-time MIDI accompaniment: answers a player's phrases and plays along with them.",
        discussion: """
            Exit codes follow sysexits: 0 ok, 64 usage, 65 bad input data, 66 missing input, \
            69 backend unavailable, 70 internal error.

            Examples:
              sideman demo --out /tmp/demo      # hear and see it, no setup
              sideman doctor                    # is this machine ready to play live?
              sideman run --preset folk         # answer your phrases live
              sideman --generate-completion-script bash   # completions (README)
            """,
        subcommands: [Inspect.self, Ports.self, Run.self, Accompany.self, Continue.self, Vary.self, Interpolate.self, Demo.self, Train.self, TrainVAE.self, TrainMidiNet.self, Lead.self, Eval.self, Export.self, Analyze.self, Styles.self, Bench.self, Doctor.self]
    )
}
