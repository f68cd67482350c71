#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

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
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { throw .unreadable(path: path, reason: "no such file") }
            throw .unreadable(path: path, reason: "cannot be read (\(String(cString: strerror(errno))))")
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw .unreadable(path: path, reason: "is a directory, not a MIDI file")
        default: throw .unreadable(path: path, reason: "is not a regular file")
        }
        guard Int(info.st_size) <= maximumFileSize else { throw .tooLarge(path: path, bytes: Int(info.st_size)) }
        guard let file = fopen(path, "rb") else {
            throw .unreadable(path: path, reason: "cannot be read (\(String(cString: strerror(errno))))")
        }
        defer { fclose(file) }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        let count = bytes.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        guard count == bytes.count || ferror(file) == 0 else {
            throw .unreadable(path: path, reason: "cannot be read (\(String(cString: strerror(errno))))")
        }
        bytes.removeSubrange(count...)
        return bytes
    }
}
