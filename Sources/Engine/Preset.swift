import Neural

/// Everything a musician sets for one way of playing with Sideman: how it connects, how it keeps time,
/// how it listens, and which parts play. Read from YAML by `PresetReader`; every field has a default so
/// a preset names only what it changes.
public struct Preset: Equatable, Sendable {
    public var name: String
    public var description: String = ""
    public var ports = PortSettings()
    public var transport = TransportSettings()
    public var listener = ListenerSettings()
    public var thru = ThruSettings()
    public var controls = ControlMap()
    public var performance = PerformanceSettings()
    public var parts: [PartSettings] = []

    public init(name: String) {
        self.name = name
    }

    /// The output ports: `out`, or with `outputs: per-part` one per part named after it and one more,
    /// `thru` (`thru-out` when a part is called thru), for what is not a part's: the player's thru, MIDI
    /// clock out and the metronome.
    public var outputNames: [String] {
        guard ports.outputs == .perPart, !parts.isEmpty else { return ["out"] }
        let names = parts.map(\.name)
        return names + [names.contains("thru") ? "thru-out" : "thru"]
    }

    /// The port of the player's thru, clock out and the metronome: the last of `outputNames`.
    public var sharedPort: Int { outputNames.count - 1 }
}

/// How parts reach the outside: all on one port (a channel per part) or one port per part.
public enum OutputLayout: String, Equatable, Sendable, CaseIterable {
    case single
    case perPart = "per-part"
}

public struct PortSettings: Equatable, Sendable {
    public var clientName = "sideman"
    public var outputs = OutputLayout.single
    /// Port names or patterns connected to our input / from our output when they appear.
    public var connectIn: [String] = []
    public var connectOut: [String] = []
    public init() {}
}

public enum TempoSource: String, Equatable, Sendable, CaseIterable {
    case fixed
    case clock
    case follow
    /// JACK transport: the port backend turns the transport's rolling, position and tempo (BBT when a
    /// timebase master publishes it, else the preset tempo) into clock ticks on the engine's frames.
    case jack
    /// An Ableton Link session: tempo and bar phase from the session, turned into clock ticks the same way.
    case link

    /// The grid is counted in clock ticks that come from outside (MIDI clock in, or JACK transport and
    /// Link through the backend): the master starts, stops and moves it, never the engine.
    public var countsTicks: Bool { self == .clock || self == .jack || self == .link }
}

/// A time signature. Sideman's grid counts 16th-note steps, so a bar is `stepsPerBar` of them.
public struct Meter: Equatable, Sendable, CustomStringConvertible {
    public var beats: Int
    public var beatUnit: Int

    public init(beats: Int, beatUnit: Int) {
        self.beats = beats
        self.beatUnit = beatUnit
    }

    public static let fourFour = Meter(beats: 4, beatUnit: 4)

    public var stepsPerBar: Int { beats * 16 / beatUnit }
    public var description: String { "\(beats)/\(beatUnit)" }
}

public struct TransportSettings: Equatable, Sendable {
    public var source = TempoSource.fixed
    public var bpm = 100.0
    public var meter = Meter.fourFour
    public var clockOut = false
    public var countInBars = 0
    /// `source: jack`: publish the preset tempo and meter as JACK BBT when no other client is master.
    public var timebaseMaster = false
    /// `source: link`: the grid runs only while the Link session plays (Link's start/stop sync).
    public var linkStartStop = false
    public init() {}
}

public struct ListenerSettings: Equatable, Sendable {
    /// The player's channel, 0...15, or nil to listen on all.
    public var inputChannel: MIDIChannelNumber? = nil
    /// Beats of silence after which a phrase has ended and the continuation may answer.
    public var phraseEndBeats = 2.0
    /// A note this close to a step boundary counts as on the step, and the parts answer at once.
    public var onStepWindowMilliseconds = 30.0
    /// How the player's keys give the band its chord.
    public var chordInput = ChordInputSettings()
    public init() {}
}

/// How the player gives the chord, as arranger keyboards have it (presets/band.yaml documents each mode
/// for musicians).
public enum ChordInputMode: String, Equatable, Sendable, CaseIterable {
    /// The whole keyboard: the chord is read from everything played; the melody is the top note.
    case full
    /// Below the split point a pianist's left hand (block or broken chords, read as `full` reads them),
    /// at and above it the melody.
    case split
    /// Below the split point the chord as arrangers read fingered chords, with chord memory.
    case fingered
    /// Below the split point one key names a major chord, keys below it make it minor or a seventh.
    case singleFinger = "single_finger"

