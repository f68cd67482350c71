/// Reads Standard MIDI Files (formats 0, 1 and 2) from bytes.
///
/// Where the line between "warning" and "corrupt" lies, and why. The rule: an oddity is tolerated when
/// every event the file meant to hold can still be read unambiguously; the file is corrupt when the
/// reader would have to guess at bytes, or when the song was cut short. Real readers disagree at the
/// edges. Measured with mido 1.2.10: it reads files without end-of-track, with trailing bytes, with a
/// long header and with running status across meta or sysex events, and refuses files cut short (even
/// on an event boundary), wrong track lengths, fewer tracks than declared and unknown chunks, while it
/// lets realtime bytes, 5-byte quantities, format 3 and zero tracks through. FluidSynth and libsmf
/// refuse chunks that run past the end of the file; midly's lenient mode keeps what it could read.
/// We tolerate everything issue 2 names (missing end-of-track, trailing garbage, wrong track length,
/// running status across meta events) and the other cases where the data is still unambiguous, and
/// refuse the rest with the byte offset where reading had to stop. System common and realtime
/// messages have no place in a file, but each has a fixed length, so a file that holds one is still
/// unambiguous: players skip them and so do we (jazz-soft's conformance files expect the music around
/// them to play). Likewise a file whose last byte (the end-of-track's zero length) is missing still
/// holds every event it meant to.
///
/// | situation                                                   | outcome                        |
/// |-------------------------------------------------------------|--------------------------------|
/// | empty file, no `MThd` at byte 0 (RIFF RMID wrapper unwrapped)| error: not a Standard MIDI File|
/// | file ends inside the header chunk                           | error: truncated               |
/// | header length < 6                                           | error                          |
/// | header length > 6                                           | warning, extra bytes skipped   |
/// | format > 2                                                  | error                          |
/// | division 0 ticks/quarter, SMPTE rate not 24/25/29/30, 0 ticks/frame | error                  |
/// | no `MTrk` chunk at all                                      | error: no tracks               |
/// | track count differs from the header                         | warning                        |
/// | format 0 with several tracks                                | warning, all tracks read       |
/// | unknown chunk type (4 ASCII characters)                     | skipped silently               |
/// | bytes after the last chunk that are not a chunk             | warning: garbage ignored       |
/// | missing end-of-track                                        | warning                        |
/// | track length too long (end-of-track earlier, next chunk there) | warning, resync at the chunk |
/// | track length too short (events run on to an end-of-track)   | warning, events kept           |
/// | track length too short, what follows does not parse          | warning, chunk's events kept   |
/// | bytes between end-of-track and the declared chunk end       | warning, skipped               |
/// | end-of-track carrying data bytes                            | warning                        |
/// | track length beyond end of file, end-of-track before the end | warning (a wrong length)      |
/// | track length beyond end of file, no end-of-track (file cut) | error: truncated               |
/// | file ends inside an event                                   | error: truncated               |
/// | running status after a meta or sysex event                  | warning (once per track)       |
/// | data byte with no running status                            | error                          |
/// | status byte where a data byte must be                       | error                          |
/// | F1...F6, F8...FE as a track event (illegal in files)        | warning, skipped with its data |
/// | file ends right after the FF 2F of the last end-of-track    | warning (only the length byte is lost) |
/// | variable-length quantity longer than 4 bytes                | error                          |
/// | known meta event with malformed data (tempo not 3 bytes...) | warning, kept as unknown meta  |
///
/// Every length is checked against the bytes that remain before anything is allocated, so a crafted
/// length never causes a large allocation: memory is bounded by a small multiple of the input size.
public struct MIDIFileReader {
    public struct Outcome: Sendable {
        public var file: MIDIFile
        public var warnings: [MIDIFileWarning]
    }

    /// Files larger than this are refused: no real song comes near it, and it bounds memory.
    public static let maximumFileSize = 64 << 20

    public static func read(_ bytes: [UInt8]) throws(MIDIFileError) -> Outcome {
        var reader = MIDIFileReader(bytes: bytes)
        return try reader.readFile()
    }

