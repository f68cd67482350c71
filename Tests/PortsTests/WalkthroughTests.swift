import Foundation
import TestSupport
import Testing

/// The README's walkthrough, step 1, on the test's own jackd: FluidSynth as the synth (`fluidsynth -a jack
/// -m jack`), Sideman connecting itself to it with the README's pattern, a keyboard (a JACK peer) playing
/// a note: the note reaches the synth, which sounds.
@Suite(.serialized, .enabled(if: TestPaths.jackMissing == nil, "needs jackd and python3-jack-client (scripts/setup.sh)"))
struct WalkthroughTests {
    static let fluidsynth = "/usr/bin/fluidsynth"
    static let soundfont = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
    static var synthMissing: String? {
        guard FileManager.default.isExecutableFile(atPath: fluidsynth), FileManager.default.fileExists(atPath: soundfont) else {
            return "skipped: the walkthrough needs FluidSynth and its General MIDI soundfont (apt-get install fluidsynth fluid-soundfont-gm)"
        }
        return nil
    }

    @Test func theReadmesCommandsConnectAndSound() throws {
        if let reason = Self.synthMissing {
            print(reason)
            return
        }
        let server = try JackServer()
        defer { server.stop() }
        // FluidSynth reads commands on its standard input, kept open by the harness, so it stays up.
        let synth = try ChildProcess(Self.fluidsynth, ["-a", "jack", "-m", "jack", "-g", "0.8", Self.soundfont], environment: server.environment)
        defer { synth.stop() }
        let keyboard = try JackPeer(name: "keyboard", server: server, audioIn: true)
        defer { keyboard.stop() }
        // Debian 12's FluidSynth registers fluidsynth-midi:midi_00 and :left; others fluidsynth:l_00.
        var left: String? = nil
        let deadline = Date(timeIntervalSinceNow: 20)
        while left == nil && Date() < deadline {
            let ports = server.portNames() ?? []
            if ports.contains(where: { $0.hasPrefix("fluidsynth") && $0.contains(":midi") }) {
                left = ports.first { $0.hasPrefix("fluidsynth") && ($0.hasSuffix(":left") || $0.hasSuffix(":l_00")) }
            }
            if left == nil { usleep(50_000) }
        }
        let synthLeft = try #require(left, "FluidSynth's ports did not appear: \(synth.errorLines)")
        // Its ports exist a moment before it activates, and a connection waits for that.
        var listening = false
        while !listening && Date() < deadline {
            listening = (try? keyboard.connect(synthLeft, "keyboard:audio_in")) != nil
            if !listening { usleep(100_000) }
        }
        #expect(listening, "could not listen to \(synthLeft)")

        let daemon = try ChildProcess(
            Program.sideman, ["run", "--backend", "jack", "--preset", "thru", "--connect-in", "keyboard:out", "--connect-out", "fluidsynth*:midi*"],
            environment: server.environment)
        defer { daemon.stop() }
        var connected = false
        let connectDeadline = Date(timeIntervalSinceNow: 20)
        while !connected && Date() < connectDeadline {
            let links = server.connections() ?? []
            connected = links.contains { $0.hasPrefix("keyboard:out>sideman") } && links.contains { $0.hasPrefix("sideman:out>fluidsynth") }
            if !connected { usleep(50_000) }
        }
        #expect(connected, "the README's patterns did not connect: \(server.connections() ?? []) \(daemon.errorLines)")
        #expect(try keyboard.peakLevel() == 0, "the synth sounded before a note was played")

        // Middle C, half a second.
        let now = try keyboard.now()
        keyboard.send([0x90, 60, 100], at: now + 4800)
        keyboard.send([0x80, 60, 0], at: now + 4800 + 24000)
        var peak = 0.0
        let soundDeadline = Date(timeIntervalSinceNow: 10)
        while peak < 0.01 && Date() < soundDeadline {
            usleep(100_000)
            peak = try keyboard.peakLevel()
        }
        #expect(peak >= 0.01, "FluidSynth's left output peaked at \(peak) after the note")
    }
}
