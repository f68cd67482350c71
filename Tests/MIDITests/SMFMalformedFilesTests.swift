import Testing

@testable import MIDI

/// Hand-made files for every class of error the reader reports, and for the oddities it tolerates.
enum Bytes {
    static func header(format: UInt16 = 1, tracks: UInt16 = 1, division: UInt16 = 96, length: UInt32 = 6, extra: [UInt8] = []) -> [UInt8] {
        Array("MThd".utf8) + be32(length) + be16(format) + be16(tracks) + be16(division) + extra
    }

    static func track(_ data: [UInt8], length: Int? = nil) -> [UInt8] {
        Array("MTrk".utf8) + be32(UInt32(length ?? data.count)) + data
    }

    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
    static func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }

    static let endOfTrack: [UInt8] = [0x00, 0xFF, 0x2F, 0x00]
    /// C, D, E as note-on / note-off pairs on channel 1, a quarter note apart at 96 ticks per quarter.
    static let notes: [UInt8] = [0x00, 0x90, 60, 100, 0x60, 0x80, 60, 0, 0x00, 0x90, 62, 100, 0x60, 0x80, 62, 0, 0x00, 0x90, 64, 100, 0x60, 0x80, 64, 0]
}

@Suite("SMF corrupt files")
struct SMFCorruptFilesTests {
    func failure(_ bytes: [UInt8]) -> MIDIFileError? {
        do {
            _ = try MIDIFileReader.read(bytes)
            return nil
        } catch {
            return error
        }
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var bytes: [UInt8]
        var kind: MIDIFileError.Kind
        var offset: Int
        var words: String
        var testDescription: String { name }
    }

    static let dataStart = 14 + 8