    private let bytes: [UInt8]
    private var start = 0
    private var end: Int
    private var warnings: [MIDIFileWarning] = []

    private init(bytes: [UInt8]) {
        self.bytes = bytes
        self.end = bytes.count
    }

    private mutating func warn(_ problem: String, at offset: Int) {
        warnings.append(MIDIFileWarning(problem, at: offset))
    }

    // MARK: Header

    private mutating func readFile() throws(MIDIFileError) -> Outcome {
        guard bytes.count <= Self.maximumFileSize else {
            throw MIDIFileError(.tooLarge, "file of \(bytes.count) bytes is larger than the \(Self.maximumFileSize >> 20) MiB limit", at: 0)
        }
        guard !bytes.isEmpty else { throw MIDIFileError(.notAMIDIFile, "empty file", at: 0) }
        unwrapRIFF()
        guard hasTag("MThd", at: start) else {
            if end - start < 4, Array("MThd".utf8).starts(with: bytes[start..<end]) {
                throw MIDIFileError(.truncated, "file ends inside the MThd header", at: end)
            }
            if end - start >= 8 && Array(bytes[start..<start + 8]) == Array("SMF2CLIP".utf8) {
                throw MIDIFileError(.notAMIDIFile, "a MIDI 2.0 Clip File, not a Standard MIDI File", at: start)
            }
            throw MIDIFileError(.notAMIDIFile, "not a Standard MIDI File (no MThd header)", at: start)
        }
        guard end - start >= 14 else {
            throw MIDIFileError(.truncated, "file ends inside the MThd header", at: end)
        }
        let headerLength = Int(uint32(at: start + 4))
        guard headerLength >= 6 else {
            throw MIDIFileError(.badHeader, "MThd length \(headerLength) is shorter than 6", at: start + 4)
        }
        let headerEnd = start + 8 + headerLength
        guard headerEnd <= end else {
            throw MIDIFileError(.truncated, "MThd length \(headerLength) runs past the end of the file", at: start + 4)
        }
        if headerLength > 6 {
            warn("MThd length is \(headerLength), not 6; extra header bytes ignored", at: start + 4)
        }
        let formatCode = uint16(at: start + 8)
        guard let format = MIDIFile.Format(rawValue: formatCode) else {
            throw MIDIFileError(.unsupportedFormat, "unknown format \(formatCode)", at: start + 8)
        }
        let declaredTracks = Int(uint16(at: start + 10))
        let division = try readDivision(at: start + 12)

        var tracks: [MIDITrack] = []
        var alienChunks = 0
        var position = headerEnd
        while position < end {
            guard end - position >= 8 else {
                if tracks.count < declaredTracks, isChunkTagPrefix(from: position) {
                    throw MIDIFileError(.truncated, "file ends inside the header of track chunk \(tracks.count + 1)", at: position)
                }
                warn("\(end - position) bytes of garbage after the last chunk ignored", at: position)
                break
            }
            if hasTag("MTrk", at: position) {
                let (track, next) = try readTrack(chunkAt: position, index: tracks.count)
                tracks.append(track)
                position = next
            } else if isChunkTag(at: position) {
                // Chunks of other types are allowed by the standard and ignored by every reader.
                let length = Int(uint32(at: position + 4))
                alienChunks += 1
                if length > end - position - 8 {
                    warn("chunk of unknown type runs past the end of the file; ignored", at: position)
                    break
                }
                position += 8 + length
            } else {
                warn("\(end - position) bytes of garbage after the last chunk ignored", at: position)
                break
            }
        }

        guard !tracks.isEmpty else {
            throw MIDIFileError(.noTracks, "no MTrk track chunk", at: headerEnd)
        }
        if tracks.count != declaredTracks && tracks.count + alienChunks != declaredTracks {
            warn("header declares \(declaredTracks) tracks but the file has \(tracks.count)", at: start + 10)
        }
        if format == .singleTrack && tracks.count > 1 {
            warn("format 0 file with \(tracks.count) tracks; all are read", at: start + 8)
        }
        return Outcome(file: MIDIFile(format: format, division: division, tracks: tracks), warnings: warnings)
    }

