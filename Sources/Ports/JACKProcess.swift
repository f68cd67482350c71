import CJACK
import CLink

#if canImport(Glibc)
    import Glibc
#endif

/// Everything the JACK callbacks touch, in one preallocated block whose address is the callbacks'
/// context pointer. No Swift class is reachable from here, so a cycle does no reference counting.
/// Noncopyable because it holds the I/O thread's one `CycleCore`.
struct JACKProcessState: ~Copyable {
    var core: CycleCore
    var client: OpaquePointer?
    var inputPort: OpaquePointer?
    /// `core.outputCount` port handles, and the buffers fetched for them each cycle.
    let outputPorts: UnsafeMutablePointer<OpaquePointer?>
    let outputBuffers: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    /// Posted when the control thread has work: ports appeared, the server went away.
    let controlWakeup: UnsafeMutablePointer<sem_t>
    /// The studio timeline the engine follows, if any, and its clock for the engine.
    var timeline: FollowedTimeline? = nil
    var transportPosition = TransportPosition()
    var bridge = TickBridge(quartersPerBar: 4)
}

/// What the process callback needs to read an external timeline each cycle.
enum FollowedTimeline {
    /// Quarter notes per minute when no master publishes BBT.
    case jackTransport(fallbackQuartersPerMinute: Double)
    case link(session: OpaquePointer, quartersPerBar: Double, startStopSync: Bool)

    /// The timeline at this cycle's first frame. Real-time safe: JACK's transport query, or Link's
    /// audio-thread capture with the cycle's start mapped from JACK's microseconds to Link's clock.
    func read(
        client: OpaquePointer, sampleRate: Double, length: Int, transport: inout TransportPosition
    ) -> TimelineReading {
        switch self {
        case .jackTransport(let fallback):
            var frame: UInt32 = 0
            var valid: Int32 = 0
            var bbtQuarters = 0.0
            var bbtPerMinute = 0.0
            let rolling = sideman_jack_transport_read(client, &frame, &valid, &bbtQuarters, &bbtPerMinute) != 0
            let now = transport.quarters(
                frame: frame, rolling: rolling, length: length, bbtPerMinute: valid != 0 ? bbtPerMinute : nil,
                fallbackPerMinute: fallback, sampleRate: sampleRate)
            return TimelineReading(rolling: rolling, quarters: now.quarters, quartersPerFrame: now.perMinute / 60 / sampleRate)
        case .link(let session, let quartersPerBar, let startStopSync):
            var frames: jack_nframes_t = 0
            var cycleStart: jack_time_t = 0
            var nextCycle: jack_time_t = 0
            var period: Float = 0
            let linkNow = sideman_link_micros(session)
            var heard = linkNow
            if jack_get_cycle_times(client, &frames, &cycleStart, &nextCycle, &period) == 0 {
                // This cycle's first frame is heard when the next cycle begins: Link times what the
                // listener hears, so ticks are placed for that moment.
                let now = jack_get_time()
                heard = linkNow &- Int64(bitPattern: now &- nextCycle)
            }
            var beat = 0.0
            var tempo = 0.0
            var playing: Int32 = 0
            sideman_link_audio_read(session, heard, quartersPerBar, &beat, &tempo, &playing)
            return TimelineReading(
                rolling: !startStopSync || playing != 0, quarters: beat, quartersPerFrame: tempo / 60 / sampleRate)
        }
    }
}

/// The process callback JACK runs in production: the cycle itself and nothing else.
let jackProcess: JackProcessCallback = jackCycle

/// The process callback installed instead when a test preloaded an allocation-counting library
/// (`sideman_jack_probe_resolve` found its probe): the same `jackCycle`, bracketed by the probe, so the
/// count covers exactly the production callback's body while production carries no probe code.
let jackProbedProcess: JackProcessCallback = { frames, context in
    sideman_jack_probe_enter()
    let result = jackCycle(frames, context)
    sideman_jack_probe_leave()
    return result
}

