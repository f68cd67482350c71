/// What Foundation's JSON parser does not check in a safetensors header, found in one pass over the bytes
/// before it parses them.
///
/// - Nesting: Foundation recurses up to hundreds of levels; a real header nests three deep, so anything past
///   `maxNesting` is refused before parsing starts.
/// - Values: outside strings a header holds only objects, arrays and non-negative integers. Refusing every
///   other byte there (signs, fractions, exponents, literals, NULs) means every number Foundation hands back
///   was written as plain digits, so `2.0` or `1e1` can never pass as an integer, and no NUL can make it guess
///   a UTF-16 encoding.
/// - Commas: Foundation accepts a trailing comma (`[1,]`, `{"a":1,}`), which JSON does not; a comma with no
///   value on either side is refused.
/// - Duplicate keys: Foundation keeps one of them silently. Each `:` outside strings is one object member, so
///   more colons than members in the parsed objects means some key was repeated (see `memberCount`).
struct HeaderScan {
    static let maxNesting = 8

    /// Object members written in the header, duplicates included.
    private(set) var colons = 0

    init(_ bytes: [UInt8]) throws(WeightsError) {
        var depth = 0
        var inString = false
        var escaped = false
        // The last byte outside strings that is not whitespace (a string counts as `"`).
        var previous: UInt8 = 0
        for (i, c) in bytes.enumerated() {
            if inString {
                if escaped { escaped = false } else if c == UInt8(ascii: "\\") { escaped = true } else if c == UInt8(ascii: "\"") { inString = false }
                continue
            }
            let isComma = c == UInt8(ascii: ",")
            let closes = c == UInt8(ascii: "}") || c == UInt8(ascii: "]")
            let afterOpenOrComma = previous == UInt8(ascii: "{") || previous == UInt8(ascii: "[") || previous == UInt8(ascii: ",")
            if (isComma && afterOpenOrComma) || (closes && previous == UInt8(ascii: ",")) {
                throw WeightsError("header JSON: a comma without a value at byte \(i)")
            }
            if c != 0x20 && c != 0x0A && c != 0x0D && c != 0x09 { previous = c }
            switch c {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                guard depth <= Self.maxNesting else { throw WeightsError("header JSON: nesting deeper than \(Self.maxNesting) at byte \(i)") }
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            case UInt8(ascii: ":"): colons += 1
            case UInt8(ascii: ","), UInt8(ascii: "0")...UInt8(ascii: "9"), 0x20, 0x0A, 0x0D, 0x09: break
            default:
                throw WeightsError("header JSON: a value other than an object, array, string or non-negative integer at byte \(i)")
            }
        }
    }

    /// Members of every object in a parsed value, to compare with `colons`.
    static func memberCount(_ value: Any) -> Int {
        if let object = value as? [String: Any] { return object.count + object.values.reduce(0) { $0 + memberCount($1) } }
        if let array = value as? [Any] { return array.reduce(0) { $0 + memberCount($1) } }
        return 0
    }
}