    private func readDivision(at offset: Int) throws(MIDIFileError) -> MIDIFile.Division {
        let raw = uint16(at: offset)
        if raw & 0x8000 == 0 {
            guard raw > 0 else { throw MIDIFileError(.badDivision, "division of 0 ticks per quarter note", at: offset) }
            return .ticksPerQuarter(raw)
        }
        let fps = UInt8(truncatingIfNeeded: -Int(Int8(bitPattern: UInt8(raw >> 8))))
        let perFrame = UInt8(raw & 0xFF)
        guard [24, 25, 29, 30].contains(fps) else {
            throw MIDIFileError(.badDivision, "SMPTE division with \(fps) frames per second (24, 25, 29 or 30 expected)", at: offset)
        }
        guard perFrame > 0 else { throw MIDIFileError(.badDivision, "SMPTE division of 0 ticks per frame", at: offset + 1) }
        return .smpte(framesPerSecond: fps, ticksPerFrame: perFrame)
    }

    /// RMID files wrap an SMF in a RIFF "data" chunk; players open them, so the reader looks inside.
    private mutating func unwrapRIFF() {
        guard bytes.count >= 20, hasTag("RIFF", at: 0), hasTag("RMID", at: 8) else { return }
        var p = 12
        while p + 8 <= bytes.count {
            let length = Int(uint32LE(at: p + 4))
            if hasTag("data", at: p) {
                start = p + 8
                end = min(bytes.count, start + length)
                return
            }
            p += 8 + length + (length & 1)
        }
    }

    // MARK: Tracks

    private struct TrackState {
        var events: [SMFEvent] = []
        var tick = 0
        var runningStatus: UInt8? = nil
        /// A meta or sysex event came after the last channel status; the standard cancels running
        /// status there, real files often rely on it anyway.
        var runningStatusCancelled = false
        var warnedRunningStatus = false
    }

    private mutating func readTrack(chunkAt chunk: Int, index: Int) throws(MIDIFileError) -> (MIDITrack, next: Int) {
        let dataStart = chunk + 8
        let declaredLength = Int(uint32(at: chunk + 4))
        let declaredEnd = dataStart + declaredLength
        let number = index + 1
        if declaredEnd > end && dataStart == end {
            throw MIDIFileError(.truncated, "track \(number) declares \(declaredLength) bytes but the file ends at its header", at: chunk + 4)
        }

        var state = TrackState()
        var position = dataStart
        // The reader's state at the last event boundary inside the declared chunk: where to roll back to
        // if events read past the declared end turn out to be garbage.
        var inside = (events: 0, warnings: warnings.count)

        while true {
            if position <= declaredEnd {
                inside = (state.events.count, warnings.count)
            }
            if position == declaredEnd && (declaredEnd >= end || isChunkTag(at: declaredEnd)) {
                warn("track \(number) has no end-of-track event", at: declaredEnd)
                return (MIDITrack(events: state.events), declaredEnd)
            }
            if position >= end && declaredEnd < end {
                // Events ran on past a too-short declared length to the end of the file without an
                // end-of-track: they were never part of the track. Keep what the chunk held.
                state.events.removeSubrange(inside.events...)
                warnings.removeSubrange(inside.warnings...)
                warn("track \(number) has no end-of-track event", at: declaredEnd)
                return (MIDITrack(events: state.events), declaredEnd)
            }
            if position >= end {
                // The chunk promised more and no end-of-track came: the file was cut short. Even on an
                // event boundary the rest of the song is gone, so this is truncation, not a wrong length.
                throw MIDIFileError(.truncated, "file ends inside track \(number), which declares \(declaredLength) bytes but has \(end - dataStart)", at: end)
            }
            do {
                if try readEvent(at: &position, track: number, state: &state) {
                    let next = finishTrack(number, endOfTrackEnd: position, declaredEnd: declaredEnd, declaredLength: declaredLength)
                    return (MIDITrack(events: state.events), next)
                }
            } catch {
                // Events that only exist because the declared length was too short are garbage after
                // all: keep what lay inside the chunk and carry on at the chunk's declared end.
                if declaredEnd < end && error.offset >= declaredEnd {
                    state.events.removeSubrange(inside.events...)
                    warnings.removeSubrange(inside.warnings...)
                    warn("track \(number) has no end-of-track event", at: declaredEnd)
                    return (MIDITrack(events: state.events), declaredEnd)
                }
                throw error
            }
        }
    }

