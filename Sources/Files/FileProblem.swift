#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why a file could not be read or written, as the two halves of `sideman: <path>: <problem>`. The kind
/// is what the command line turns into an exit code; the text never carries a Foundation description.
public struct FileProblem: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        /// Inputs: nothing there, something other than a regular file, a read that failed, too many bytes.
        case missing, notRegular, unreadable
        case tooLarge(bytes: Int)
        /// Outputs: the path names one of the command's inputs, cannot be created, or writing it failed.
        case sameAsInput, cannotCreate, ioError
    }

    public var path: String
    public var problem: String
    public var kind: Kind

    public init(_ path: String, _ problem: String, _ kind: Kind) {
        self.path = path
        self.problem = problem
        self.kind = kind
    }

    public var description: String { "\(path): \(problem)" }
}

/// The C library's text for an errno value ("Permission denied"), the same words `ls` or `cp` would use.
func systemMessage(_ code: Int32) -> String {
    String(cString: strerror(code))
}

/// What a path names, from stat(2): it follows links and never opens the file, because open(2) of a FIFO
/// without a writer blocks forever and reading a device may never end.
public enum FileKind: Equatable, Sendable {
    case regular, directory, fifo, characterDevice, blockDevice, socket, other

    init(mode: mode_t) {
        switch mode & S_IFMT {
        case S_IFREG: self = .regular
        case S_IFDIR: self = .directory
        case S_IFIFO: self = .fifo
        case S_IFCHR: self = .characterDevice
        case S_IFBLK: self = .blockDevice
        case S_IFSOCK: self = .socket
        default: self = .other
        }
    }

    /// "a FIFO", for "is a FIFO, not a regular file".
    public var noun: String {
        switch self {
        case .regular: "a regular file"
        case .directory: "a directory"
        case .fifo: "a FIFO"
        case .characterDevice: "a character device"
        case .blockDevice: "a block device"
        case .socket: "a socket"
        case .other: "a special file"
        }
    }
}

/// The stat(2) facts the checks need: the kind, the size, and the device and inode that say whether two
/// paths (links, `./x` and `x`) are one file.
public struct FileStatus: Equatable, Sendable {
    public var kind: FileKind
    public var size: Int
    public var device: UInt64
    public var inode: UInt64
    /// The permission bits, which a file written in place of this one keeps.
    public var permissions: mode_t

    /// nil when stat fails; `errno` then says why.
    public init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        self.init(info)
    }

    init(_ info: stat) {
        kind = FileKind(mode: info.st_mode)
        size = Int(info.st_size)
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        permissions = info.st_mode & 0o7777
    }

    func isSameFile(as other: FileStatus) -> Bool { device == other.device && inode == other.inode }
}
