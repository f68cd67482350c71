"""A model's configuration and the `__metadata__` keys Sideman reads it from.

Mirrors TrainingModelConfig (Sources/Neural/Training/TrainingModelConfig.swift) key for key, so a file written
here passes `sideman eval` (which reads TrainingModelConfig) and the streaming loaders `sideman run` uses
(Sources/Neural/Models/*: BasicRNNConfig, LookbackRNNConfig, ...), which read the family's own keys.
"""

from dataclasses import dataclass, field

import numpy as np

CLOCK_BITS = 5
# Conditioning sizes (Sources/Neural/Models/Conditioning.swift).
PIANO_UNITS, BEAT_UNITS, STYLE_UNITS = 88, 32, 128
CONDITION_SIZES = {
    "soprano": PIANO_UNITS, "harmony": 12, "harmony_beat": 12 + BEAT_UNITS, "harmony_beat_rhythm": 12 + BEAT_UNITS + 1,
    "harmony_beat_style": 12 + BEAT_UNITS + STYLE_UNITS, "beat": BEAT_UNITS,
}
FAMILIES = ("basic", "lookback", "attention", "conv", "transformer")
HEADS = ("softmax", "multi_hot", "pitch_chain", "nade_chain")


def lookback_input_size(classes):
    return 3 * classes + CLOCK_BITS + 2


def _float_text(x):
    # Swift prints a Float by its shortest round-trip form ("0.0", "0.1"), as numpy prints a float32.
    return str(np.float32(x))


@dataclass
class ModelConfig:
    family: str
    data: str  # events | frames
    units: int
    hidden: int = 256
    layers: int = 2
    head: str = "softmax"
    window: int = 32
    steps_per_bar: int = 16
    dropout: float = 0.0
    # The transformer's dropout on the input map's output (metadata input_dropout, written only when set).
    input_dropout: float = 0.0
    condition: str | None = None
    styles: list = field(default_factory=list)
    chain_hidden: int = 128
    frame_layout: str = "pitches"
    residual: int = 64
    gate: int = 64
    skip: int = 128
    layers_per_stack: int = 8
    stacks: int = 2
    head_hidden: int = 128
    heads: int = 4
    mlp: int = 1024
    # A transformer reading melody events as the Lookback features (metadata inputs = lookback).
    lookback_inputs: bool = False

    def __post_init__(self):
        if self.family not in FAMILIES:
            raise ValueError(f"family {self.family} is not one of {', '.join(FAMILIES)}")
        if self.head not in HEADS:
            raise ValueError(f"head {self.head} is not one of {', '.join(HEADS)}")
        if (self.data == "events") != (self.head == "softmax"):
            raise ValueError(f"head {self.head} does not fit {self.data} data")
        if self.family == "conv":
            self.hidden, self.layers = 1, 1
        if self.lookback_inputs and (self.family != "transformer" or self.data != "events"):
            raise ValueError("Lookback inputs are a transformer's reading of melody events")
        if self.input_dropout and self.family != "transformer":
            raise ValueError("input dropout is the transformer's")
        if self.family == "transformer" and self.hidden % self.heads:
            raise ValueError("the transformer's width must be a multiple of its heads")

    @property
    def condition_size(self):
        return CONDITION_SIZES[self.condition] if self.condition else 0

    @property
    def base_input_size(self):
        return lookback_input_size(self.units) if self.family == "lookback" or self.lookback_inputs else self.units

    @property
    def input_size(self):
        return self.base_input_size + self.condition_size

    @property
    def outputs(self):
        n = self.units + 1 if self.head in ("pitch_chain", "nade_chain") else self.units
        return n + (self.chain_hidden if self.head == "nade_chain" else 0)

    @property
    def dilations(self):
        return [1 << k for _ in range(self.stacks) for k in range(self.layers_per_stack)]

    def metadata(self):
        m = {"family": self.family, "head": self.head, "data": self.data, "units": str(self.units),
             "dropout": _float_text(self.dropout)}
        if self.condition:
            m["condition"] = self.condition
        if self.input_dropout > 0:
            m["input_dropout"] = _float_text(self.input_dropout)
        if self.styles:
            m["styles"] = ",".join(self.styles)
        if self.head == "nade_chain":
            m["chain_hidden"] = str(self.chain_hidden)
        if self.frame_layout != "pitches":
            m["frame_layout"] = self.frame_layout
        f = self.family
        if f == "basic":
            m.update(input_size=self.input_size, hidden=self.hidden, layers=self.layers, outputs=self.outputs)
        elif f == "lookback":
            m.update(event_classes=self.units, steps_per_bar=self.steps_per_bar, hidden=self.hidden, layers=self.layers)
        elif f == "attention":
            m.update(input_size=self.input_size, hidden=self.hidden, layers=self.layers, window=self.window, outputs=self.outputs)
        elif f == "transformer":
            m.update(input_size=self.input_size, hidden=self.hidden, layers=self.layers, heads=self.heads, mlp=self.mlp,
                     window=self.window, outputs=self.outputs)
            if self.lookback_inputs:
                m.update(inputs="lookback", event_classes=self.units, steps_per_bar=self.steps_per_bar)
        else:
            m.update(input_size=self.input_size, residual=self.residual, gate=self.gate, skip=self.skip,
                     layers_per_stack=self.layers_per_stack, stacks=self.stacks, head_hidden=self.head_hidden,
                     outputs=self.outputs)
        return {k: str(v) for k, v in m.items()}

    @classmethod
    def from_metadata(cls, m):
        family = m["family"]
        head = m.get("head", "softmax")
        c = cls(family=family, data=m.get("data", "events"),
                units=int(m["event_classes"] if family == "lookback" else m["units"]),
                hidden=1 if family == "conv" else int(m["hidden"]), layers=1 if family == "conv" else int(m["layers"]),
                head=head, window=int(m.get("window", 32)) if family in ("attention", "transformer") else 32,
                steps_per_bar=int(m.get("steps_per_bar", 16)) if family == "lookback" or m.get("inputs") == "lookback" else 16,
                dropout=float(m.get("dropout", "0")), input_dropout=float(m.get("input_dropout", "0")),
                condition=None if m.get("condition", "none") == "none" else m["condition"],
                styles=[s for s in m.get("styles", "").split(",") if s],
                chain_hidden=int(m["chain_hidden"]) if head == "nade_chain" else 128,
                frame_layout=m.get("frame_layout", "pitches"),
                lookback_inputs=family == "transformer" and m.get("inputs") == "lookback")
        if family == "conv":
            for k in ("residual", "gate", "skip", "layers_per_stack", "stacks", "head_hidden"):
                setattr(c, k, int(m[k]))
        if family == "transformer":
            c.heads, c.mlp = int(m["heads"]), int(m["mlp"])
        if "input_size" in m and family != "lookback" and int(m["input_size"]) != c.input_size:
            raise ValueError(f"metadata input_size = {m['input_size']} does not fit units = {c.units}")
        return c
