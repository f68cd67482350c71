import Files
import Foundation

/// safetensors files: 8-byte little-endian header length N, N bytes of JSON header, then the raw
/// little-endian tensor data. The header maps names to {dtype, shape, data_offsets: [begin, end]} (offsets
/// relative to the data area) plus an optional `__metadata__` of string → string.
///
/// Reading validates the whole header before touching the data: the length against the file, the JSON,
/// every dtype, every shape against its byte span, and that the spans are in range, ordered, disjoint and
/// cover the data area without gaps. Nothing is allocated from a size the file merely claims.
public enum SafeTensors {
    public static let maxHeaderBytes = 100_000_000
    /// Largest dimension count accepted in a shape.
    public static let maxRank = 8

    /// One entry of a validated header.
    public struct Entry: Equatable, Sendable {
        public var name: String
        public var dtype: DType
        public var shape: [Int]
        public var begin: Int
        public var end: Int
    }

    public struct Header: Equatable, Sendable {
        public var entries: [Entry]
        public var metadata: [String: String]
    }

    // MARK: reading

    /// Largest weights file read: far above any model Sideman trains, and a bound on what a bad path costs.
    public static let maxFileBytes = 1 << 32

    /// Reads a weights file. A FIFO, device or socket is refused without being opened (it could block or
    /// never end), as is a file with any NaN or infinity (see `decode`).
    public static func read(path: String) throws(WeightsError) -> WeightSet {
        let bytes: [UInt8]
        do {
            bytes = try InputFile.read(path, limit: maxFileBytes)
        } catch {
            if case .tooLarge(let size) = error.kind {
                throw WeightsError("file of \(size) bytes is larger than the \(maxFileBytes >> 30) GiB limit for weights files")
            }
            throw WeightsError(error.problem)
        }
        return try decode(file: bytes)
    }

    /// The same validation and decoding on a file already in memory.
    public static func decode(file bytes: [UInt8]) throws(WeightsError) -> WeightSet {
        guard bytes.count >= 8 else { throw WeightsError("file too short for a safetensors header length") }
        let headerLength = try checkedHeaderLength(Array(bytes[0..<8]), fileSize: bytes.count)
        let header = try parseHeader(Array(bytes[8..<(8 + headerLength)]), dataSize: bytes.count - 8 - headerLength)
        return try decode(header, data: bytes, from: 8 + headerLength)
    }

    static func checkedHeaderLength(_ bytes: [UInt8], fileSize: Int) throws(WeightsError) -> Int {
        var n: UInt64 = 0
        for k in 0..<8 { n |= UInt64(bytes[k]) << (8 * UInt64(k)) }
        guard n >= 2 else { throw WeightsError("header length \(n) is too small for a JSON object") }
        guard n <= UInt64(maxHeaderBytes) else { throw WeightsError("header length \(n) exceeds the 100 MB limit") }
        guard n <= UInt64(fileSize - 8) else {
            throw WeightsError("header length \(n) runs past the end of the \(fileSize)-byte file")
        }
        return Int(n)
    }

