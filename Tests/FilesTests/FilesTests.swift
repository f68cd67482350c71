import Foundation
import Testing

@testable import Files

/// A fresh folder per test, removed afterwards.
func withFolder(_ body: (String) throws -> Void) throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sideman-files-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try body(folder)
}

func makeFIFO(_ path: String) throws {
    try #require(mkfifo(path, 0o644) == 0, "mkfifo \(path): \(String(cString: strerror(errno)))")
}

func contents(_ path: String) throws -> [UInt8] {
    Array(try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// What `body` threw, as a FileProblem (nil when nothing was thrown, or something else).
func problem(_ body: () throws -> Void) -> FileProblem? {
    do {
        try body()
        return nil
    } catch {
        return error as? FileProblem
    }
}

@Suite struct InputFileTests {
    @Test func aRegularFileIsReadWhole() throws {
        try withFolder { folder in
            let path = "\(folder)/take.mid"
            try Data([1, 2, 3, 4]).write(to: URL(fileURLWithPath: path))
            #expect(try InputFile.read(path, limit: 4) == [1, 2, 3, 4])
            #expect(try InputFile.check(path).size == 4)
        }
    }

    @Test func aFIFOIsRefusedWithoutBeingOpened() throws {
        // Opening a FIFO with no writer would block this test for ever; the check must not open it.
        try withFolder { folder in
            let path = "\(folder)/preset.yaml"
            try makeFIFO(path)
            let checked = problem { try InputFile.check(path) }
            #expect(checked == FileProblem(path, "is a FIFO, not a regular file", .notRegular))
            let read = problem { _ = try InputFile.read(path, limit: 100) }
            #expect(read?.kind == .notRegular)
        }
    }

    @Test func devicesAndFoldersAreRefused() {
        #expect(problem { _ = try InputFile.read("/dev/zero", limit: 100) } == FileProblem("/dev/zero", "is a character device, not a regular file", .notRegular))
        #expect(problem { try InputFile.check("/tmp") }?.problem == "is a directory, not a regular file")
    }

    @Test func aMissingFileAndOneOverTheLimit() throws {
        #expect(problem { try InputFile.check("/nonexistent/x.mid") } == FileProblem("/nonexistent/x.mid", "no such file", .missing))
        try withFolder { folder in
            let path = "\(folder)/big"
            try Data(repeating: 7, count: 10).write(to: URL(fileURLWithPath: path))
            #expect(problem { _ = try InputFile.read(path, limit: 9) }?.kind == .tooLarge(bytes: 10))
        }
    }
}

@Suite struct OutputFileTests {
    @Test func aWriteReplacesTheFileWholeKeepsItsModeAndLeavesNoTemporaryFile() throws {
        try withFolder { folder in
            let path = "\(folder)/out.mid"
            try OutputFile.write([1, 2, 3], to: path)
            #expect(try contents(path) == [1, 2, 3])
            #expect(chmod(path, 0o600) == 0)
            try OutputFile.write([9], to: path)
            #expect(try contents(path) == [9])
            #expect(FileStatus(path: path)?.permissions == 0o600)
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["out.mid"])
        }
    }

    @Test func writingThroughALinkReplacesTheFileItNames() throws {
        try withFolder { folder in
            try OutputFile.write([1], to: "\(folder)/real.mid")
            try FileManager.default.createSymbolicLink(atPath: "\(folder)/link.mid", withDestinationPath: "real.mid")
            try OutputFile.write([2], to: "\(folder)/link.mid")
            #expect(try contents("\(folder)/real.mid") == [2])
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "\(folder)/link.mid") == "real.mid")
        }
    }

    @Test func anOutputThatIsAnInputIsRefusedAndTheInputKept() throws {
        try withFolder { folder in
            let input = "\(folder)/take.mid"
            try OutputFile.write([1, 2], to: input)
            try FileManager.default.createDirectory(atPath: "\(folder)/sub", withIntermediateDirectories: false)
            try FileManager.default.linkItem(atPath: input, toPath: "\(folder)/hard.mid")
            // The same name, another spelling of the path, a hard link (same device and inode).
            for output in [input, "\(folder)/sub/../take.mid", "\(folder)/hard.mid"] {
                let refused = problem { try OutputFile.write([0], to: output, notOver: [input]) }
                #expect(refused?.kind == .sameAsInput, "\(output)")
                #expect(refused?.problem.hasSuffix("write the output to another file") == true)
            }
            #expect(try contents(input) == [1, 2])
            // A new file that will sit at an input's path (spelled another way) is refused too.
            let fresh = "\(folder)/new.mid"
            #expect(problem { try OutputFile.check("\(folder)/sub/../new.mid", notOver: [fresh]) }?.kind == .sameAsInput)
        }
    }

    @Test func specialFilesAreRefusedNotOpened() throws {
        try withFolder { folder in
            let fifo = "\(folder)/out.mid"
            try makeFIFO(fifo)
            #expect(problem { try OutputFile.write([1], to: fifo) } == FileProblem(fifo, "cannot create: is a FIFO, not a regular file", .cannotCreate))
        }
        #expect(problem { try OutputFile.write([1], to: "/dev/null") }?.kind == .cannotCreate)
    }

    @Test func aFolderThatCannotHoldTheFileGivesTheSystemsWords() throws {
        #expect(problem { try OutputFile.write([1], to: "/nonexistent/out.mid") }
            == FileProblem("/nonexistent/out.mid", "cannot create: No such file or directory", .cannotCreate))
        try withFolder { folder in
            let file = "\(folder)/file"
            try OutputFile.write([1], to: file)
            #expect(problem { try OutputFile.write([1], to: "\(file)/out.mid") }?.problem == "cannot create: Not a directory")
            #expect(problem { try OutputFile.makeFolder("\(file)/sessions") } == FileProblem("\(file)/sessions", "cannot create: Not a directory", .cannotCreate))
            #expect(problem { try OutputFile.makeFolder(file) }?.problem == "cannot create: Not a directory")
            try OutputFile.makeFolder("\(folder)/a/b/c")
            try OutputFile.makeFolder("\(folder)/a/b/c")
            #expect(FileStatus(path: "\(folder)/a/b/c")?.kind == .directory)
        }
    }
}
