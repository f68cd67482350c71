import Engine
import Foundation
import Files
import Testing

@testable import Live

/// MIDI learn from the engine thread to the log and the preset's learned-controls file.
@Suite struct LearnKeepingTests {
    func folder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sideman-learn-\(getpid())-\(Int.random(in: 0..<1_000_000))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func theBoardCarriesEventsInOrderAndKeepsTheLastWhenOverrun() {
        let board = LearnBoard()
        board.learning(true)
        #expect(board.isLearning)
        board.learned(.temperature, controller: 74)
        board.learned(.mute(part: 3), controller: 40)
        board.learning(false)
        #expect(board.drain() == [.learning(true), .learned(.temperature, controller: 74), .learned(.mute(part: 3), controller: 40), .learning(false)])
        #expect(board.drain().isEmpty && !board.isLearning)
        for c in 0..<100 { board.learned(.fill, controller: UInt8(c)) }
        let overrun = board.drain()
        #expect(overrun.count == LearnBoard.capacity && overrun.last == .learned(.fill, controller: 99))
    }

    @Test func aLearnedFileRoundTripsAndALaterControllerMovesOffAnEarlierFunction() throws {
        let path = try folder() + "/learned/band.yaml"
        var learned = LearnedControls()
        let parts = ["bass", "keys"]
        learned.assign(74, to: .temperature, partNames: parts)
        learned.assign(40, to: .mute(part: 1), partNames: parts)
        learned.assign(74, to: .density, partNames: parts)  // 74 now means density only
        try learned.write(path: path, presetName: "band")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix("# MIDI learn for preset band"))
        #expect(text.contains("mute.keys: 40\ndensity: 74\n") && !text.contains("temperature"))
        let back = try LearnedControls.read(path: path)
        #expect(back == learned)
        let functions = back.functions(partNames: parts)
        #expect(functions.map(\.function) == [.mute(part: 1), .density] && functions.map(\.controller) == [40, 74])
        // A preset without that part: its mute is skipped.
        #expect(back.functions(partNames: ["bass"]).map(\.function) == [.density])
    }

    @Test func aBrokenFileIsOneProblemNamingTheFileAndLine() throws {
        let path = try folder() + "/broken.yaml"
        try "# ok\ntemperature: 74\ndensity: loud\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: Files.FileProblem.self) { _ = try LearnedControls.read(path: path) }
        do {
            _ = try LearnedControls.read(path: path)
        } catch {
            #expect(error.path == path && error.problem.hasPrefix("line 3: expected `name: controller` (0-119)"))
        }
    }

    @Test func theFileLivesInTheServicesStateFolderElseTheUsersState() {
        #expect(LearnedControls.path(presetName: "band", environment: ["STATE_DIRECTORY": "/var/lib/sideman", "HOME": "/root"]) == "/var/lib/sideman/learned/band.yaml")
        #expect(LearnedControls.path(presetName: "my band/2", environment: ["XDG_STATE_HOME": "/s", "HOME": "/h"]) == "/s/sideman/learned/my_band_2.yaml")
        #expect(LearnedControls.path(presetName: "band", environment: ["HOME": "/h"]) == "/h/.local/state/sideman/learned/band.yaml")
        #expect(LearnedControls.path(presetName: "band", environment: [:]) == nil)
    }

    @Test func keepingSaysWhatWasLearnedWhatComesNextAndWritesIt() throws {
        let path = try folder() + "/learned/band.yaml"
        var keeping = LearnKeeping(presetName: "band", partNames: ["bass"], path: path, learned: LearnedControls())
        #expect(keeping.take(.learning(true)).line == "MIDI learn on: move a control for each of temperature, density, mode, panic, next_section, fill, ending, mute.bass in turn")
        let said = keeping.take(.learned(.temperature, controller: 74))
        #expect(said.line == "MIDI learn: temperature is CC 74 (next: density); kept in \(path)" && !said.isProblem)
        #expect(keeping.take(.learned(.mute(part: 0), controller: 40)).line.contains("(that was the last; learn is off)"))
        #expect(try LearnedControls.read(path: path).functions(partNames: ["bass"]).map(\.controller) == [74, 40])
        // Nowhere to write: said so, and the daemon goes on.
        var stuck = LearnKeeping(presetName: "band", partNames: [], path: "/proc/sideman/learned.yaml", learned: LearnedControls())
        let refused = stuck.take(.learned(.fill, controller: 80))
        #expect(refused.isProblem && refused.line.contains("cannot keep it: /proc/sideman"))
    }
}