    /// Whether the keys below the split point only name the chord and stay there when let go.
    public var remembers: Bool { self == .fingered || self == .singleFinger }
}

public struct ChordInputSettings: Equatable, Sendable {
    public var mode = ChordInputMode.full
    /// The lowest key of the melody hand: keys below it are the chord hand (not in `full` mode). nil: the
    /// whole keyboard is the chord hand (fingered and single_finger only). F#3, as arranger keyboards ship.
    public var splitPoint: UInt8? = 54
    public init(mode: ChordInputMode = .full, splitPoint: UInt8? = 54) {
        self.mode = mode
        self.splitPoint = splitPoint
    }
}

/// A zero-based channel number, 0...15.
public typealias MIDIChannelNumber = UInt8

/// The player's notes echoed to the output: a MIDI thru with channel remap and transposition.
public struct ThruSettings: Equatable, Sendable {
    public var enabled = true
    /// Output channel, 0...15, or nil to keep each note's own channel.
    public var channel: MIDIChannelNumber? = nil
    public var transpose = 0
    /// The chord hand's keys (below the split point) are echoed too; false: they only name the chord, as on
    /// an arranger with its left-hand voice off.
    public var chordHand = true
    public init() {}
}

/// Controller numbers the player's knobs send. Panic also always answers CC 120 and CC 123.
public struct ControlMap: Equatable, Sendable {
    public var temperature: UInt8? = 21
    public var density: UInt8? = 22
    public var mode: UInt8? = 23
    public var panic: UInt8? = 24
    public var nextSection: UInt8? = 25
    public var fill: UInt8? = 26
    /// Pressed: the band ends the song (a fill, a landing, and it stops). Off unless a preset names one.
    public var ending: UInt8? = nil
    /// Pressed: the player's phrase ends now (the continuation answers without waiting for silence).
    public var phraseEnd: UInt8? = 27
    /// Taps (presses) steer the tempo in follow mode.
    public var tap: UInt8? = nil
    public var learn: UInt8? = nil
    /// The controller whose value picks the band's style by number (StyleBank), off unless named.
    public var style: UInt8? = nil
    /// Pressed: the band's intro on or off for its next start. Off unless a preset names one.
    public var intro: UInt8? = nil
    /// The controller whose value (0-127) sets where a groove drummer heads, from its `from` groove to its
    /// `to` groove. Off unless named.
    public var groove: UInt8? = nil
    /// A program change on the input picks the band's style by number, as on an arranger.
    public var styleByProgramChange = true
    public init() {}
}

/// Which parts play when: the continuation answers the player's phrases, the accompaniment plays along.
public enum PerformanceMode: String, Equatable, Sendable, CaseIterable {
    case callAndResponse = "call-and-response"
    case accompaniment
    case both

    public var answers: Bool { self != .accompaniment }
    public var accompanies: Bool { self != .callAndResponse }
}

/// How the generated parts behave as a whole (the preset's `performance` section).
public struct PerformanceSettings: Equatable, Sendable {
    public var mode = PerformanceMode.both
    /// Bars the continuation plays after the player's phrase ends (unless the player comes back first).
    public var continuationBars = 2
    /// Bars of silence (no player, no answer) after which the band stops and waits for the player's next
    /// note to start again; 0: it plays on.
    public var idleBars = 4
    /// Seeds every part's sampler (part k draws from seed + k): the same seed and input give the same notes.
    public var seed: UInt64 = 1
    /// Folder the daemon writes its session recording to (SIGUSR1 and stop), nil for none.
    public var recordFolder: String? = nil
    /// When the parts that follow the player's harmony commit a step: late, with the player's chord on it
    /// heard (the engine's HarmonyCommit), or ahead of the boundary with the rest of the band.
    public var harmonyCommit = HarmonyCommitMode.late
    /// How long a hand takes to strike a chord: committing late, the harmony waits this long after a
    /// chord's first note for the rest of it (a whole triad ends the wait at once).
    public var chordSpreadMilliseconds = 25.0
    /// The style the band starts in (a name from its StyleBank, lower case), nil for none.
    public var style: String? = nil
    /// Bars of intro the band opens with each time it starts (0: straight into the groove): the drums mark
    /// time lightly, then a fill in its last half bar lands on the groove.
    public var introBars = 0
    public init() {}
}

