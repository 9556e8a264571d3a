"""Minimal safetensors I/O for the parity scripts.

`save_file` / `load_file` use the `safetensors` package when it can be imported and otherwise a
small numpy implementation of the format (8-byte little-endian header length, JSON header
{name: {dtype, shape, data_offsets}, "__metadata__": {str: str}}, raw little-endian bytes).

`write_safetensors` is the numpy writer itself. It lays a file out the way the safetensors library
does (tensors sorted by dtype, widest first in the library's dtype order, then by name; compact
JSON; header padded with spaces to a multiple of 8), but it is deterministic: `__metadata__`
keys keep the order given, where the library's Rust side serialises a hash map.
"""
import json
import struct
from collections import OrderedDict

import numpy as np

# safetensors dtype name -> numpy dtype (little-endian); order = the library's Dtype enum order.
_DTYPES = OrderedDict([
    ("BOOL", np.dtype("bool")),
    ("U8", np.dtype("uint8")),
    ("I8", np.dtype("int8")),
    ("I16", np.dtype("<i2")),
    ("U16", np.dtype("<u2")),
    ("F16", np.dtype("<f2")),
    ("I32", np.dtype("<i4")),
    ("U32", np.dtype("<u4")),
    ("F32", np.dtype("<f4")),
    ("F64", np.dtype("<f8")),
    ("I64", np.dtype("<i8")),
    ("U64", np.dtype("<u8")),
])
_RANK = {name: i for i, name in enumerate(_DTYPES)}

try:  # optional
    import safetensors  # noqa: F401
    import safetensors.numpy as _st_numpy
    from safetensors import safe_open as _safe_open
    HAVE_SAFETENSORS = True
except Exception:  # pragma: no cover - depends on the machine
    HAVE_SAFETENSORS = False


def to_numpy(t):
    """torch.Tensor or array-like -> contiguous numpy array (CPU, detached)."""
    if hasattr(t, "detach"):
        t = t.detach().cpu().contiguous().numpy()
    a = np.asarray(t)
    # (np.ascontiguousarray would turn a 0-d array into shape [1])
    return a if a.flags.c_contiguous else np.ascontiguousarray(a)


def _st_dtype(a):
    for name, d in _DTYPES.items():
        if d.kind == a.dtype.kind and d.itemsize == a.dtype.itemsize:
            return name
    raise TypeError(f"unsupported dtype {a.dtype}")


def write_safetensors(tensors, path, metadata=None):
    """Writes {name: array} to `path` (numpy implementation, deterministic)."""
    arrays = {k: to_numpy(v) for k, v in tensors.items()}
    items = sorted(arrays.items(), key=lambda kv: (-_RANK[_st_dtype(kv[1])], kv[0]))
    header = OrderedDict()
    if metadata:
        header["__metadata__"] = OrderedDict((str(k), str(v)) for k, v in metadata.items())
    offset = 0
    blobs = []
    for name, a in items:
        dt = _st_dtype(a)
        data = a.astype(_DTYPES[dt], copy=False).tobytes(order="C")
        header[name] = OrderedDict([
            ("dtype", dt),
            ("shape", list(a.shape)),
            ("data_offsets", [offset, offset + len(data)]),
        ])
        offset += len(data)
        blobs.append(data)
    hb = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    hb += b" " * ((8 - len(hb) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    """numpy implementation: returns ({name: array}, metadata dict)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"), object_pairs_hook=OrderedDict)
    meta = header.pop("__metadata__", None) or {}
    base = 8 + n
    out = OrderedDict()
    for name, info in header.items():
        a, b = info["data_offsets"]
        dt = _DTYPES[info["dtype"]]
        arr = np.frombuffer(raw, dtype=dt, count=(b - a) // dt.itemsize, offset=base + a)
        out[name] = arr.reshape(info["shape"]).copy()
    return out, dict(meta)


def save_file(tensors, path, metadata=None):
    """Saves {name: tensor/array}; uses the safetensors package if present."""
    arrays = {k: to_numpy(v) for k, v in tensors.items()}
    if HAVE_SAFETENSORS:
        _st_numpy.save_file(arrays, str(path), metadata=metadata)
    else:
        write_safetensors(arrays, path, metadata)


def load_file(path):
    """Returns ({name: numpy array}, metadata dict); uses the safetensors package if present."""
    if HAVE_SAFETENSORS:
        out = OrderedDict()
        with _safe_open(str(path), framework="np") as f:
            meta = f.metadata() or {}
            for k in f.keys():
                out[k] = f.get_tensor(k)
        return out, dict(meta)
    return read_safetensors(path)
