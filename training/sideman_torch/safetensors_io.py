"""safetensors read and write with numpy alone.

Sideman's loader is strict (Sources/Neural/Weights/SafeTensors.swift): tensors packed without gaps in the
order of their offsets, a header that is plain JSON of objects, arrays, strings and non-negative integers,
and no NaN or infinity in any tensor. Writing it here keeps the package free of the `safetensors` wheel and
keeps every file it writes inside those rules.
"""

import json
import os
import struct

import numpy as np

_DTYPES = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32,
    "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_,
}
_NAMES = {np.dtype(v): k for k, v in _DTYPES.items()}


def read(path, mmap=False):
    """(tensors: name -> numpy array, metadata: dict of strings). With mmap the arrays are read-only views of
    the file, paged in as they are touched and shared by every process that maps it (a corpus for eight GPU
    processes on a node is in memory once)."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + n) if mmap else np.frombuffer(f.read(), np.uint8)
    metadata = header.pop("__metadata__", {}) or {}
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        raw = data[begin:end]
        if entry["dtype"] == "BF16":
            array = (raw.view(np.uint16).astype(np.uint32) << 16).view(np.float32)
        else:
            array = raw.view(np.dtype(_DTYPES[entry["dtype"]]).newbyteorder("<"))
        array = array.reshape(entry["shape"])
        tensors[name] = array if mmap else array.copy()
    return tensors, dict(metadata)


def write(path, tensors, metadata=None):
    """Writes tensors (name -> numpy array, F32 unless integer) sorted by name, packed, header padded to 8."""
    names = sorted(tensors)
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in sorted(metadata.items())}
    offset = 0
    chunks = []
    for name in names:
        array = np.ascontiguousarray(tensors[name])
        if array.dtype.kind == "f":
            array = array.astype(np.float32)
            if not np.all(np.isfinite(array)):
                raise ValueError(f"tensor {name} holds a NaN or infinity; Sideman refuses such a file")
        raw = array.astype(array.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": _NAMES[array.dtype], "shape": list(array.shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        chunks.append(raw)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    text += b" " * (-len(text) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in chunks:
            f.write(raw)

    os.replace(tmp, path)
