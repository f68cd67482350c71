import ArgumentParser
import Files
import Live
import Neural

/// The commands' file access, through the shared checks, with their failures as `Failure`s.
enum CommandFiles {
    /// Requires an input (model, checkpoint, data file) to be a regular file before a reader opens it.
    static func requireInput(_ path: String) throws {
        do { try InputFile.check(path) } catch { throw Failure(file: error) }
    }

    /// Refuses an output that could not be written, before the work that would fill it.
    static func checkOutput(_ path: String, notOver inputs: [String] = []) throws {
        do { try OutputFile.check(path, notOver: inputs) } catch { throw Failure(file: error) }
    }

    static func write(_ bytes: [UInt8], to path: String, notOver inputs: [String] = []) throws {
        do { try OutputFile.write(bytes, to: path, notOver: inputs) } catch { throw Failure(file: error) }
    }

    /// `--resume`: reads the checkpoint at `path`, has `mismatch` say what in its metadata differs from this
    /// run's configuration (nil: nothing), and hands it to `resume`; any problem is the checkpoint's, exit 65.
    static func resume(from path: String, mismatch: ([String: String]) throws -> String?, _ resume: (WeightSet) throws -> Void) throws {
        try requireInput(path)
        do {
            let set = try SafeTensors.read(path: path)
            if let problem = try mismatch(set.metadata) { throw WeightsError(problem) }
            try resume(set)
        } catch let error as WeightsError {
            throw Failure(path, error.description, status: .dataError)
        }
    }

    static func makeFolder(_ path: String) throws {
        do { try OutputFile.makeFolder(path) } catch { throw Failure(file: error) }
    }
}

extension CompletionKind {
    /// `--preset`: the names of the presets the locator finds (shipped, /etc/sideman, ~/.config/sideman),
    /// then .yaml files, since a path to one's own preset works as well.
    static var presetNames: CompletionKind {
        .custom { _, _, prefix in
            DaemonSettings.standardLocator().availableNames().filter { $0.hasPrefix(prefix) }
        }
    }
}
