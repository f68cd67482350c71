/// Where the metrics server listens: an IPv4 address and a TCP port, written `HOST:PORT`
/// (`127.0.0.1:9464`; `localhost` means 127.0.0.1; port 0 picks a free one).
public struct MetricsAddress: Sendable, Equatable, CustomStringConvertible {
    /// The four bytes of the IPv4 address, most significant first.
    public var octets: [UInt8]
    public var port: UInt16

    public init(octets: [UInt8], port: UInt16) {
        self.octets = octets
        self.port = port
    }

    /// Parses `HOST:PORT`; anything else throws, saying what was expected.
    public init(parsing text: String) throws(MetricsAddressError) {
        guard let colon = text.lastIndex(of: ":") else {
            throw MetricsAddressError("\(text): expected HOST:PORT, e.g. 127.0.0.1:9464")
        }
        let host = String(text[..<colon])
        guard let port = UInt16(text[text.index(after: colon)...]) else {
            throw MetricsAddressError("\(text): the port must be a number 0...65535")
        }
        if host == "localhost" {
            self.init(octets: [127, 0, 0, 1], port: port)
            return
        }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        let octets = parts.compactMap { part in part.count <= 3 ? UInt8(part) : nil }
        guard parts.count == 4, octets.count == 4 else {
            throw MetricsAddressError("\(text): the host must be an IPv4 address such as 127.0.0.1")
        }
        self.init(octets: octets, port: port)
    }

    /// 127.0.0.0/8: reachable from this machine only.
    public var isLoopback: Bool { octets.first == 127 }

    public var host: String { octets.map(String.init).joined(separator: ".") }
    public var description: String { "\(host):\(port)" }
}

public struct MetricsAddressError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
