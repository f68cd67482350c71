import Engine
import Foundation
import Neural
import Ports
import Service

/// One line of `sideman doctor`: what was checked, how it stands, and what to do about it.
struct DoctorFinding: Equatable {
    enum Verdict: String { case ok, warn, fail }
    var verdict: Verdict
    var check: String
    var detail: String
    /// What to change, for warn and fail.
    var fix: String?

    var line: String {
        let label = verdict.rawValue.padding(toLength: 5, withPad: " ", startingAt: 0)
        return "\(label)\(check): \(detail)" + (fix.map { "; fix: \($0)" } ?? "")
    }
}

/// The checks behind `sideman doctor`, each independent and quick (the JACK check opens a client for
/// a moment; nothing else talks to another process).
struct DoctorChecks {
    var environment: [String: String]
    var executablePath: String

    func all() -> [DoctorFinding] {
        let jack = jackServer()
        let alsa = alsaSequencer()
        var findings = [jack, alsa]
        if jack.verdict != .ok && alsa.verdict != .ok {
            findings.append(
                DoctorFinding(
                    verdict: .fail, check: "backend", detail: "neither a JACK server nor the ALSA sequencer is available",
                    fix: "start JACK (or load snd-seq); `sideman run` waits for a JACK server, but plays nothing until one runs"))
        }
        findings += realtime()
        findings.append(audioGroup())
        findings += presetsAndModels()
        findings += cpu()
        return findings
    }

    func jackServer() -> DoctorFinding {
        let server = environment["JACK_DEFAULT_SERVER"].map { "\"\($0)\"" } ?? "default"
        let backend = JACKBackend(configuration: PortConfiguration(clientName: "sideman-doctor", outputNames: []))
        do {
            try backend.open()
        } catch {
            return DoctorFinding(
                verdict: .warn, check: "jack", detail: "server \(server): \(error.problem)",
                fix: "start it (e.g. `jackd -d alsa -r 48000 -p 128`, or from QjackCtl), or set JACK_DEFAULT_SERVER")
        }
        let status = backend.status()
        backend.close()
        let period = status.sampleRate > 0 ? Double(status.bufferSize) / Double(status.sampleRate) * 1000 : 0
        let latency = String(format: "%.2f", period)
        var detail = "server \(server) answers: \(status.sampleRate) Hz, period \(status.bufferSize) frames (\(latency) ms)"
        if status.ioPriority == 0 {
            detail += ", not real-time"
            return DoctorFinding(
                verdict: .warn, check: "jack", detail: detail, fix: "start jackd with -R (realtime) so its cycles are on time under load")
        }
        detail += ", real-time priority \(status.ioPriority)"
        return DoctorFinding(verdict: .ok, check: "jack", detail: detail)
    }

    func alsaSequencer() -> DoctorFinding {
        if ALSABackend.deviceExists {
            return DoctorFinding(verdict: .ok, check: "alsa", detail: "/dev/snd/seq is present")
        }
        return DoctorFinding(
            verdict: .warn, check: "alsa", detail: "/dev/snd/seq does not exist (needed only for --backend alsa)",
            fix: "`modprobe snd-seq`, or run with JACK")
    }

    func realtime() -> [DoctorFinding] {
        let limits = RealtimeLimits.current()
        var findings: [DoctorFinding] = []
        let unitFix = "add yourself to the audio group with its limits.d rules, or use the systemd unit (LimitRTPRIO=95)"
        if limits.realtimePriority > 0 {
            findings.append(
                DoctorFinding(verdict: .ok, check: "rtprio", detail: "RLIMIT_RTPRIO allows SCHED_FIFO up to \(limits.realtimePriority)"))
        } else {
            findings.append(
                DoctorFinding(
                    verdict: limits.fifoGranted ? .ok : .warn, check: "rtprio",
                    detail: "RLIMIT_RTPRIO is 0" + (limits.fifoGranted ? " (privileged: SCHED_FIFO is granted anyway)" : ""),
                    fix: limits.fifoGranted ? nil : unitFix))
        }
        let wanted: UInt64 = 64 << 20
        if let bytes = limits.lockedMemoryBytes, bytes < wanted {
            findings.append(
                DoctorFinding(
                    verdict: .warn, check: "memlock", detail: "RLIMIT_MEMLOCK is \(bytes >> 10) KiB; JACK locks its buffers in memory",
                    fix: "raise it to unlimited (the audio group's limits, or LimitMEMLOCK=infinity in the unit)"))
        } else {
            let amount = limits.lockedMemoryBytes.map { "\($0 >> 20) MiB" } ?? "unlimited"
            findings.append(DoctorFinding(verdict: .ok, check: "memlock", detail: "RLIMIT_MEMLOCK is \(amount)"))
        }
        if limits.fifoGranted {
            findings.append(DoctorFinding(verdict: .ok, check: "sched_fifo", detail: "a thread got SCHED_FIFO priority 10"))
        } else {
            findings.append(
                DoctorFinding(
                    verdict: .warn, check: "sched_fifo",
                    detail: "SCHED_FIFO refused (\(limits.fifoRefusal ?? "unknown")): the engine thread will run at normal priority",
                    fix: unitFix))
        }
        return findings
    }

    func audioGroup() -> DoctorFinding {
        let groups = ProcessGroups.names()
        if groups.contains("audio") {
            return DoctorFinding(verdict: .ok, check: "audio group", detail: "this user is in the audio group")
        }
        if geteuid() == 0 {
            return DoctorFinding(verdict: .ok, check: "audio group", detail: "running as root (the service runs as user sideman in group audio)")
        }
        guard ProcessGroups.exists("audio") else {
            return DoctorFinding(
                verdict: .warn, check: "audio group", detail: "there is no audio group on this system",
                fix: "install your distribution's realtime audio setup (e.g. Debian's jackd2 creates it)")
        }
        return DoctorFinding(
            verdict: .warn, check: "audio group", detail: "this user is not in the audio group",
            fix: "`sudo usermod -aG audio $USER`, then log in again")
    }

