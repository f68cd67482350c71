import Testing

@testable import Engine

/// The preset keys the musical engine adds: `performance` and the phrase-end controller.
@Suite struct PartsPresetTests {
    private func read(_ yaml: String) throws -> Preset { try PresetReader.read(yaml: yaml, defaultName: "t") }

    @Test func performanceSettingsAreReadWithDefaults() throws {
        let defaults = try read("{}")
        #expect(defaults.performance == PerformanceSettings())
        #expect(defaults.performance.mode == .both)
        #expect(defaults.controls.phraseEnd == 27)
        let p = try read(
            """
            performance: {mode: call-and-response, continuation_bars: 4, seed: 99, record: takes}
            controls: {phrase_end: off, learn: 90}
            """)
        #expect(p.performance.mode == .callAndResponse)
        #expect(p.performance.continuationBars == 4)
        #expect(p.performance.seed == 99)
        #expect(p.performance.recordFolder == "takes")
        #expect(p.controls.phraseEnd == nil)
        #expect(p.controls.learn == 90)
    }

    @Test func badPerformanceValuesNameTheirKeyPath() {
        for (yaml, path) in [
            ("performance: {mode: duet}", "performance.mode"),
            ("performance: {continuation_bars: 0}", "performance.continuation_bars"),
            ("performance: {record: \"\"}", "performance.record"),
            ("performance: {tempo: 3}", "performance.tempo"),
        ] {
            do {
                _ = try read(yaml)
                Issue.record("\(yaml) was accepted")
            } catch let error as PresetError {
                #expect(error.keyPath == path, "\(yaml): \(error)")
            } catch {
                Issue.record("\(yaml): \(error)")
            }
        }
    }

    @Test func modesSayWhoPlays() {
        #expect(PerformanceMode.callAndResponse.answers && !PerformanceMode.callAndResponse.accompanies)
        #expect(!PerformanceMode.accompaniment.answers && PerformanceMode.accompaniment.accompanies)
        #expect(PerformanceMode.both.answers && PerformanceMode.both.accompanies)
    }

    @Test func atMostSixteenPartsAndATapController() throws {
        let many = (0..<17).map { "  - {name: p\($0), role: voice, model: m.safetensors, channel: \($0 % 16 + 1)}" }.joined(separator: "\n")
        do {
            _ = try read("parts:\n" + many)
            Issue.record("17 parts were accepted")
        } catch let error as PresetError {
            #expect(error.keyPath == "parts")
        }
        #expect(try read("controls: {tap: 64}").controls.tap == 64)
    }
}