/// When the harmony parts decide a step (PerformanceSettings.harmonyCommit).
public enum HarmonyCommitMode: String, Equatable, Sendable, CaseIterable {
    case late
    case ahead
}

/// A groove drummer's two grooves (MIDI files, their drums' first bars; paths relative to the preset's
/// folder) and how many bars it takes to move from one to the other.
public struct GrooveSettings: Equatable, Sendable {
    public var from: String
    public var to: String
    public var bars = 8

    public init(from: String, to: String) {
        self.from = from
        self.to = to
    }
}

/// What a part does in the band.
public enum PartRole: String, Equatable, Sendable, CaseIterable {
    case continuation
    case voice
    /// The lower voices under the player's melody (a chorale's alto, tenor and bass): one note set per step.
    case voices
    case bass
    case chords
    case drums
    case counterMelody = "counter-melody"
    /// Call and response with a MusicVAE: answers the player's phrase with a variation of it.
    case variation
    /// A melody over the player's chords, bar by bar, from MidiNet's chord-conditioned bar generator.
    case lead

    /// The roles that listen while the player plays and answer when the phrase ends.
    public var answersPhrases: Bool { self == .continuation || self == .variation }
}

/// Step length of a part's grid.
public enum GridResolution: String, Equatable, Sendable, CaseIterable {
    case sixteenth = "16th"
    case eighth = "8th"
    case quarter

    public var stepsOfSixteenth: Int {
        switch self {
        case .sixteenth: return 1
        case .eighth: return 2
        case .quarter: return 4
        }
    }
}

public struct Humanize: Equatable, Sendable {
    public var timingMilliseconds = 0.0
    public var velocity = 0
    /// 0 = straight, 1 = full triplet swing of off-beat 8ths / 16ths.
    public var swing = 0.0
    public init() {}
}

public struct PartSettings: Equatable, Sendable {
    public var name: String
    public var role: PartRole
    /// The weights file, resolved against the preset's folder.
    public var model: String
    public var channel: MIDIChannelNumber
    public var program: UInt8? = nil
    /// Bank select (CC 0 and CC 32: MSB * 128 + LSB), sent before the program; nil sends none.
    public var bank: UInt16? = nil
    public var lowestNote: UInt8 = 0
    public var highestNote: UInt8 = 127
    public var grid = GridResolution.sixteenth
    public var temperature = 1.0
    public var topP = 0.95
    public var velocity: UInt8 = 90
    /// How much the part's velocity follows the player's (0 = fixed, 1 = fully).
    public var velocityFollow = 0.5
    /// Velocity offsets per 16th step of the bar (a groove's accents, e.g. from `sideman analyze` on band
    /// data); played when the bar has as many steps, so a list for 4/4 leaves a 3/4 bar unaccented.
    public var velocityAccents: [Int] = []
    public var humanize = Humanize()
    public var muteCC: UInt8? = nil
    /// The part starts muted (an optional voice): its mute controller below 64 brings it in.
    public var startsMuted = false
    /// How the model's step weights are stored. int8 by default: the fastest step on every x86 CPU measured
    /// (AVX-512 VNNI or AVX2), at a validation NLL cost under 0.1% for every shipped model (docs/PRECISION.md).
    public var precision = Precision.int8
    /// One bar the part's model is fed before it plays (MIDI notes per 16th step), so a note-set part starts in
    /// a chosen style instead of one drawn at random from everything it learned: a drummer told the groove.
    public var primer: [[UInt8]] = []
    /// A variation part: how far its answer strays from the player's phrase (0: the phrase as its model
    /// hears it, 1: a phrase of its own).
    public var amount = 0.3
    /// A drums part playing a MusicVAE of grooves: the two grooves it moves between.
    public var groove: GrooveSettings? = nil
    /// A drums part's kit: the GM notes it plays (nil: every piece in its range). The groove is drawn as
    /// learned and played on the kit as a drummer with that kit would: a missing piece on the kit's nearest
    /// piece of the same kind (the hi-hat's time on the ride), or not at all where it has none (DrumKit).
    public var kit: PitchSet? = nil

    public init(name: String, role: PartRole, model: String, channel: MIDIChannelNumber) {
        self.name = name
        self.role = role
        self.model = model
        self.channel = channel
    }
}
