/// The daemon's log line: `sideman: <level>: <message> key=value ...`, one line per event. No
/// timestamp (journald adds its own); keys sorted so lines diff cleanly; a value with a space, quote,
/// `=` or nothing in it is quoted, and line breaks become spaces so one event is always one line.
public enum LogLine {
    public static func format(level: String, message: String, metadata: [String: String] = [:]) -> String {
        var text = "sideman: \(level): \(oneLine(message))"
        for key in metadata.keys.sorted() {
            text += " \(oneLine(key))=\(quoted(metadata[key]!))"
        }
        return text
    }

    static func quoted(_ value: String) -> String {
        let plain = !value.isEmpty && !value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline })
        if plain { return value }
        var escaped = ""
        for character in oneLine(value) {
            if character == "\\" || character == "\"" { escaped.append("\\") }
            escaped.append(character)
        }
        return "\"\(escaped)\""
    }

    static func oneLine(_ text: String) -> String { String(text.map { $0.isNewline ? " " : $0 }) }
}
