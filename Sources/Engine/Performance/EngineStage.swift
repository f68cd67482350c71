import MIDI
import Music

/// Where the engine is in its life. The grid and the listener count in frames, so they exist only once a
/// cycle has told the sample rate; a clock that went back sends the engine back to waiting for one.
enum EngineStage {
    case waitingForRate
    case playing(Session)

    var transport: Transport? {
        if case .playing(let session) = self { return session.transport }
        return nil
    }
}

/// The band's timeline at one sample rate: the grid, what the player has played on it, the count-in
/// clicks, and where the step decisions stand. Nothing in it is optional: a session is whole from its
/// first cycle.
struct Session {
    var transport: Transport
    var listener: Listener
    var metronome: Metronome?
    var schedule: StepSchedule

    var sampleRate: Double { transport.sampleRate }

    init(preset: Preset, parts: [Part], sampleRate rate: Double) {
        transport = Transport(
            settings: preset.transport, sampleRate: rate, tapController: preset.controls.tap,
            followChannel: preset.listener.inputChannel)
        listener = Listener(
            settings: preset.listener, sampleRate: rate, meter: preset.transport.meter,
            phraseEndController: preset.controls.phraseEnd)
        metronome = preset.transport.countInBars > 0 ? Metronome(sampleRate: rate) : nil
        schedule = StepSchedule(harmony: HarmonyCommit(preset: preset, parts: parts, rate: rate))
    }
}
