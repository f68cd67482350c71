import Files

/// Why a MIDI file on disk could not be used: it is not there (or not a readable regular file), or its
/// bytes are not a Standard MIDI File.
public enum MIDIFileLoadError: Error, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case corrupt(path: String, error: MIDIFileError)
    case tooLarge(path: String, bytes: Int)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): return "\(path): \(reason)"
        case .corrupt(let path, let error): return "\(path): \(error)"
        case .tooLarge(let path, let bytes):
            return "\(path): file of \(bytes) bytes is larger than the \(MIDIFileReader.maximumFileSize >> 20) MiB limit for MIDI files"
        }
    }
}

extension MIDIFileReader {
    /// Reads and parses the file at `path`. Only regular files are read, and only up to the reader's size
    /// limit, so /dev/zero or a FIFO named by mistake can neither hang the caller nor exhaust memory.
    public static func read(path: String) throws(MIDIFileLoadError) -> Outcome {
        let bytes = try readRegularFile(path)
        do {
            return try read(bytes)
        } catch {
            throw .corrupt(path: path, error: error)
        }
    }

    static func readRegularFile(_ path: String) throws(MIDIFileLoadError) -> [UInt8] {
        do {
            return try InputFile.read(path, limit: maximumFileSize)
        } catch {
            if case .tooLarge(let bytes) = error.kind { throw .tooLarge(path: path, bytes: bytes) }
            throw .unreadable(path: path, reason: error.problem)
        }
    }
}
