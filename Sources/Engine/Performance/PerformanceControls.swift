import Foundation

/// The player's knobs and buttons, read from controllers: the preset's `controls` numbers (defaults in
/// ControlMap: temperature 21, density 22, mode 23, panic 24, next section 25, fill 26, phrase end 27,
/// learn off) and each part's `mute_cc`.
///
/// - temperature: 0...127 scales every part's temperature by 2^((v - 64) / 42): 64 is the preset's, 0 about
///   a third (calmer), 127 about 2.8 times (wilder).
/// - density: the share of generated new notes kept, v / 127 (127 keeps all).
/// - mode: 0-42 call-and-response, 43-84 accompaniment, 85-127 both.
/// - panic (any press), CC 120, CC 123: every part's notes end at once.
/// - next section (press): a fill to the end of the bar (the next when less than half is left); on the
///   downbeat it lands on, the band switches between main A and main B (the drums ride, bass and keys play
///   a little freer) and bass, chords and drums start the section afresh.
/// - fill (press): the drums play a fill (toms, snare) to the end of the bar, landing with a crash.
/// - ending (press, off unless the preset names a controller): as an arranger's ending, the band plays a
///   fill to the end of the bar (the next when less than half is left), lands on the downbeat with a
///   crash, lets it ring half a bar and stops; the player's next note starts it again.
/// - style (off unless the preset names a controller): the value picks the band's style by number, as a
///   program change does (StyleBank); it starts on the next downbeat.
/// - intro (press, off unless the preset names a controller): the band's intro (performance.intro_bars)
///   on or off, from its next start (on at first when the preset has one).
/// - groove (off unless the preset names a controller): 0-127 sets where each groove drummer heads, from its
///   `from` groove (0) to its `to` groove (127); it moves there bar by bar over its `bars`.
/// - mute: v >= 64 mutes the part (its notes end), v < 64 unmutes it.
/// - learn (press): toggles MIDI learn. While learning, each controller touched is assigned to the next
///   function in the order temperature, density, mode, panic, next section, fill, ending, then each part's
///   mute; after the last one learning ends. The engine tells its `LearnObserver`; the daemon logs each
///   step and keeps what was learned in a file per preset, applied again at every start and reload.
public struct PerformanceControls: Sendable {
    public enum Function: Hashable, Sendable {
        case temperature, density, mode, panic, nextSection, fill, ending
        case mute(part: Int)

        /// The functions before the parts' mutes, in learn order.
        public static let global: [Function] = [.temperature, .density, .mode, .panic, .nextSection, .fill, .ending]

        func isValid(parts: Int) -> Bool {
            if case .mute(let part) = self { return (0..<parts).contains(part) }
            return true
        }
    }

    public enum Action: Equatable, Sendable {
        case none
        case temperature(Double)
        case density(Double)
        case mode(PerformanceMode)
        case panic
        case nextSection
        case fill
        case ending
        /// The band's style by number (StyleBank), from the style controller's value.
        case style(Int)
        /// The intro button: on or off for the band's next start.
        case intro
        /// Where the groove drummers head, 0 (their `from` groove) to 1 (their `to`).
        case groove(Double)
        case mute(part: Int, muted: Bool)
        case learning(Bool)
        case learned(Function, controller: UInt8)
    }

    public private(set) var map: ControlMap
    public private(set) var muteControllers: [UInt8?]
    public private(set) var isLearning = false
    private var learnIndex = 0

    public init(map: ControlMap, muteControllers: [UInt8?]) {
        self.map = map
        self.muteControllers = muteControllers
    }

    /// Functions in learn order.
    public var learnOrder: [Function] {
        Function.global + muteControllers.indices.map { .mute(part: $0) }
    }

    public func controller(for function: Function) -> UInt8? {
        switch function {
        case .temperature: return map.temperature
        case .density: return map.density
        case .mode: return map.mode
        case .panic: return map.panic
        case .nextSection: return map.nextSection
        case .fill: return map.fill
        case .ending: return map.ending
        case .mute(let part): return muteControllers[part]
        }
    }

    /// Takes assignments learned earlier (a saved file), as if learned again in this order.
    public mutating func assign(learned: [(function: Function, controller: UInt8)]) {
        for (function, controller) in learned where function.isValid(parts: muteControllers.count) {
            assign(controller, to: function)
        }
    }

    private mutating func assign(_ controller: UInt8, to function: Function) {
        // A controller means one thing: it leaves any function it had.
        for f in learnOrder where self.controller(for: f) == controller { set(nil, for: f) }
        set(controller, for: function)
    }

    private mutating func set(_ controller: UInt8?, for function: Function) {
        switch function {
        case .temperature: map.temperature = controller
        case .density: map.density = controller
        case .mode: map.mode = controller
        case .panic: map.panic = controller
        case .nextSection: map.nextSection = controller
        case .fill: map.fill = controller
        case .ending: map.ending = controller
        case .mute(let part): muteControllers[part] = controller
        }
    }

    /// What a controller change means. The sustain pedal, bank select and the channel-mode controllers
    /// (120 and up, except the panic ones) are never learned.
    public mutating func handle(controller: UInt8, value: UInt8) -> Action {
        if controller == 120 || controller == 123 { return .panic }
        if let learn = map.learn, controller == learn {
            guard value > 0 else { return .none }
            isLearning.toggle()
            learnIndex = 0
            return .learning(isLearning)
        }
        if isLearning, value > 0, controller != 64, controller != 0, controller != 32, controller < 120 {
            let order = learnOrder
            let function = order[learnIndex]
            assign(controller, to: function)
            learnIndex += 1
            if learnIndex >= order.count { isLearning = false }
            return .learned(function, controller: controller)
        }
        if controller == map.temperature { return .temperature(Self.temperatureScale(value)) }
        if controller == map.density { return .density(Double(value) / 127) }
        if controller == map.mode { return .mode(value < 43 ? .callAndResponse : value < 85 ? .accompaniment : .both) }
        if controller == map.panic { return value > 0 ? .panic : .none }
        if controller == map.nextSection { return value > 0 ? .nextSection : .none }
        if controller == map.fill { return value > 0 ? .fill : .none }
        if controller == map.ending { return value > 0 ? .ending : .none }
        if controller == map.style { return .style(Int(value)) }
        if controller == map.intro { return value > 0 ? .intro : .none }
        if controller == map.groove { return .groove(Double(value) / 127) }
        if let part = muteControllers.firstIndex(of: controller) { return .mute(part: part, muted: value >= 64) }
        return .none
    }

    public static func temperatureScale(_ value: UInt8) -> Double {
        pow(2, (Double(value) - 64) / 42)
    }
}

/// Hears MIDI learn on the engine thread: called inside the engine's cycle, so an implementation may
/// only do what is real-time safe there (store into atomics).
public protocol LearnObserver: AnyObject, Sendable {
    func learning(_ on: Bool)
    func learned(_ function: PerformanceControls.Function, controller: UInt8)
}
