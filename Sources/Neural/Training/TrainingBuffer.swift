/// Training's activations, parameters and gradients: the same aligned storage as the streaming step's
/// (a class, so layers hand the same storage on without copying), on ordinary pages.
public typealias TrainingBuffer = AlignedBuffer<Float>