/// One process cycle: timestamp input, write due output, wake the engine. Real-time safe.
private func jackCycle(_ frames: jack_nframes_t, _ context: UnsafeMutableRawPointer?) -> Int32 {
    let state = context!.assumingMemoryBound(to: JACKProcessState.self)
    guard let client = state.pointee.client else { return 0 }
    let length = Int(frames)
    let start = state.pointee.core.begin(serverFrame: jack_last_frame_time(client), length: length)

    var bridged = 0
    let followsTimeline = state.pointee.timeline != nil
    if let timeline = state.pointee.timeline {
        let rate = Double(max(1, state.pointee.core.counters.sampleRate.load(ordering: .relaxed)))
        let reading = timeline.read(
            client: client, sampleRate: rate, length: length, transport: &state.pointee.transportPosition)
        state.pointee.bridge.cycle(reading, length: length)
        bridged = state.pointee.bridge.count
    }
    var nextBridged = 0
    if let port = state.pointee.inputPort, let buffer = jack_port_get_buffer(port, frames) {
        let count = jack_midi_get_event_count(buffer)
        var event = jack_midi_event_t()
        var index: UInt32 = 0
        while index < count {
            if jack_midi_event_get(&event, buffer, index) == 0, let data = event.buffer {
                // While a timeline drives the grid, a clock on the input port would fight it.
                if !followsTimeline || !isClockMessage(data[0]) {
                    while nextBridged < bridged, state.pointee.bridge[nextBridged].offset <= event.time {
                        receiveBridged(state, nextBridged, start: start)
                        nextBridged += 1
                    }
                    state.pointee.core.received(
                        frame: start + UInt64(event.time),
                        bytes: UnsafeRawBufferPointer(start: data, count: event.size))
                }
            }
            index += 1
        }
    }
    while nextBridged < bridged {
        receiveBridged(state, nextBridged, start: start)
        nextBridged += 1
    }

    let outputs = state.pointee.outputBuffers
    for index in 0..<state.pointee.core.outputCount {
        let buffer = state.pointee.outputPorts[index].flatMap { jack_port_get_buffer($0, frames) }
        if let buffer { jack_midi_clear_buffer(buffer) }
        outputs[index] = buffer
    }
    if !state.pointee.core.counters.lost.load(ordering: .relaxed) {
        state.pointee.core.dispatch(start: start, length: length) { port, offset, bytes in
            // A full port buffer is checked here rather than left to jack_midi_event_write, which
            // would report it through JACK's error callback: a formatted print on this thread.
            guard let buffer = outputs[port], jack_midi_max_event_size(buffer) >= bytes.count else { return false }
            return jack_midi_event_write(
                buffer, offset, bytes.baseAddress!.assumingMemoryBound(to: jack_midi_data_t.self), bytes.count)
                == 0
        }
    }
    state.pointee.core.end()
    return 0
}

/// Clock, start, continue, stop and song position: the messages a followed timeline replaces.
private func isClockMessage(_ status: UInt8) -> Bool {
    status == 0xF8 || status == 0xFA || status == 0xFB || status == 0xFC || status == 0xF2
}

private func receiveBridged(_ state: UnsafeMutablePointer<JACKProcessState>, _ index: Int, start: UInt64) {
    var event = state.pointee.bridge[index]
    withUnsafeBytes(of: &event.bytes) { bytes in
        state.pointee.core.received(
            frame: start + UInt64(event.offset), bytes: UnsafeRawBufferPointer(rebasing: bytes[0..<event.count]))
    }
}

let jackBufferSize: JackBufferSizeCallback = { frames, context in
    let state = context!.assumingMemoryBound(to: JACKProcessState.self)
    state.pointee.core.counters.bufferSize.store(Int(frames), ordering: .relaxed)
    return 0
}

let jackSampleRate: JackSampleRateCallback = { rate, context in
    let state = context!.assumingMemoryBound(to: JACKProcessState.self)
    state.pointee.core.counters.sampleRate.store(Int(rate), ordering: .relaxed)
    return 0
}

let jackXrun: JackXRunCallback = { context in
    let state = context!.assumingMemoryBound(to: JACKProcessState.self)
    state.pointee.core.counters.xruns.wrappingIncrement(ordering: .relaxed)
    return 0
}

/// Runs on JACK's notification thread: only flags the change; the control thread reconnects.
let jackPortRegistration: JackPortRegistrationCallback = { _, _, context in
    let state = context!.assumingMemoryBound(to: JACKProcessState.self)
    state.pointee.core.counters.notify(.portsChanged)
    sem_post(state.pointee.controlWakeup)
}

/// Runs on JACK's notification thread: a connection was made or broken somewhere in the graph; the
/// control thread works out whether an output gained a destination to greet.
let jackPortConnect: JackPortConnectCallback = { _, _, _, context in
    let state = context!.assumingMemoryBound(to: JACKProcessState.self)
    state.pointee.core.counters.notify(.connectionsChanged)
    sem_post(state.pointee.controlWakeup)
}

/// The server is gone: the client must not be used for I/O any more. Flag it and wake both threads.
let jackShutdown: JackInfoShutdownCallback = { _, _, context in
    let state = context!.assumingMemoryBound(to: JACKProcessState.self)
    state.pointee.core.counters.lost.store(true, ordering: .releasing)
    state.pointee.core.counters.notify(.lost)
    sem_post(state.pointee.controlWakeup)
    sem_post(state.pointee.core.engineWakeup)
}