    /// Where the next chunk starts once a track's end-of-track event has been read.
    private mutating func finishTrack(_ number: Int, endOfTrackEnd q: Int, declaredEnd: Int, declaredLength: Int) -> Int {
        if q == declaredEnd { return q }
        if q > declaredEnd {
            warn("track \(number) declares \(declaredLength) bytes but its events run to byte \(q)", at: q)
            return q
        }
        // The end-of-track came early. Trust the declared length when it lands on a chunk or the end of
        // the file (padding after end-of-track); otherwise resync where the data says the track ends.
        if declaredEnd <= end && (declaredEnd == end || isChunkTag(at: declaredEnd)) {
            warn("\(declaredEnd - q) bytes after the end-of-track of track \(number) ignored", at: q)
            return declaredEnd
        }
        warn("track \(number) declares \(declaredLength) bytes but its end-of-track is at byte \(q)", at: q)
        return q
    }

    /// Reads one event; returns true when it was the end-of-track.
    private mutating func readEvent(at position: inout Int, track: Int, state: inout TrackState) throws(MIDIFileError) -> Bool {
        let delta = try quantity(at: &position, what: "delta time")
        state.tick += Int(delta)
        guard position < end else {
            throw MIDIFileError(.truncated, "file ends inside an event of track \(track)", at: position)
        }
        let statusOffset = position
        var status = bytes[position]
        if status < 0x80 {
            guard let running = state.runningStatus else {
                throw MIDIFileError(.dataWithoutStatus, "data byte \(hex(status)) with no running status in track \(track)", at: position)
            }
            if state.runningStatusCancelled && !state.warnedRunningStatus {
                warn("track \(track) uses running status across a meta or sysex event", at: position)
                state.warnedRunningStatus = true
            }
            status = running
        } else {
            position += 1
        }

        switch status {
        case 0x80...0xEF:
            let count = MIDIMessage.dataLength(forStatus: status) ?? 0
            guard end - position >= count else {
                throw MIDIFileError(.truncated, "file ends inside an event of track \(track)", at: end)
            }
            for i in 0..<count where bytes[position + i] >= 0x80 {
                throw MIDIFileError(.statusInsideMessage, "status byte \(hex(bytes[position + i])) where a data byte belongs in track \(track)", at: position + i)
            }
            let d1 = bytes[position]
            let d2 = count == 2 ? bytes[position + 1] : 0
            position += count
            // Channel statuses always decode.
            if let message = MIDIMessage(status: status, data1: d1, data2: d2) {
                state.events.append(SMFEvent(tick: state.tick, .channel(message)))
            }
            state.runningStatus = status
            state.runningStatusCancelled = false
            return false

        case 0xFF:
            guard position < end else {
                throw MIDIFileError(.truncated, "file ends inside a meta event of track \(track)", at: position)
            }
            let type = bytes[position]
            position += 1
            if type == 0x2F && position == end {
                warn("the file ends inside the end-of-track event of track \(track) (its length byte is missing)", at: position)
                state.events.append(SMFEvent(tick: state.tick, .meta(.endOfTrack)))
                return true
            }
            let data = try payload(at: &position, what: "meta event", track: track)
            state.runningStatusCancelled = true
            if type == 0x2F {
                if !data.isEmpty { warn("end-of-track event of track \(track) carries \(data.count) data bytes", at: statusOffset) }
                state.events.append(SMFEvent(tick: state.tick, .meta(.endOfTrack)))
                return true
            }
            if let meta = MetaEvent(type: type, data: data) {
                state.events.append(SMFEvent(tick: state.tick, .meta(meta)))
            } else {
                warn("malformed meta event \(hex(type)) with \(data.count) data bytes in track \(track); kept unparsed", at: statusOffset)
                state.events.append(SMFEvent(tick: state.tick, .meta(.unknown(type: type, data: data))))
            }
            return false

        case 0xF0, 0xF7:
            let data = try payload(at: &position, what: "sysex event", track: track)
            state.runningStatusCancelled = true
            state.events.append(SMFEvent(tick: state.tick, .sysex(SysexEvent(form: status == 0xF0 ? .start : .escape, bytes: data))))
            return false

        case 0xF1...0xF6, 0xF8...0xFE:
            // Undefined statuses (F4, F5, F9, FD) are single bytes, like the realtime ones.
            let count = MIDIMessage.dataLength(forStatus: status) ?? 0
            guard end - position >= count else {
                throw MIDIFileError(.truncated, "file ends inside an event of track \(track)", at: end)
            }
            for i in 0..<count where bytes[position + i] >= 0x80 {
                throw MIDIFileError(.statusInsideMessage, "status byte \(hex(bytes[position + i])) where a data byte belongs in track \(track)", at: position + i)
            }
            position += count
            warn("system message \(hex(status)) does not belong in a MIDI file; skipped in track \(track)", at: statusOffset)
            // System common messages end running status on the wire; realtime ones leave it alone.
            if status < 0xF8 { state.runningStatus = nil }
            return false

        default:
            throw MIDIFileError(.invalidStatus, "invalid status byte \(hex(status)) in track \(track)", at: statusOffset)
        }
    }

