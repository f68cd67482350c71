import ArgumentParser
import Foundation
import Live

struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check that this machine can run Sideman, and say what to fix.",
        discussion: """
            One line per check: ok, warn or fail, what was found, and for warn and fail what to do. \
            Checks: the JACK server ($JACK_DEFAULT_SERVER or the default; its sample rate and period), \
            the ALSA sequencer (/dev/snd/seq), realtime limits (RLIMIT_RTPRIO, RLIMIT_MEMLOCK, whether a \
            thread gets SCHED_FIFO), the audio group, every preset in the search path and every model its \
            parts name, and the CPU features the step kernels use. Exits 0 when nothing fails, 69 when \
            something needed is unavailable or broken. Never starts a JACK server.

            Examples:
              sideman doctor
            """)

    func run() throws {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        let checks = DoctorChecks(environment: ProcessInfo.processInfo.environment, executablePath: executable)
        let findings = checks.all()
        for finding in findings { print(finding.line) }
        let failed = findings.filter { $0.verdict == .fail }.count
        let warned = findings.filter { $0.verdict == .warn }.count
        print("\(failed) failed, \(warned) warnings, \(findings.count - failed - warned) ok")
        if failed > 0 { throw ExitCode(ExitStatus.unavailable.rawValue) }
    }
}
