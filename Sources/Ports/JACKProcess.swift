import CJACK

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

    if let port = state.pointee.inputPort, let buffer = jack_port_get_buffer(port, frames) {
        let count = jack_midi_get_event_count(buffer)
        var event = jack_midi_event_t()
        var index: UInt32 = 0
        while index < count {
            if jack_midi_event_get(&event, buffer, index) == 0, let data = event.buffer {
                state.pointee.core.received(
                    frame: start + UInt64(event.time),
                    bytes: UnsafeRawBufferPointer(start: data, count: event.size))
            }
            index += 1
        }
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