    static let cases: [Case] = [
        Case(name: "empty file", bytes: [], kind: .notAMIDIFile, offset: 0, words: "empty"),
        Case(name: "text file", bytes: Array("hello, this is not music\n".utf8), kind: .notAMIDIFile, offset: 0, words: "not a Standard MIDI File"),
        Case(name: "MIDI 2.0 clip file", bytes: Array("SMF2CLIP".utf8) + [0x00, 0x40, 0x00, 0x00], kind: .notAMIDIFile, offset: 0, words: "MIDI 2.0 Clip File"),
        Case(name: "system message with a status for data", bytes: Bytes.header() + Bytes.track([0x00, 0xF2, 0x7F, 0x90] + Bytes.endOfTrack), kind: .statusInsideMessage, offset: dataStart + 3, words: "where a data byte belongs"),
        Case(name: "file ends inside a system message", bytes: Bytes.header() + Bytes.track([0x00, 0xF2, 0x7F], length: 10), kind: .truncated, offset: dataStart + 3, words: "file ends inside an event"),
        Case(name: "file ends inside a meta event", bytes: Bytes.header() + Bytes.track(Bytes.notes + [0x00, 0xFF, 0x51], length: Bytes.notes.count + 7), kind: .truncated, offset: dataStart + Bytes.notes.count + 3, words: "file ends inside a meta event length"),
        Case(name: "MThd cut short", bytes: Array(Bytes.header().prefix(9)), kind: .truncated, offset: 9, words: "MThd"),
        Case(name: "only 'MT'", bytes: Array("MT".utf8), kind: .truncated, offset: 2, words: "MThd"),
        Case(name: "header length 4", bytes: Bytes.header(length: 4) + Bytes.track(Bytes.endOfTrack), kind: .badHeader, offset: 4, words: "shorter than 6"),
        Case(name: "header length past the end", bytes: Bytes.header(length: 600), kind: .truncated, offset: 4, words: "past the end"),
        Case(name: "format 3", bytes: Bytes.header(format: 3) + Bytes.track(Bytes.endOfTrack), kind: .unsupportedFormat, offset: 8, words: "unknown format 3"),
        Case(name: "division 0", bytes: Bytes.header(division: 0) + Bytes.track(Bytes.endOfTrack), kind: .badDivision, offset: 12, words: "0 ticks per quarter"),
        Case(name: "SMPTE 23 fps", bytes: Bytes.header(division: 0xE9_28) + Bytes.track(Bytes.endOfTrack), kind: .badDivision, offset: 12, words: "23 frames"),
        Case(name: "SMPTE 0 ticks per frame", bytes: Bytes.header(division: 0xE7_00) + Bytes.track(Bytes.endOfTrack), kind: .badDivision, offset: 13, words: "0 ticks per frame"),
        Case(name: "zero tracks", bytes: Bytes.header(tracks: 0), kind: .noTracks, offset: 14, words: "no MTrk"),
        Case(name: "garbage instead of tracks", bytes: Bytes.header() + [0x01, 0x02, 0x03], kind: .noTracks, offset: 14, words: "no MTrk"),
        Case(name: "track header cut short", bytes: Bytes.header() + Array("MTrk".utf8) + [0, 0], kind: .truncated, offset: 14, words: "header of track chunk 1"),
        Case(name: "track length past the end, no data", bytes: Bytes.header() + Array("MTrk".utf8) + Bytes.be32(100), kind: .truncated, offset: 18, words: "declares 100 bytes"),
        Case(name: "file cut after the first of two tracks' headers", bytes: Bytes.header(tracks: 2) + Bytes.track(Bytes.notes + Bytes.endOfTrack) + Array("MTrk".utf8) + Bytes.be32(4), kind: .truncated, offset: 14 + 8 + 28 + 4, words: "track 2 declares 4 bytes"),
        Case(name: "delta time of 5 bytes", bytes: Bytes.header() + Bytes.track([0x81, 0x81, 0x81, 0x81, 0x00, 0x90, 60, 1] + Bytes.endOfTrack), kind: .overlongQuantity, offset: dataStart, words: "longer than 4 bytes"),
        Case(name: "meta length of 5 bytes", bytes: Bytes.header() + Bytes.track([0x00, 0xFF, 0x01, 0x80, 0x80, 0x80, 0x80, 0x01, 0x41] + Bytes.endOfTrack), kind: .overlongQuantity, offset: dataStart + 3, words: "meta event length is longer"),
        Case(name: "data byte without status", bytes: Bytes.header() + Bytes.track([0x00, 0x40, 0x40] + Bytes.endOfTrack), kind: .dataWithoutStatus, offset: dataStart + 1, words: "no running status"),
        Case(name: "data byte after a meta event, no status before", bytes: Bytes.header() + Bytes.track([0x00, 0xFF, 0x01, 0x01, 0x41, 0x00, 0x40, 0x40] + Bytes.endOfTrack), kind: .dataWithoutStatus, offset: dataStart + 6, words: "no running status"),
        Case(name: "status byte inside a note-on", bytes: Bytes.header() + Bytes.track([0x00, 0x90, 60, 0x90] + Bytes.endOfTrack), kind: .statusInsideMessage, offset: dataStart + 3, words: "where a data byte belongs"),
        Case(name: "file ends inside a note-on", bytes: Bytes.header() + Bytes.track([0x00, 0x90, 60], length: 10), kind: .truncated, offset: dataStart + 3, words: "file ends inside an event"),
        Case(name: "file ends inside a delta time", bytes: Bytes.header() + Bytes.track(Bytes.notes + [0x81], length: 40), kind: .truncated, offset: dataStart + Bytes.notes.count + 1, words: "file ends inside a delta time"),
        Case(name: "meta event longer than the file", bytes: Bytes.header() + Bytes.track([0x00, 0xFF, 0x01, 0x7F, 0x41]), kind: .truncated, offset: dataStart + 3, words: "declares 127 bytes"),
        Case(name: "sysex claiming 256 MiB", bytes: Bytes.header() + Bytes.track([0x00, 0xF0, 0xFF, 0xFF, 0xFF, 0x7F, 0x01, 0x02]), kind: .truncated, offset: dataStart + 2, words: "sysex event of track 1 declares 268435455 bytes"),
        Case(name: "file cut on an event boundary, no end-of-track", bytes: Bytes.header() + Bytes.track(Bytes.notes, length: 1000), kind: .truncated, offset: dataStart + Bytes.notes.count, words: "declares 1000 bytes but has 24"),
        Case(name: "second track cut inside an event", bytes: Bytes.header(tracks: 2) + Bytes.track(Bytes.notes + Bytes.endOfTrack) + Bytes.track([0x00, 0xC0], length: 8), kind: .truncated, offset: 14 + 8 + 28 + 8 + 2, words: "track 2"),
    ]

    @Test("each class of corruption is an error with its problem and byte offset", arguments: cases)
    func corrupt(_ c: Case) throws {
        let error = try #require(failure(c.bytes), "\(c.name) was accepted")
        #expect(error.kind == c.kind)
        #expect(error.offset == c.offset, "\(error)")
        #expect(error.problem.contains(c.words), "\(error)")
        #expect(error.description.hasSuffix("at byte \(c.offset)"))
        #expect((0...max(c.bytes.count, 0)).contains(error.offset))
    }
}

@Suite("SMF tolerated oddities")
struct SMFToleratedFilesTests {
    let threeNotes: [(tick: Int, note: UInt8)] = [(0, 60), (96, 62), (192, 64)]

    func noteOns(_ file: MIDIFile, track: Int = 0) -> [(tick: Int, note: UInt8)] {
        file.tracks[track].events.compactMap { e in
            if case .channel(.noteOn(_, let n, let v)) = e.kind, v > 0 { return (e.tick, n) }
            return nil
        }
    }

