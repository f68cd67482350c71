"""Sideman's model families in PyTorch, for corpora that outgrow one machine (docs/TRAINING.md, "Training in
PyTorch"). Tensor names, math and metadata match Sideman's, so model files move both ways unchanged."""
