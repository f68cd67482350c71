#if canImport(Glibc)
    import Glibc
#endif

/// A `--connect-in` / `--connect-out` argument: a full port name (`fluidsynth:midi_00`), a shell glob
/// over full names (`a2j:*KeyStep*`), or a bare client name (`KeyStep`), which means all of that
/// client's ports.
public struct PortPattern: Hashable, Sendable, CustomStringConvertible {
    public let text: String

    public init(_ text: String) { self.text = text }

    public var description: String { text }

    /// Globs and bare client names are wide: they never pick Sideman's own ports, which would feed its
    /// output back into its input. An exact port name is taken as meant, own ports included.
    public var isWide: Bool { text.contains { "*?[".contains($0) } || !text.contains(":") }

    private var glob: String { text.contains(":") ? text : "\(text):*" }

    public func matches(_ portName: String) -> Bool {
        fnmatch(glob, portName, 0) == 0
    }

    /// Ports among `ports` to connect: MIDI ports going `direction`, matching, not our own when wide.
    public func select(
        from ports: [PortInfo], direction: PortDirection, ownClient: String
    ) -> [PortInfo] {
        ports.filter { port in
            port.type == "midi" && port.direction == direction && matches(port.name)
                && !(isWide && port.name.hasPrefix("\(ownClient):"))
        }
    }
}
