// swift-tools-version: 6.1
import PackageDescription

// The streaming model step is the hot path; it is compiled for AVX2 + FMA (haswell: the portable x86-64-v3 level) so SIMD multiply-add stays
// in registers instead of becoming calls to fmaf (docs/DESIGN-NOTES.md §5).
let numericFlags: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-target-cpu", "haswell"])]

let package = Package(
    name: "Sideman",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "sideman", targets: ["sideman"]),
        .library(name: "MIDI", targets: ["MIDI"]),
        .library(name: "Neural", targets: ["Neural"]),
        .library(name: "Ports", targets: ["Ports"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", exact: "2.0.1"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
    ],
    targets: [
        // Reading only regular files, and writing outputs atomically without replacing an input.
        .target(name: "Files"),
        // MIDI messages, the port byte-stream parser, serializer, note tracker, Standard MIDI Files.
        .target(name: "MIDI", dependencies: ["Files"]),
        // Kernels, layers with forward and backward, streaming models, safetensors, training.
        .target(name: "Neural", dependencies: ["CNeuralKernels", "Files"], swiftSettings: numericFlags),
        // Step kernels needing AVX-512 / VNNI chosen at run time (Swift has no per-function CPU targets).
        .target(name: "CNeuralKernels"),
        // C shims for system libraries whose entry points Swift cannot call directly (variadic
        // jack_client_open, the snd_seq_ev_set_* macros).
        .target(name: "CJACK", linkerSettings: [.linkedLibrary("jack"), .linkedLibrary("m")]),
        .target(name: "CALSA", linkerSettings: [.linkedLibrary("asound")]),
        // Ableton Link (Debian's ableton-link-dev: C++ headers with standalone asio) behind a C face.
        .target(
            name: "CLink",
            cxxSettings: [.define("LINK_PLATFORM_LINUX", to: "1"), .unsafeFlags(["-I/usr/include/ableton", "-std=c++14"])],
            linkerSettings: [.linkedLibrary("pthread")]),
        // Port backends: JACK, ALSA sequencer and an in-process virtual backend, behind one protocol.
        .target(
            name: "Ports",
            dependencies: ["MIDI", "CJACK", "CALSA", "CLink"]),
        // Daemon concerns that are neither ports nor music: the systemd notify protocol.
        .target(name: "Service"),
        // Musical representations (melody events, piano rolls, keys) and the corpus loaders.
        .target(name: "Music", dependencies: ["MIDI"]),
        // The musical engine: presets, transport, listening, parts.
        .target(
            name: "Engine",
            dependencies: ["Files", "MIDI", "Music", "Neural", .product(name: "Yams", package: "Yams")]),
        // The live daemon: the engine thread's runner, the control loop (connections, reconnection,
        // reloads, systemd), signals and the settings `run` starts from. The executable keeps only the CLI.
        .target(
            name: "Live",
            dependencies: [
                "Engine", "Files", "MIDI", "Ports", "Service", .product(name: "Logging", package: "swift-log"),
            ]),
        .executableTarget(
            name: "sideman",
            dependencies: [
                "Files", "MIDI", "Music", "Neural", "Ports", "Service", "Engine", "Live",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Helpers the test targets share: running a program (the built `sideman` above all), reading SVG, a seeded
        // generator, a loopback HTTP client, a stand-in notify socket, band songs written to a manifest.
        .target(name: "TestSupport", dependencies: ["Neural", "MIDI"], path: "Tests/TestSupport"),
        .testTarget(
            name: "MIDITests",
            dependencies: ["MIDI", "TestSupport", .product(name: "PropertyBased", package: "swift-property-based")]),
        .testTarget(name: "FilesTests", dependencies: ["Files"]),
        .testTarget(name: "NeuralTests", dependencies: ["Neural", "CNeuralKernels", "TestSupport"]),
        .testTarget(name: "PortsTests", dependencies: ["Ports", "MIDI", "TestSupport", "Engine", "Neural"]),
        .testTarget(name: "LiveTests", dependencies: ["Live", "Ports", "MIDI", "Engine", "Files"]),
        .testTarget(name: "ServiceTests", dependencies: ["Service", "TestSupport"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "Files", "Service", "TestSupport"]),
        .testTarget(
            name: "MusicTests",
            dependencies: ["Music", "MIDI", "TestSupport", .product(name: "PropertyBased", package: "swift-property-based")]),
        // Runs the built `sideman` binary as a user would, and checks exit codes and output.
        .testTarget(name: "SidemanTests", dependencies: ["sideman", "MIDI", "Music", "Neural", "TestSupport"]),
    ]
)
