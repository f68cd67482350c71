import Foundation
import Service

#if canImport(Glibc)
    import Glibc
#endif

/// Sideman as a client of a session manager speaking the NSM protocol (new-session-manager's nsmd,
/// RaySession, Agordejo): nsmd starts it with NSM_URL set; it announces itself, the server answers with
/// the session's folder and a client id, and Sideman runs from there: the JACK client is named after the
/// id (so the session's connections find it), the preset it plays is kept in the folder's `session.yaml`
/// and MIDI learn in its `learned.yaml`. Save is answered at once (everything is on disk as it changes);
/// quit is SIGTERM, as for systemd.
public final class NSMClient: @unchecked Sendable {
    // @unchecked: the socket is used by the control thread until `listen` starts, then by the listening
    // thread alone (replies are written to the socket from it).
    public struct Opened: Equatable, Sendable {
        public var folder: String
        public var displayName: String
        public var clientID: String
    }

    public struct Problem: Error, CustomStringConvertible {
        public var description: String
    }

    private let socket: Int32
    private var server: sockaddr_in

    /// `url` as nsmd gives it: `osc.udp://HOST:PORT/`.
    public init(url: String) throws {
        guard url.hasPrefix("osc.udp://") else { throw Problem(description: "NSM_URL \(url): expected osc.udp://HOST:PORT/") }
        let rest = url.dropFirst("osc.udp://".count).split(separator: "/", maxSplits: 1).first ?? ""
        guard let colon = rest.lastIndex(of: ":"), let port = UInt16(rest[rest.index(after: colon)...]) else {
            throw Problem(description: "NSM_URL \(url): expected osc.udp://HOST:PORT/")
        }
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(String(rest[..<colon]), String(port), &hints, &found) == 0, let first = found else {
            throw Problem(description: "NSM_URL \(url): cannot resolve \(rest[..<colon])")
        }
        defer { freeaddrinfo(found) }
        server = first.pointee.ai_addr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee }
        socket = Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard socket >= 0 else { throw Problem(description: "cannot open a UDP socket: \(String(cString: strerror(errno)))") }
    }

    deinit { close(socket) }

    public func send(_ message: OSCMessage) {
        let bytes = message.bytes
        var to = server
        _ = withUnsafePointer(to: &to) { address in
            address.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(socket, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }

    /// The next message within `seconds`, nil when none came.
    func receive(seconds: Double) -> OSCMessage? {
        var poller = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Int32(seconds * 1000)) > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = recv(socket, &buffer, buffer.count, 0)
        guard count > 0 else { return nil }
        return OSCMessage(bytes: Array(buffer[0..<count]))
    }

    /// Announces Sideman and waits for the server to open a session for it.
    public func announce(timeout: Double = 10) throws -> Opened {
        send(OSCMessage("/nsm/server/announce", [
            .string("Sideman"), .string(""), .string("sideman"), .int(1), .int(2), .int(Int32(getpid())),
        ]))
        let deadline = MonotonicClock.seconds() + timeout
        while MonotonicClock.seconds() < deadline {
            guard let message = receive(seconds: max(0.01, deadline - MonotonicClock.seconds())) else { continue }
            switch message.address {
            case "/error":
                throw Problem(description: "the session manager refused Sideman: \(message.strings.dropFirst().joined(separator: " "))")
            case "/nsm/client/open":
                let fields = message.strings
                guard fields.count == 3 else {
                    send(OSCMessage("/error", [.string("/nsm/client/open"), .int(-1), .string("expected path, display name and client id")]))
                    continue
                }
                return Opened(folder: fields[0], displayName: fields[1], clientID: fields[2])
            default:
                continue  // the announce's /reply, or anything else before the open
            }
        }
        throw Problem(description: "no session opened within \(Int(timeout)) s of announcing to \(Self.describe(server))")
    }

    public func replyOpened() { send(OSCMessage("/reply", [.string("/nsm/client/open"), .string("Sideman is playing")])) }

    public func refuseOpen(_ problem: String) {
        send(OSCMessage("/error", [.string("/nsm/client/open"), .int(-1), .string(problem)]))
    }

    /// Answers the server from a thread of its own from now on: save at once (nothing is unsaved), and
    /// anything else this client does not do with an error.
    public func listen() {
        let thread = Thread { [self] in
            while true {
                guard let message = receive(seconds: 1) else { continue }
                switch message.address {
                case "/nsm/client/save":
                    send(OSCMessage("/reply", [.string("/nsm/client/save"), .string("saved")]))
                case "/nsm/client/open":
                    send(OSCMessage("/error", [.string("/nsm/client/open"), .int(-8), .string("Sideman opens a session only when it starts")]))
                default:
                    break
                }
            }
        }
        thread.name = "sideman-nsm"
        thread.start()
    }

    private static func describe(_ address: sockaddr_in) -> String {
        var copy = address.sin_addr
        var text = [CChar](repeating: 0, count: 32)
        inet_ntop(AF_INET, &copy, &text, 32)
        return "\(String(cString: text)):\(UInt16(bigEndian: address.sin_port))"
    }
}

/// The session this process runs in, when a session manager started it.
public struct NSMSession: Sendable {
    public var folder: String
    public var clientID: String
    public var preset: String
    nonisolated(unsafe) public static var current: NSMSession? = nil

    public init(folder: String, clientID: String, preset: String) {
        self.folder = folder
        self.clientID = clientID
        self.preset = preset
    }
}

/// What a session folder keeps for Sideman: `session.yaml` names the preset it plays.
public enum NSMSessionFolder {
    /// The preset to play in `folder`: the one its session.yaml names, else `preset` (written there).
    public static func preset(in folder: String, default preset: String) throws -> String {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let file = "\(folder)/session.yaml"
        if let text = try? String(contentsOfFile: file, encoding: .utf8) {
            for line in text.split(separator: "\n") where line.hasPrefix("preset:") {
                let name = line.dropFirst("preset:".count).trimmingCharacters(in: .whitespaces)
                if !name.isEmpty { return name }
            }
            throw NSMClient.Problem(description: "\(file): no `preset:` line")
        }
        try "# Sideman in an NSM session: the preset this session plays (a name or a path).\npreset: \(preset)\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        return preset
    }
}
