/// An Open Sound Control message, as session managers (NSM) speak it over UDP: an address, then
/// arguments of the types the NSM protocol uses (32-bit integers, floats and strings), each padded to 4 bytes.
public struct OSCMessage: Equatable, Sendable {
    public enum Argument: Equatable, Sendable {
        case int(Int32)
        case float(Float)
        case string(String)
    }

    public var address: String
    public var arguments: [Argument]

    public init(_ address: String, _ arguments: [Argument] = []) {
        self.address = address
        self.arguments = arguments
    }

    public var bytes: [UInt8] {
        var out: [UInt8] = []
        Self.append(string: address, to: &out)
        Self.append(string: "," + arguments.map { argument -> String in
            switch argument {
            case .int: return "i"
            case .float: return "f"
            case .string: return "s"
            }
        }.joined(), to: &out)
        for argument in arguments {
            switch argument {
            case .int(let value): Self.append(bigEndian: UInt32(bitPattern: value), to: &out)
            case .float(let value): Self.append(bigEndian: value.bitPattern, to: &out)
            case .string(let value): Self.append(string: value, to: &out)
            }
        }
        return out
    }

    /// Reads one message; nil for anything else (a bundle, a truncated packet, a type it does not carry).
    public init?(bytes: [UInt8]) {
        var at = 0
        guard let address = Self.string(bytes, &at), address.hasPrefix("/"), let tags = Self.string(bytes, &at), tags.hasPrefix(",") else {
            return nil
        }
        var arguments: [Argument] = []
        for tag in tags.dropFirst() {
            switch tag {
            case "i":
                guard let value = Self.word(bytes, &at) else { return nil }
                arguments.append(.int(Int32(bitPattern: value)))
            case "f":
                guard let value = Self.word(bytes, &at) else { return nil }
                arguments.append(.float(Float(bitPattern: value)))
            case "s":
                guard let value = Self.string(bytes, &at) else { return nil }
                arguments.append(.string(value))
            default:
                return nil
            }
        }
        self.init(address, arguments)
    }

    /// The string arguments, in order.
    public var strings: [String] {
        arguments.compactMap { if case .string(let s) = $0 { return s } else { return nil } }
    }

    private static func append(string: String, to out: inout [UInt8]) {
        out += Array(string.utf8) + [0]
        while out.count % 4 != 0 { out.append(0) }
    }

    private static func append(bigEndian value: UInt32, to out: inout [UInt8]) {
        out += [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    private static func string(_ bytes: [UInt8], _ at: inout Int) -> String? {
        guard at < bytes.count, let end = bytes[at...].firstIndex(of: 0) else { return nil }
        let text = String(decoding: bytes[at..<end], as: UTF8.self)
        at = (end + 4) / 4 * 4
        return text
    }

    private static func word(_ bytes: [UInt8], _ at: inout Int) -> UInt32? {
        guard at + 4 <= bytes.count else { return nil }
        defer { at += 4 }
        return UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
    }
}