    /// A length-prefixed payload; the length is checked against the file before anything is copied.
    private func payload(at position: inout Int, what: String, track: Int) throws(MIDIFileError) -> [UInt8] {
        let lengthOffset = position
        let length = Int(try quantity(at: &position, what: "\(what) length"))
        guard length <= end - position else {
            throw MIDIFileError(.truncated, "\(what) of track \(track) declares \(length) bytes but the file ends after \(end - position)", at: lengthOffset)
        }
        let data = Array(bytes[position..<position + length])
        position += length
        return data
    }

    private func quantity(at position: inout Int, what: String) throws(MIDIFileError) -> UInt32 {
        switch VariableLengthQuantity.decode(bytes, at: position, end: end) {
        case .success(let (value, next)):
            position = next
            return value
        case .failure(.truncated):
            throw MIDIFileError(.truncated, "file ends inside a \(what)", at: end)
        case .failure(.tooLong):
            throw MIDIFileError(.overlongQuantity, "\(what) is longer than 4 bytes", at: position)
        }
    }

    // MARK: Bytes

    private func uint32(at p: Int) -> UInt32 {
        UInt32(bytes[p]) << 24 | UInt32(bytes[p + 1]) << 16 | UInt32(bytes[p + 2]) << 8 | UInt32(bytes[p + 3])
    }

    private func uint32LE(at p: Int) -> UInt32 {
        UInt32(bytes[p]) | UInt32(bytes[p + 1]) << 8 | UInt32(bytes[p + 2]) << 16 | UInt32(bytes[p + 3]) << 24
    }

    private func uint16(at p: Int) -> UInt16 {
        UInt16(bytes[p]) << 8 | UInt16(bytes[p + 1])
    }

    private func hasTag(_ tag: StaticString, at p: Int) -> Bool {
        guard p >= 0, p + 4 <= end else { return false }
        let utf8 = tag.utf8Start
        for i in 0..<4 where bytes[p + i] != utf8[i] { return false }
        return true
    }

    /// A chunk starts with four printable ASCII characters and a 4-byte length.
    private func isChunkTag(at p: Int) -> Bool {
        guard p >= 0, p + 8 <= end else { return false }
        for i in 0..<4 where !(0x20...0x7E).contains(bytes[p + i]) { return false }
        return true
    }

    /// The bytes from `p` to the end are the start of an "MTrk" tag (a chunk header cut short).
    private func isChunkTagPrefix(from p: Int) -> Bool {
        let tag = Array("MTrk".utf8)
        let tail = bytes[p..<end]
        return tail.count < 4 ? tag.starts(with: tail) : Array(tail.prefix(4)) == tag
    }
}
