/// Melody RNN's Lookback input encoding (Magenta's LookbackEventSequenceEncoderDecoder), built as a sparse
/// feature list: for the event at position t it holds
///   - the event one-hot (classes),
///   - the events 1 and 2 bars back from the *next* position (t+1-bar, t+1-2·bar; NO_EVENT before the start),
///   - the binary step clock of the next position: 5 values, bit i of (t+1) as +1 / -1 (counted from the
///     downbeat before the melody's first step),
///   - "is repeating" flags: 1 when the event at t equals the event 1 (2) bars before t.
/// It keeps the last two bars of events in a fixed ring, so encoding never allocates.
public struct LookbackEncoder: Sendable {
    public static let clockBits = 5
    /// The longest bar a melody can be read in (a bar of 4/2 or 8/4 in 16ths): the history is sized for it, so
    /// changing the bar never allocates.
    public static let maxStepsPerBar = 64
    public let classes: Int
    /// The bar the lookback features look back by: the model's own (from training) until `restart` sets the
    /// melody's.
    public private(set) var stepsPerBar: Int
    /// Steps from the bar's downbeat to the melody's first step, so the step clock counts bar positions (a
    /// tune with a pickup starts late in its bar).
    public private(set) var clockOffset = 0
    /// The event index used before the melody starts (Magenta's default event: NO_EVENT = 0).
    public let noEvent: Int
    private var history: [Int]
    private var position = -1

    public init(classes: Int, stepsPerBar: Int, noEvent: Int = 0) {
        self.classes = classes
        self.stepsPerBar = min(max(1, stepsPerBar), Self.maxStepsPerBar)
        self.noEvent = noEvent
        history = [Int](repeating: noEvent, count: 2 * max(stepsPerBar, Self.maxStepsPerBar) + 1)
    }

    /// Back to the start, reading the melody in bars of `stepsPerBar` with its first step `firstStepInBar`
    /// steps after a downbeat (a meter's bar in 16ths: 4/4 16, 3/4 and 6/8 12, 2/4 8).
    public mutating func restart(stepsPerBar: Int, firstStepInBar: Int) {
        reset()
        self.stepsPerBar = min(max(1, stepsPerBar), Self.maxStepsPerBar)
        clockOffset = ((firstStepInBar % self.stepsPerBar) + self.stepsPerBar) % self.stepsPerBar
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
        let next = t + 1 + clockOffset
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
