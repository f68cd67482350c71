/// Neural: kernels, layers, streaming models, safetensors, training.
public enum NeuralModule {}
