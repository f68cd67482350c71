/// Melody RNN's Lookback input encoding (Magenta's LookbackEventSequenceEncoderDecoder), built as a sparse
/// feature list: for the event at position t it holds
///   - the event one-hot (classes),
///   - the events 1 and 2 bars back from the *next* position (t+1-bar, t+1-2·bar; NO_EVENT before the start),
///   - the binary step clock of the next position: 5 values, bit i of (t+1) as +1 / -1,
///   - "is repeating" flags: 1 when the event at t equals the event 1 (2) bars before t.
/// It keeps the last two bars of events in a fixed ring, so encoding never allocates.
public struct LookbackEncoder: Sendable {
    public static let clockBits = 5
    public let classes: Int
    public let stepsPerBar: Int
    /// The event index used before the melody starts (Magenta's default event: NO_EVENT = 0).
    public let noEvent: Int
    private var history: [Int]
    private var position = -1

    public init(classes: Int, stepsPerBar: Int, noEvent: Int = 0) {
        self.classes = classes
        self.stepsPerBar = stepsPerBar
        self.noEvent = noEvent
        history = [Int](repeating: noEvent, count: 2 * stepsPerBar + 1)
    }

    public static func inputSize(classes: Int) -> Int { 3 * classes + clockBits + 2 }
    public var inputSize: Int { Self.inputSize(classes: classes) }

    public mutating func reset() {
        for i in history.indices { history[i] = noEvent }
        position = -1
    }

    /// The event at absolute position p (p ≤ current), or NO_EVENT before the start.
    private func event(at p: Int) -> Int { p < 0 ? noEvent : history[p % history.count] }

    /// Appends the event at the next position and returns that position's input features.
    public mutating func encode(_ event: Int) -> FeatureList {
        // An event outside the classes would alias into the lookback blocks; it is read as NO_EVENT.
        let event = (0..<classes).contains(event) ? event : noEvent
        position += 1
        let t = position
        history[t % history.count] = event
        var features = FeatureList(oneHot: event)
        var offset = classes
        for bars in 1...2 {
            features.append(offset + self.event(at: t - bars * stepsPerBar + 1))
            offset += classes
        }
        let next = t + 1
        for bit in 0..<Self.clockBits {
            features.append(offset + bit, value: (next >> bit) & 1 == 1 ? 1 : -1)
        }
        offset += Self.clockBits
        for bars in 1...2 where t - bars * stepsPerBar >= 0 && self.event(at: t - bars * stepsPerBar) == event {
            features.append(offset + bars - 1)
        }
        return features
    }
}

/// Lookback RNN configuration: event classes and bar length fix the input encoding.
public struct LookbackRNNConfig: Sendable, Equatable {
    public var eventClasses: Int
    public var stepsPerBar: Int
    public var hidden: Int
    public var layers: Int

    public init(eventClasses: Int, stepsPerBar: Int = 16, hidden: Int, layers: Int) {
        self.eventClasses = eventClasses
        self.stepsPerBar = stepsPerBar
        self.hidden = hidden
        self.layers = layers
    }

    public var inputSize: Int { LookbackEncoder.inputSize(classes: eventClasses) }

    public var metadata: [String: String] {
        ["family": Family.lookback.rawValue, "event_classes": "\(eventClasses)", "steps_per_bar": "\(stepsPerBar)",
         "hidden": "\(hidden)", "layers": "\(layers)", "head": OutputHead.softmax.rawValue]
    }

    init(_ r: WeightReader) throws(WeightsError) {
        self.init(eventClasses: try r.size("event_classes"), stepsPerBar: try r.integer("steps_per_bar", in: 1...256),
                  hidden: try r.size("hidden"), layers: try r.integer("layers", in: 1...16))
    }

    var parameterCount: Int { lstmParameters(inputs: inputSize, hidden: hidden, layers: layers) + eventClasses * (hidden + 1) }
}