    func read(_ bytes: [UInt8], warning words: String?, sourceLocation: SourceLocation = #_sourceLocation) throws -> MIDIFile {
        let outcome = try MIDIFileReader.read(bytes)
        if let words {
            #expect(outcome.warnings.contains { $0.problem.contains(words) }, "warnings: \(outcome.warnings)", sourceLocation: sourceLocation)
            #expect(outcome.warnings.allSatisfy { (0...bytes.count).contains($0.offset) }, sourceLocation: sourceLocation)
        } else {
            #expect(outcome.warnings.isEmpty, "warnings: \(outcome.warnings)", sourceLocation: sourceLocation)
        }
        return outcome.file
    }

    func expectThreeNotes(_ file: MIDIFile, track: Int = 0, sourceLocation: SourceLocation = #_sourceLocation) {
        let found = noteOns(file, track: track)
        #expect(found.map(\.tick) == threeNotes.map(\.tick), sourceLocation: sourceLocation)
        #expect(found.map(\.note) == threeNotes.map(\.note), sourceLocation: sourceLocation)
    }

    @Test func wellFormed() throws {
        expectThreeNotes(try read(Bytes.header() + Bytes.track(Bytes.notes + Bytes.endOfTrack), warning: nil))
    }

    @Test func missingEndOfTrack() throws {
        let file = try read(Bytes.header() + Bytes.track(Bytes.notes), warning: "no end-of-track")
        expectThreeNotes(file)
        #expect(file.tracks[0].endTick == 288)
    }

    @Test func missingEndOfTrackBeforeAnotherTrack() throws {
        let file = try read(Bytes.header(tracks: 2) + Bytes.track(Bytes.notes) + Bytes.track(Bytes.notes + Bytes.endOfTrack), warning: "no end-of-track")
        expectThreeNotes(file, track: 0)
        expectThreeNotes(file, track: 1)
    }

    @Test func garbageAfterLastTrack() throws {
        expectThreeNotes(try read(Bytes.header() + Bytes.track(Bytes.notes + Bytes.endOfTrack) + Array("*".utf8), warning: "garbage"))
        expectThreeNotes(try read(Bytes.header() + Bytes.track(Bytes.notes + Bytes.endOfTrack) + [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], warning: "garbage"))
    }

    @Test func trackLengthTooLongResyncsAtNextChunk() throws {
        let first = Bytes.track(Bytes.notes + Bytes.endOfTrack, length: 200)
        let file = try read(Bytes.header(tracks: 2) + first + Bytes.track(Bytes.notes + Bytes.endOfTrack), warning: "end-of-track is at byte")
        #expect(file.tracks.count == 2)
        expectThreeNotes(file, track: 1)
    }

    @Test func trackLengthTooShortKeepsEvents() throws {
        let file = try read(Bytes.header(tracks: 2) + Bytes.track(Bytes.notes + Bytes.endOfTrack, length: 10) + Bytes.track(Bytes.notes + Bytes.endOfTrack), warning: "its events run to byte")
        #expect(file.tracks.count == 2)
        expectThreeNotes(file, track: 0)
        expectThreeNotes(file, track: 1)
    }

    @Test func trackLengthTooShortWithGarbageAfterRollsBack() throws {
        // The declared 8 bytes hold the first note-on/off; what follows is not a valid event stream.
        let file = try read(Bytes.header() + Bytes.track([0x00, 0x90, 60, 100, 0x60, 0x80, 60, 0] + [0x00, 0xF5, 0xF5], length: 8), warning: "no end-of-track")
        #expect(noteOns(file).map(\.note) == [60])
    }

    @Test func trackLengthTooShortRunningToEndOfFile() throws {
        let file = try read(Bytes.header() + Bytes.track(Bytes.notes, length: 8), warning: "no end-of-track")
        #expect(noteOns(file).map(\.note) == [60])
    }

    @Test func trackLengthPastEndOfFileAfterEndOfTrack() throws {
        expectThreeNotes(try read(Bytes.header() + Bytes.track(Bytes.notes + Bytes.endOfTrack, length: 1000), warning: "end-of-track is at byte"))
    }

    @Test func nonMinimalQuantities() throws {
        // 80 80 80 60 is 0x60 written in four bytes: wasteful but valid (jazz-soft's test-vlq-4-byte does it).
        let data: [UInt8] = [0x80, 0x80, 0x80, 0x00, 0x90, 60, 100, 0x80, 0x80, 0x80, 0x60, 0x80, 60, 0] + Bytes.endOfTrack
        let file = try read(Bytes.header() + Bytes.track(data), warning: nil)
        #expect(file.tracks[0].events.map(\.tick) == [0, 96, 96])
    }

    @Test func paddingAfterEndOfTrack() throws {
        expectThreeNotes(try read(Bytes.header() + Bytes.track(Bytes.notes + Bytes.endOfTrack + [0, 0, 0]), warning: "after the end-of-track"))
    }

