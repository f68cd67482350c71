/// Why a file could not be read: what is wrong and the byte offset where the reader found it.
public struct MIDIFileError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Hashable, Sendable {
        case notAMIDIFile
        case truncated
        case badHeader
        case unsupportedFormat
        case badDivision
        case noTracks
        case overlongQuantity
        case dataWithoutStatus
        case invalidStatus
        case statusInsideMessage
        case tooLarge
    }

    public var kind: Kind
    public var problem: String
    public var offset: Int

    public init(_ kind: Kind, _ problem: String, at offset: Int) {
        self.kind = kind
        self.problem = problem
        self.offset = offset
    }

    /// "<problem> at byte N", the form the command line prints after the file name.
    public var description: String { "\(problem) at byte \(offset)" }
}

/// Something odd that real-world files do and that the reader recovered from.
public struct MIDIFileWarning: Hashable, Sendable, CustomStringConvertible {
    public var problem: String
    public var offset: Int

    public init(_ problem: String, at offset: Int) {
        self.problem = problem
        self.offset = offset
    }

    public var description: String { "\(problem) at byte \(offset)" }
}

func hex(_ byte: UInt8) -> String {
    let digits = Array("0123456789ABCDEF")
    return "0x" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0x0F)])
}
