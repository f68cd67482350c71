#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes one line to stderr with a single write(2), so errors interleave whole with the daemon's logs.
func printToStandardError(_ line: String) {
    printToStandardErrorRaw(line.hasSuffix("\n") ? line : line + "\n")
}

/// stderr as given, without adding a newline (a progress line redrawn with \r).
func printToStandardErrorRaw(_ text: String) {
    var bytes = Array(text.utf8)
    bytes.withUnsafeMutableBytes { buffer in
        var offset = 0
        while offset < buffer.count {
            let written = write(2, buffer.baseAddress! + offset, buffer.count - offset)
            if written <= 0 { break }
            offset += written
        }
    }
}
