import Neural

/// Times the model steps for whoever watches their latency (the daemon's metrics); the engine itself
/// keeps no clock and reaches no registry, so offline rendering and tests run the models untimed.
/// `time` runs on the engine thread inside the real-time path: it must not allocate, lock or block.
public protocol ModelStepTimer: Sendable {
    /// Runs one model step and returns its logits, timing it.
    func time(_ step: () -> UnsafeBufferPointer<Float>) -> UnsafeBufferPointer<Float>
}
