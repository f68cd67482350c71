import Foundation
import Testing
import TestSupport

/// The unit files as systemd itself reads them: `systemd-analyze security --offline` scores the
/// hardening, `systemd-analyze verify`-style parsing is left to that same tool.
@Suite struct SystemdUnitTests {
    static var packageRoot: String {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url.path }
        }
        return "."
    }

    static let analyzer = "/usr/bin/systemd-analyze"

    /// Runs systemd-analyze and returns its exit code and output.
    static func analyze(_ arguments: [String]) throws -> (Int32, String) {
        let run = try Program.run(analyzer, arguments, mergeOutput: true)
        return (run.status, run.stdout)
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: analyzer), "systemd-analyze is not installed"))
    func systemServiceExposureIsAtMostTwo() throws {
        let unit = "\(Self.packageRoot)/systemd/sideman.service"
        let (status, output) = try Self.analyze(["security", "--offline=true", "--threshold=20", unit])
        let line = try #require(output.split(separator: "\n").last { $0.contains("Overall exposure level") }, "\(output)")
        let score = try #require(line.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) }, "\(line)")
        #expect(score <= 2.0, "\(line)")
        #expect(status == 0)
    }

    /// A hardened unit must still let the daemon do its job: realtime scheduling for the engine thread,
    /// locked memory for the weights, AF_UNIX for JACK, the ALSA sequencer device, and sd_notify.
    @Test func unitsGrantWhatTheDaemonNeeds() throws {
        for path in ["systemd/sideman.service", "systemd/user/sideman.service"] {
            let text = try String(contentsOfFile: "\(Self.packageRoot)/\(path)", encoding: .utf8)
            for required in ["Type=notify", "WatchdogSec=", "Restart=on-failure", "LimitRTPRIO=", "LimitMEMLOCK=", "RestrictAddressFamilies=AF_UNIX", "ExecReload=/bin/kill -HUP $MAINPID"] {
                #expect(text.contains(required), "\(path) lacks \(required)")
            }
        }
        let system = try String(contentsOfFile: "\(Self.packageRoot)/systemd/sideman.service", encoding: .utf8)
        #expect(system.contains("DeviceAllow=char-alsa rw"))
        #expect(system.contains("SupplementaryGroups=audio"))
        #expect(!system.contains("PrivateDevices=yes"), "a private /dev would hide JACK's sockets in /dev/shm")
    }

    /// A crash must end the process at once so systemd restarts it: with Swift's crash handler on,
    /// a crashed daemon stays frozen about 30 s before its backtrace is written, past WatchdogSec.
    /// The setting is read the way the runtime reads it: comma-separated key=value pairs.
    @Test func unitsLetACrashEndAtOnce() throws {
        for path in ["systemd/sideman.service", "systemd/user/sideman.service"] {
            let text = try String(contentsOfFile: "\(Self.packageRoot)/\(path)", encoding: .utf8)
            let prefix = "Environment=SWIFT_BACKTRACE="
            let lines = text.split(separator: "\n").filter { $0.hasPrefix(prefix) }
            #expect(lines.count == 1, "\(path) sets SWIFT_BACKTRACE \(lines.count) times")
            let line = try #require(lines.first, "\(path) does not set SWIFT_BACKTRACE")
            var settings: [String: String] = [:]
            for pair in line.dropFirst(prefix.count).split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                settings[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
            }
            #expect(settings["enable"] == "no", "\(path): \(line)")
        }
    }

    /// The metrics drop-in the system unit documents: the loopback lines, and for remote scrapes the
    /// token the daemon then requires, handed over by systemd.
    @Test func theSystemUnitDocumentsMetrics() throws {
        let text = try String(contentsOfFile: "\(Self.packageRoot)/systemd/sideman.service", encoding: .utf8)
        for required in [
            "#   ExecStart=\n", "--metrics 127.0.0.1:9464", "#   PrivateNetwork=no", "#   RestrictAddressFamilies=AF_UNIX AF_INET",
            "#   IPAddressDeny=any", "#   IPAddressAllow=localhost", "--metrics-allow-remote --metrics-token-file %d/metrics-token",
            "#   LoadCredential=metrics-token:/etc/sideman/metrics-token",
        ] {
            #expect(text.contains(required), "the unit lacks \(required)")
        }
    }
}
