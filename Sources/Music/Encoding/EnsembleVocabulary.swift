/// The whole band as one event stream, for one model that plays drums, bass and keys together (MuseNet's
/// idea on Sideman's 16th grid). Each 16th step is the band's events on it, in a fixed order, then STEP:
///
///     DRUM hits (ascending) · BASS_OFF or BASS_ON p · KEYS_OFF p (ascending) · KEYS_ON p (ascending) · STEP
///
/// so the bass is drawn hearing this step's drums, and the keys hearing both. A bass note sounds until the
/// next BASS_ON or a BASS_OFF; a keys note until its KEYS_OFF (KEYS_ON of a sounding key strikes it again).
/// The classes: the ones transposition leaves alone first (STEP, BASS_OFF, the 47 GM kit pieces), then
/// three blocks of the 88 piano keys (BASS_ON, KEYS_ON, KEYS_OFF) that move together under transposition.
/// Velocity is left to the engine's accents (docs/TRAINING.md), as for the separate parts.
public enum EnsembleVocabulary {
    public static let step = 0
    public static let bassOff = 1
    /// GM percussion keys 35 (acoustic bass drum) ... 81 (open triangle).
    public static let kit: ClosedRange<Int> = 35...81
    public static let firstDrum = 2
    public static let firstBassOn = firstDrum + kit.count
    public static let keys = 88
    public static let firstKeysOn = firstBassOn + keys
    public static let firstKeysOff = firstKeysOn + keys
    public static let classes = firstKeysOff + keys
    /// The pitched blocks start here: the classes that move when a piece is transposed.
    public static let firstPitchedClass = firstBassOn
    /// Blocks of equal width from `firstPitchedClass`, each moved within itself.
    public static let pitchedBlocks = 3
    static let lowestKey = Int(PianoRoll.pianoRange.lowerBound)

    public enum Event: Hashable, Sendable {
        case step, bassOff
        case drum(UInt8), bassOn(UInt8), keysOn(UInt8), keysOff(UInt8)
    }

    /// The class of an event, nil for a drum outside the kit or a pitch outside the piano.
    public static func index(of event: Event) -> Int? {
        func key(_ p: UInt8, _ first: Int) -> Int? {
            PianoRoll.pianoRange.contains(p) ? first + Int(p) - lowestKey : nil
        }
        switch event {
        case .step: return step
        case .bassOff: return bassOff
        case .drum(let p): return kit.contains(Int(p)) ? firstDrum + Int(p) - kit.lowerBound : nil
        case .bassOn(let p): return key(p, firstBassOn)
        case .keysOn(let p): return key(p, firstKeysOn)
        case .keysOff(let p): return key(p, firstKeysOff)
        }
    }

    /// The event of a class, nil outside 0 ..< classes.
    public static func event(at index: Int) -> Event? {
        switch index {
        case step: return .step
        case bassOff: return .bassOff
        case firstDrum..<firstBassOn: return .drum(UInt8(kit.lowerBound + index - firstDrum))
        case firstBassOn..<firstKeysOn: return .bassOn(UInt8(lowestKey + index - firstBassOn))
        case firstKeysOn..<firstKeysOff: return .keysOn(UInt8(lowestKey + index - firstKeysOn))
        case firstKeysOff..<classes: return .keysOff(UInt8(lowestKey + index - firstKeysOff))
        default: return nil
        }
    }

    /// A song's band as classes, with the 16th step each class acts on. The stream opens with a STEP (the
    /// start, given and not predicted, as a melody's first event is) on step 0; the STEP that closes step s
    /// is on step s. Kit pieces outside GM's 35...81 and pitches outside the piano are dropped.
    public static func encode(drums: PianoRoll, bass: [MelodyEvent], keys: OnsetHoldRoll) -> (classes: [Int], steps: [Int]) {
        let count = max(drums.frames.count, keys.struck.frames.count)
        var classes = [step], steps = [0]
        var sounding = Set<UInt8>()
        for s in 0..<count {
            var events: [Event] = []
            if s < drums.frames.count { events += drums.frames[s].map { .drum($0) } }
            if s < bass.count {
                switch bass[s] {
                case .noEvent: break
                case .noteOff: events.append(.bassOff)
                case .noteOn(let p): events.append(.bassOn(p))
                }
            }
            if s < keys.struck.frames.count {
                let struck = keys.struck.frames[s], held = Set(keys.held.frames[s])
                events += sounding.subtracting(held).subtracting(struck).sorted().map { .keysOff($0) }
                events += struck.map { .keysOn($0) }
                sounding = held.union(struck)
            }
            for e in events {
                guard let c = index(of: e) else { continue }
                classes.append(c)
                steps.append(s)
            }
            classes.append(step)
            steps.append(s)
        }
        return (classes, steps)
    }
}
