/// Training's generator: SplitMix64, whose one-word state a checkpoint stores to resume the same stream.
public typealias TrainingRandom = SplitMix64