    /// Validates a header against the size of the data area that follows it. Foundation parses the JSON;
    /// `HeaderScan` adds what it leaves unchecked (nesting, non-integer numbers, duplicate keys), and the
    /// checks below give every field its meaning.
    public static func parseHeader(_ bytes: [UInt8], dataSize: Int) throws(WeightsError) -> Header {
        guard bytes.first == UInt8(ascii: "{") else { throw WeightsError("header does not start with '{'") }
        let scan = try HeaderScan(bytes)
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(bytes))
        } catch {
            throw WeightsError("header JSON: \(error.localizedDescription)")
        }
        guard let members = parsed as? [String: Any] else { throw WeightsError("header is not a JSON object") }
        guard HeaderScan.memberCount(members) == scan.colons else { throw WeightsError("header JSON: a duplicate key") }
        var entries: [Entry] = []
        var metadata: [String: String] = [:]
        // Sorted so that the first problem reported does not depend on dictionary order.
        for name in members.keys.sorted() {
            let value = members[name]!
            if name == "__metadata__" {
                guard let pairs = value as? [String: Any] else { throw WeightsError("__metadata__ is not an object") }
                for key in pairs.keys.sorted() {
                    guard let text = pairs[key] as? String else {
                        throw WeightsError("__metadata__ value for \(key.prefix(64)) is not a string")
                    }
                    metadata[key] = text
                }
                continue
            }
            entries.append(try entry(name, value))
        }
        try checkLayout(entries, dataSize: dataSize)
        // In file order, as the header lists them (Foundation keeps no member order).
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        return Header(entries: entries, metadata: metadata)
    }

    private static func entry(_ name: String, _ value: Any) throws(WeightsError) -> Entry {
        let label = "tensor \(name.prefix(64))"
        guard let fields = value as? [String: Any] else { throw WeightsError("\(label) is not an object") }
        var dtype: DType?
        var shape: [Int]?
        var offsets: [Int]?
        for key in fields.keys.sorted() {
            let field = fields[key]!
            switch key {
            case "dtype":
                guard let text = field as? String, let d = DType(rawValue: text) else {
                    throw WeightsError("\(label) has an unknown dtype")
                }
                dtype = d
            case "shape":
                shape = try integers(field, "\(label) shape")
                guard shape!.count <= maxRank else { throw WeightsError("\(label) has more than \(maxRank) dimensions") }
            case "data_offsets":
                offsets = try integers(field, "\(label) data_offsets")
                guard offsets!.count == 2 else { throw WeightsError("\(label) data_offsets is not [begin, end]") }
            default:
                throw WeightsError("\(label) has an unknown field \(key.prefix(32))")
            }
        }
        guard let dtype, let shape, let offsets else {
            throw WeightsError("\(label) lacks dtype, shape or data_offsets")
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin <= end else { throw WeightsError("\(label) data_offsets end before they begin") }
        var elements = 1
        for d in shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: d)
            guard !overflow else { throw WeightsError("\(label) shape \(shape) overflows") }
            elements = product
        }
        let (bytes, overflow) = elements.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow, bytes == end - begin else {
            throw WeightsError("\(label) shape \(shape) of \(dtype.rawValue) does not fill its \(end - begin) bytes")
        }
        return Entry(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
    }

    /// Non-negative integers that fit in Int (up to 2^53, what every JSON reader agrees on). `HeaderScan` has
    /// already refused any number not written as plain digits.
    private static func integers(_ value: Any, _ what: String) throws(WeightsError) -> [Int] {
        guard let items = value as? [Any] else { throw WeightsError("\(what) is not an array") }
        var out: [Int] = []
        for item in items {
            guard !(item is String), let n = item as? Int, n >= 0, n <= 1 << 53 else {
                throw WeightsError("\(what) holds something other than a non-negative integer")
            }
            out.append(n)
        }
        return out
    }

    /// Offsets in range, disjoint, ordered as listed by begin, starting at 0 and leaving no gap up to the end
    /// of the data area.
    private static func checkLayout(_ entries: [Entry], dataSize: Int) throws(WeightsError) {
        let sorted = entries.sorted { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var cursor = 0
        for e in sorted {
            guard e.end <= dataSize else {
                throw WeightsError("tensor \(e.name.prefix(64)) data_offsets run past the \(dataSize)-byte data area")
            }
            if e.begin < cursor { throw WeightsError("tensor \(e.name.prefix(64)) overlaps another tensor") }
            if e.begin > cursor { throw WeightsError("gap in the data area before tensor \(e.name.prefix(64))") }
            cursor = e.end
        }
        guard cursor == dataSize else { throw WeightsError("\(dataSize - cursor) bytes of data belong to no tensor") }
    }

    /// Widens every tensor to Float. A NaN or infinity is refused, naming the tensor and the element: one
    /// NaN in a bias silently turns the answer into one repeated note, one in a recurrent weight into silence.
    /// Subnormal values are flushed to zero: arithmetic on them is ~100x slower on x86 (a microcode assist per
    /// operation), which made a whole step 3.3x slower, and they are below anything a weight can mean.
    private static func decode(_ header: Header, data: [UInt8], from start: Int) throws(WeightsError) -> WeightSet {
        var set = WeightSet(metadata: header.metadata)
        for e in header.entries {
            let count = (e.end - e.begin) / e.dtype.byteSize
            var bad: (index: Int, value: Float)?
            let values = data.withUnsafeBytes { raw in
                let base = raw.baseAddress! + start + e.begin
                return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                    for k in 0..<count {
                        var v = element(base, k, e.dtype)
                        if v.isSubnormal { v = 0 } else if !v.isFinite, bad == nil { bad = (k, v) }
                        buffer[k] = v
                    }
                    initialized = count
                }
            }
            if let bad {
                let what = bad.value.isNaN ? "a NaN" : bad.value > 0 ? "+Inf" : "-Inf"
                throw WeightsError("tensor \(e.name.prefix(64)) has \(what) at element \(bad.index)")
            }
            set.tensors[e.name] = Tensor(shape: e.shape, values: values)
        }
        return set
    }

    @inline(__always) private static func element(_ p: UnsafeRawPointer, _ k: Int, _ dtype: DType) -> Float {
        switch dtype {
        case .f32: Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * k, as: UInt32.self)))
        case .f64: Float(Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * k, as: UInt64.self))))
        case .f16: Float(Float16(bitPattern: UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * k, as: UInt16.self))))
        case .bf16: Float(bitPattern: UInt32(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * k, as: UInt16.self))) << 16)
        case .i64: Float(Int64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * k, as: Int64.self)))
        case .i32: Float(Int32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * k, as: Int32.self)))
        case .i16: Float(Int16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * k, as: Int16.self)))
        case .i8: Float(p.load(fromByteOffset: k, as: Int8.self))
        case .u8: Float(p.load(fromByteOffset: k, as: UInt8.self))
        case .bool: p.load(fromByteOffset: k, as: UInt8.self) == 0 ? 0 : 1
        }
    }

    // MARK: writing

    /// Serialises tensors (sorted by name, packed without gaps) as F32, F16 or BF16, with the metadata.
    public static func encode(_ set: WeightSet, dtype: DType = .f32) -> [UInt8] {
        precondition([.f32, .f16, .bf16].contains(dtype), "weights are written as F32, F16 or BF16")
        let names = set.tensors.keys.sorted()
        var json = "{"
        var fields: [String] = []
        if !set.metadata.isEmpty {
            let pairs = set.metadata.keys.sorted().map { "\(quoted($0)):\(quoted(set.metadata[$0]!))" }
            fields.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for name in names {
            let t = set.tensors[name]!
            let size = t.values.count * dtype.byteSize
            let shape = t.shape.map(String.init).joined(separator: ",")
            fields.append("\(quoted(name)):{\"dtype\":\"\(dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + size)]}")
            offset += size
        }
        json += fields.joined(separator: ",") + "}"
        var header = Array(json.utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var out: [UInt8] = []
        out.reserveCapacity(8 + header.count + offset)
        for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: UInt64(header.count) >> (8 * UInt64(k)))) }
        out += header
        for name in names {
            for v in set.tensors[name]!.values {
                switch dtype {
                case .f16: appendLE(&out, UInt64(Float16(v).bitPattern), 2)
                case .bf16: appendLE(&out, UInt64(bfloat16Bits(v)), 2)
                default: appendLE(&out, UInt64(v.bitPattern), 4)
                }
            }
        }
        return out
    }

    /// Writes atomically; a failure's text is the problem after `path: `.
    public static func write(_ set: WeightSet, path: String, dtype: DType = .f32) throws(WeightsError) {
        do { try OutputFile.write(encode(set, dtype: dtype), to: path) } catch { throw WeightsError(error.problem) }
    }

    private static func appendLE(_ out: inout [UInt8], _ v: UInt64, _ n: Int) {
        for k in 0..<n { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(k)))) }
    }

    /// Round-to-nearest-even truncation of a Float to bfloat16.
    static func bfloat16Bits(_ v: Float) -> UInt16 {
        let bits = v.bitPattern
        if v.isNaN { return UInt16(bits >> 16) | 0x40 }
        let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
        return UInt16(rounded >> 16)
    }

    static func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}