    /// Every preset the standard search path finds must load, and every model a part names must load.
    func presetsAndModels() -> [DoctorFinding] {
        let locator = PresetLocator.standard(executablePath: executablePath, environment: environment)
        let names = locator.availableNames()
        guard !names.isEmpty else {
            return [
                DoctorFinding(
                    verdict: .warn, check: "presets", detail: "none found in \(locator.searchFolders.joined(separator: ", "))",
                    fix: "put presets in ~/.config/sideman or /etc/sideman (sideman runs its built-in thru without one)")
            ]
        }
        var findings: [DoctorFinding] = []
        var valid: [String] = []
        var modelFindings: [DoctorFinding] = []
        for name in names {
            let loaded: LoadedPreset
            do {
                loaded = try locator.load(name)
            } catch {
                findings.append(
                    DoctorFinding(verdict: .fail, check: "preset \(name)", detail: "\(error)", fix: "correct the file, or remove it"))
                continue
            }
            valid.append(name)
            if loaded.preset.performance.style != nil, let parts = try? PartLoader.parts(for: loaded),
                let problem = StyleBank.meterProblem(style: loaded.preset.performance.style, meter: loaded.preset.transport.meter, parts: parts)
            {
                findings.append(
                    DoctorFinding(
                        verdict: .warn, check: "preset \(name)", detail: "performance.\(problem)",
                        fix: "set performance.style to a style in transport.meter's bar, or transport.meter to the style's"))
            }
            for part in loaded.preset.parts {
                let path = loaded.modelPath(for: part)
                guard FileManager.default.fileExists(atPath: path) else {
                    modelFindings.append(
                        DoctorFinding(
                            verdict: .fail, check: "model \(name)/\(part.name)", detail: "\(path): no such file",
                            fix: "copy the model folder the preset names beside it (a shipped preset's are in the presets folder it came from), train it (docs/TRAINING.md), or correct the part's model path"))
                    continue
                }
                do {
                    let set = try SafeTensors.read(path: path)
                    let detail: String
                    if MidiNetConfig.describes(set.metadata) {
                        let net = try MidiNet(set)
                        detail = "\(path): MidiNet bar generator, \(net.config.stepsPerBar) steps a bar, pitches \(net.config.lowestPitch)...\(net.config.lowestPitch + net.config.pitches - 1)"
                    } else if MusicVAEConfig.describes(set.metadata) {
                        let vae = try MusicVAE(set)
                        detail = "\(path): MusicVAE of \(vae.config.content.rawValue), \(vae.config.bars) bars a phrase, latent \(vae.config.latent)"
                    } else {
                        let model = try loadModel(path: path)
                        detail = "\(path): \(model.family.rawValue), \(model.inputSize) inputs, \(model.outputSize) outputs"
                    }
                    modelFindings.append(DoctorFinding(verdict: .ok, check: "model \(name)/\(part.name)", detail: detail))
                    // A groove drummer's two groove files are read when the preset loads.
                    for file in [part.groove?.from, part.groove?.to].compactMap({ $0 }) where !FileManager.default.fileExists(atPath: loaded.path(of: file)) {
                        modelFindings.append(
                            DoctorFinding(
                                verdict: .fail, check: "groove \(name)/\(part.name)", detail: "\(loaded.path(of: file)): no such file",
                                fix: "point groove.from and groove.to at MIDI files with drums"))
                    }
                } catch {
                    modelFindings.append(
                        DoctorFinding(
                            verdict: .fail, check: "model \(name)/\(part.name)", detail: "\(path): \(error.description)",
                            fix: "train it again, or point the part at a good model file"))
                }
            }
        }
        if !valid.isEmpty {
            findings.insert(DoctorFinding(verdict: .ok, check: "presets", detail: "found and valid: \(valid.joined(separator: ", "))"), at: 0)
        }
        return findings + modelFindings
    }

    func cpu() -> [DoctorFinding] {
        let features = CPUFeatures.current
        let modelName = Self.cpuModelName()
        var findings: [DoctorFinding] = []
        if features.hasAVX2FMA {
            findings.append(DoctorFinding(verdict: .ok, check: "cpu", detail: "\(modelName): AVX2 and FMA"))
        } else {
            findings.append(
                DoctorFinding(
                    verdict: .fail, check: "cpu", detail: "\(modelName) lacks AVX2/FMA, which this build is compiled for",
                    fix: "run on an x86-64-v3 CPU (Haswell or later)"))
        }
        switch KernelSupport.int8Kernel {
        case "avx512-vnni":
            findings.append(DoctorFinding(verdict: .ok, check: "int8", detail: "AVX-512 VNNI: the fastest int8 step kernel is used"))
        case "avx2":
            findings.append(DoctorFinding(verdict: .ok, check: "int8", detail: "AVX2 8-bit dot products (no AVX-512 VNNI): int8 steps use the AVX2 kernel"))
        default:
            findings.append(
                DoctorFinding(
                    verdict: .warn, check: "int8", detail: "no AVX2: int8 models step on the portable loop",
                    fix: "prefer fp32 models on this CPU (`sideman bench --precision` compares)"))
        }
        return findings
    }

    /// The first processor's `model name` in /proc/cpuinfo: only for the report; the features come from
    /// the CPU itself.
    static func cpuModelName(cpuinfo: String? = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) -> String {
        for line in (cpuinfo ?? "").split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == "model name" {
                return parts[1].trimmingCharacters(in: .whitespaces)
            }
        }
        return "unknown CPU"
    }
}
