import ArgumentParser
import Files
import Live
import MIDI

extension Failure {
    /// Prints the one-line message and returns the ArgumentParser exit that carries our code.
    func report() -> ExitCode {
        printToStandardError("sideman: \(subject): \(problem)")
        return ExitCode(status.rawValue)
    }
}

/// Runs a command body, turning a `Failure` into its line on stderr and its exit code, and any other
/// error into exit 70 rather than a crash.
func reportingFailures(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let failure as Failure {
        throw failure.report()
    } catch let exit as ExitCode {
        throw exit
    } catch let exit as CleanExit {
        throw exit
    } catch {
        throw Failure("internal", "\(error)", status: .software).report()
    }
}

extension Failure {
    /// A MIDI file that could not be used: 66 when it cannot be read at all, 65 when its bytes are bad.
    init(midiLoad error: MIDIFileLoadError) {
        switch error {
        case .unreadable(let path, let reason): self.init(path, reason, status: .noInput)
        case .corrupt(let path, let error): self.init(path, error.description, status: .dataError)
        case .tooLarge(let path, _):
            self.init(path, String(error.description.dropFirst(path.count + 2)), status: .dataError)
        }
    }
}

extension Failure {
    /// A file that could not be read or written: 66 for an input that is not there or not a regular file
    /// (a FIFO, device or socket is never opened: it could block for ever), 65 for one too large, 64 for an
    /// output that names one of the command's inputs, 73 for an output that cannot be created, 74 for a write
    /// that failed on the way.
    init(file problem: FileProblem) {
        let status: ExitStatus =
            switch problem.kind {
            case .missing, .notRegular, .unreadable: .noInput
            case .tooLarge: .dataError
            case .sameAsInput: .usage
            case .cannotCreate: .cannotCreate
            case .ioError: .ioError
            }
        self.init(problem.path, problem.problem, status: status)
    }
}