    @Test func runningStatusAcrossMetaEvent() throws {
        // Note-on, then a marker, then more note-ons relying on the earlier 0x90.
        let data: [UInt8] = [0x00, 0x90, 60, 100, 0x60, 60, 0, 0x00, 0xFF, 0x06, 0x01, 0x41, 0x00, 62, 100, 0x60, 62, 0, 0x00, 64, 100, 0x60, 64, 0]
        let file = try read(Bytes.header() + Bytes.track(data + Bytes.endOfTrack), warning: "running status across a meta or sysex event")
        expectThreeNotes(file)
    }

    @Test func runningStatusAcrossSysex() throws {
        let data: [UInt8] = [0x00, 0x90, 60, 100, 0x00, 0xF0, 0x02, 0x7E, 0xF7, 0x60, 60, 0]
        let file = try read(Bytes.header() + Bytes.track(data + Bytes.endOfTrack), warning: "running status across")
        #expect(file.tracks[0].events.compactMap(\.message) == [.noteOn(channel: 0, note: 60, velocity: 100), .noteOn(channel: 0, note: 60, velocity: 0)])
    }

    @Test func longHeader() throws {
        expectThreeNotes(try read(Bytes.header(length: 10, extra: [1, 2, 3, 4]) + Bytes.track(Bytes.notes + Bytes.endOfTrack), warning: "MThd length is 10"))
    }

    @Test func fewerTracksThanDeclared() throws {
        expectThreeNotes(try read(Bytes.header(tracks: 3) + Bytes.track(Bytes.notes + Bytes.endOfTrack), warning: "declares 3 tracks but the file has 1"))
    }

    @Test func formatZeroWithTwoTracks() throws {
        let file = try read(Bytes.header(format: 0, tracks: 2) + Bytes.track(Bytes.notes + Bytes.endOfTrack) + Bytes.track(Bytes.notes + Bytes.endOfTrack), warning: "format 0 file with 2 tracks")
        #expect(file.tracks.count == 2)
    }

    @Test func unknownChunksAreSkipped() throws {
        let junk = Array("Junk".utf8) + Bytes.be32(5) + Array("12345".utf8)
        let file = try read(Bytes.header(tracks: 2) + junk + Bytes.track(Bytes.notes + Bytes.endOfTrack), warning: nil)
        expectThreeNotes(file)
    }

    @Test func malformedTempoKeptAsUnknownMeta() throws {
        let file = try read(Bytes.header() + Bytes.track([0x00, 0xFF, 0x51, 0x02, 0x07, 0xA1] + Bytes.endOfTrack), warning: "malformed meta event 0x51")
        #expect(file.tracks[0].events.first?.kind == .meta(.unknown(type: 0x51, data: [0x07, 0xA1])))
    }

    @Test func endOfTrackWithData() throws {
        expectThreeNotes(try read(Bytes.header() + Bytes.track(Bytes.notes + [0x00, 0xFF, 0x2F, 0x01, 0x00]), warning: "end-of-track event of track 1 carries 1"))
    }

    @Test func riffWrappedFile() throws {
        let smf = Bytes.header() + Bytes.track(Bytes.notes + Bytes.endOfTrack)
        func le32(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)] }
        let riff = Array("RIFF".utf8) + le32(smf.count + 12) + Array("RMIDdata".utf8) + le32(smf.count) + smf
        expectThreeNotes(try read(riff, warning: nil))
    }

    /// jazz-soft's test-illegal-message files: system messages inside a track are skipped, the scale plays.
    @Test(arguments: [[0xF1, 0x7F], [0xF2, 0x7F, 0x7F], [0xF3, 0x7F], [0xF4], [0xF5], [0xF6], [0xF8], [0xF9], [0xFA], [0xFB], [0xFC], [0xFD], [0xFE]] as [[UInt8]])
    func systemMessagesInATrackAreSkipped(message: [UInt8]) throws {
        let file = try read(Bytes.header() + Bytes.track([0x00] + message + Bytes.notes + Bytes.endOfTrack), warning: "does not belong in a MIDI file")
        expectThreeNotes(file)
    }

    /// jazz-soft's test-corrupt-file-missing-byte: only the end-of-track's length byte is gone.
    @Test func missingLastByteOfEndOfTrack() throws {
        let bytes = Bytes.header() + Bytes.track(Bytes.notes + Bytes.endOfTrack)
        expectThreeNotes(try read(Array(bytes.dropLast()), warning: "its length byte is missing"))
    }

    @Test func smpteDivision() throws {
        let file = try read(Bytes.header(division: 0xE7_28) + Bytes.track(Bytes.notes + Bytes.endOfTrack), warning: nil)
        #expect(file.division == .smpte(framesPerSecond: 25, ticksPerFrame: 40))
    }
}
