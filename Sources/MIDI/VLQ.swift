/// The variable-length quantities of Standard MIDI Files: 7 bits per byte, most significant group first,
/// the top bit set on every byte but the last. The file format caps them at four bytes (28 bits), which
/// is what lets a reader reject a runaway length instead of trusting it.
public enum VariableLengthQuantity {
    /// The largest value four bytes can hold.
    public static let maximum: UInt32 = 0x0FFF_FFFF
    public static let maximumByteCount = 4

    /// Appends the shortest encoding of `value` (which must be at most `maximum`).
    public static func encode(_ value: UInt32, into bytes: inout [UInt8]) {
        precondition(value <= maximum, "VLQ value \(value) exceeds 28 bits")
        var shift: UInt32 = 21
        // Skip leading empty groups so the encoding is minimal; zero still takes one byte.
        while shift > 0 && value >> shift == 0 { shift -= 7 }
        while shift > 0 {
            bytes.append(UInt8(truncatingIfNeeded: value >> shift) & 0x7F | 0x80)
            shift -= 7
        }
        bytes.append(UInt8(truncatingIfNeeded: value) & 0x7F)
    }

    public static func encoded(_ value: UInt32) -> [UInt8] {
        var bytes: [UInt8] = []
        encode(value, into: &bytes)
        return bytes
    }

    public enum DecodeFailure: Error, Equatable {
        /// The bytes ran out before a byte with the top bit clear.
        case truncated
        /// Four bytes all had the continuation bit set.
        case tooLong
    }

    /// Decodes one quantity starting at `index`, returning the value and the index just past it.
    public static func decode(_ bytes: [UInt8], at index: Int, end: Int? = nil) -> Result<
        (value: UInt32, next: Int), DecodeFailure
    > {
        let limit = min(end ?? bytes.count, bytes.count)
        var value: UInt32 = 0
        var i = index
        for _ in 0..<maximumByteCount {
            guard i < limit else { return .failure(.truncated) }
            let byte = bytes[i]
            i += 1
            value = value << 7 | UInt32(byte & 0x7F)
            if byte & 0x80 == 0 { return .success((value, i)) }
        }
        return .failure(.tooLong)
    }
}
