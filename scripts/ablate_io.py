"""Read and write ablate's on-disk artifacts from Python ("bring your own code").

A program run as an ablate ``command`` stage reads its upstream stages' output folders and
writes its own results into ``$ABLATE_OUT``. This module reads and writes exactly the formats
the native stages use (see FORMATS.md beside this file), so that

- a script can train on a native dataset (the output of ``load``, ``synthetic`` or
  ``vae_augment``): :func:`read_dataset`;
- a script can start from a native model (``backbone``, ``attention`` or ``train``):
  :func:`read_model`;
- a script can hand a trained model to the native ``evaluate``, ``export`` and ``gradcam``
  stages (or to ``train`` with ``take: all``): :func:`write_model`, :func:`write_thresholds`;
- a script's own model, of any kind, is scored by the native ``score`` stage exactly as
  ``evaluate`` scores a native one: :func:`write_predictions`;
- a script reports metrics the way ablate stores them: :class:`Metrics`, :func:`write_metrics`.

Dependencies: numpy and safetensors (``safetensors.numpy``). torch is optional and never
imported by this module: :func:`write_model` also accepts torch tensors (a ``state_dict()``),
converting them with ``.detach().cpu().numpy()``.

Minimal use inside a command stage::

    import ablate_io as aio
    data = aio.read_dataset(aio.input("data"))
    train = data["train"]                       # ids, images (N×3×H×W uint8), labels (N×L uint8)
    x = aio.normalize(train.images)             # float32, as the native stages feed models
    ...
    aio.write_model(aio.out_dir(), config, model.state_dict())
    with aio.Metrics() as m:
        m.add("macro_f1", 0.81, split="val", epoch=3)
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple, Union

import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import load_file, save_file

__all__ = [
    "FormatError",
    "NotInAblateError",
    "Split",
    "Dataset",
    "read_dataset",
    "write_dataset",
    "MEAN",
    "STD",
    "normalize",
    "denormalize",
    "BACKBONES",
    "FEATURE_CHANNELS",
    "read_model",
    "model_config",
    "check_model",
    "write_model",
    "write_initial_model",
    "read_thresholds",
    "write_thresholds",
    "write_predictions",
    "read_loss",
    "Metrics",
    "write_metrics",
    "out_dir",
    "inputs",
    "input",
    "vars",
    "device",
    "stage",
]

PathLike = Union[str, "os.PathLike[str]"]

# --------------------------------------------------------------------------------------------
# Errors


class FormatError(ValueError):
    """A file is not what the format says; the message names the file."""


class NotInAblateError(RuntimeError):
    """An ``ABLATE_*`` environment variable is missing: not running as an ablate command stage."""


# --------------------------------------------------------------------------------------------
# Datasets (crates/stages/src/data/dataset.rs)

DATASET_FORMAT = "ablate-dataset-1"
DATASET_FILE = "dataset.safetensors"
DATASET_INDEX = "dataset.json"


@dataclass
class Split:
    """One split: ``ids`` in row order, ``images`` uint8 N×3×size×size (RGB, channel-first),
    ``labels`` uint8 N×labels (0 or 1), columns in the dataset's ``label_names`` order."""

    name: str
    ids: List[str]
    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class Dataset:
    """A native dataset: label names, image side and the splits in their stored order."""

    label_names: List[str]
    size: int
    splits: Dict[str, Split] = field(default_factory=dict)

    def split(self, name: str) -> Split:
        if name not in self.splits:
            raise KeyError(
                f"dataset has no split `{name}` (it has: {', '.join(self.splits)})"
            )
        return self.splits[name]

    __getitem__ = split

    def __contains__(self, name: object) -> bool:
        return name in self.splits


def _read_json(path: Path, what: str) -> Any:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise FormatError(f"cannot read {path}: {e.strerror or e}") from e
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise FormatError(f"{path} is not {what}: {e}") from e


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_index(index: Any, path: Path) -> None:
    """The checks serde makes when it parses dataset.json into the native `Index`."""
    bad = lambda why: FormatError(f"{path} is not an ablate dataset index: {why}")  # noqa: E731
    if not isinstance(index, dict):
        raise bad("expected a JSON object")
    for key in ("format", "label_names", "size", "splits"):
        if key not in index:
            raise bad(f"missing field `{key}`")
    if not isinstance(index["format"], str):
        raise bad("`format` must be a string")
    if index["format"] != DATASET_FORMAT:
        raise FormatError(f"{path}: unknown dataset format `{index['format']}`")
    if not _is_str_list(index["label_names"]):
        raise bad("`label_names` must be a list of strings")
    if not _is_int(index["size"]) or index["size"] < 0:
        raise bad("`size` must be a non-negative integer")
    splits = index["splits"]
    if not isinstance(splits, list) or not all(
        isinstance(s, list) and len(s) == 2 and isinstance(s[0], str) and _is_str_list(s[1])
        for s in splits
    ):
        raise bad("`splits` must be a list of [name, [id, ...]] pairs")


def read_dataset(folder: PathLike) -> Dataset:
    """Reads the dataset artifact in ``folder`` (``dataset.json`` + ``dataset.safetensors``).

    Performs the native reader's checks (format string ``ablate-dataset-1``; ``images.<split>``
    and ``labels.<split>`` present with shapes N×3×size×size and N×labels) plus a dtype check
    (uint8); errors are :class:`FormatError` naming the file."""
    folder = Path(folder)
    index_path = folder / DATASET_INDEX
    index = _read_json(index_path, "an ablate dataset index")
    _check_index(index, index_path)
    path = folder / DATASET_FILE
    if not path.is_file():
        raise FormatError(f"cannot read {path}: no such file")
    size, labels_n = index["size"], len(index["label_names"])
    splits: Dict[str, Split] = {}
    try:
        with safe_open(str(path), framework="np") as file:
            names = set(file.keys())
            for name, ids in index["splits"]:
                tensors = {}
                for what, prefix in (("images", "images."), ("labels", "labels.")):
                    key = prefix + name
                    if key not in names:
                        raise FormatError(f"{path}: no {what} of `{name}`")
                    tensors[what] = file.get_tensor(key)
                images, labels = tensors["images"], tensors["labels"]
                if images.shape != (len(ids), 3, size, size) or labels.shape != (
                    len(ids),
                    labels_n,
                ):
                    raise FormatError(f"{path}: split `{name}` has inconsistent shapes")
                if images.dtype != np.uint8 or labels.dtype != np.uint8:
                    raise FormatError(
                        f"{path}: split `{name}` is stored as {images.dtype}/{labels.dtype}, "
                        "expected uint8"
                    )
                splits[name] = Split(name, list(ids), images, labels)
    except SafetensorError as e:
        raise FormatError(f"{path} is not a safetensors file: {e}") from e
    return Dataset(list(index["label_names"]), size, splits)


def write_dataset(folder: PathLike, dataset: Dataset) -> None:
    """Writes ``dataset`` in the native format; the native stages (``train``, ``loss``,
    ``evaluate``, ...) read it like ``load``'s output. Output is byte-identical to what the
    native writer produces for the same content."""
    folder = Path(folder)
    labels_n = len(dataset.label_names)
    if not _is_str_list(list(dataset.label_names)) or labels_n == 0:
        raise ValueError("label_names must be a non-empty list of strings")
    if len(set(dataset.label_names)) != labels_n:
        raise ValueError(f"label_names must be unique, got {dataset.label_names}")
    size = int(dataset.size)
    tensors: Dict[str, np.ndarray] = {}
    for key, split in dataset.splits.items():
        if key != split.name:
            raise ValueError(f"split stored under `{key}` is named `{split.name}`")
        n = len(split.ids)
        if len(set(split.ids)) != n:
            raise ValueError(f"split `{split.name}` has duplicate ids")
        images, labels = np.asarray(split.images), np.asarray(split.labels)
        if images.dtype != np.uint8 or images.shape != (n, 3, size, size):
            raise ValueError(
                f"split `{split.name}`: images must be uint8 {(n, 3, size, size)}, "
                f"got {images.dtype} {images.shape}"
            )
        if labels.dtype != np.uint8 or labels.shape != (n, labels_n):
            raise ValueError(
                f"split `{split.name}`: labels must be uint8 {(n, labels_n)}, "
                f"got {labels.dtype} {labels.shape}"
            )
        if labels.size and labels.max() > 1:
            raise ValueError(f"split `{split.name}`: labels must be 0 or 1")
        tensors[f"images.{split.name}"] = _contiguous(images)
        tensors[f"labels.{split.name}"] = _contiguous(labels)
    index = {
        "format": DATASET_FORMAT,
        "label_names": list(dataset.label_names),
        "size": size,
        "splits": [[s.name, list(s.ids)] for s in dataset.splits.values()],
    }
    folder.mkdir(parents=True, exist_ok=True)
    _write_bytes(folder / DATASET_INDEX, _json_compact(index))
    _save_safetensors(folder / DATASET_FILE, tensors)


# --------------------------------------------------------------------------------------------
# Input normalisation (crates/torch/src/nn/tensors.rs)

#: ImageNet statistics the native stages normalise every model's input with (per RGB channel).
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
_MEAN32 = np.asarray(MEAN, dtype=np.float32).reshape(1, 3, 1, 1)
_STD32 = np.asarray(STD, dtype=np.float32).reshape(1, 3, 1, 1)


def normalize(images: np.ndarray) -> np.ndarray:
    """uint8 N×3×H×W (or 3×H×W) → float32 network input, computed as the native stages do:
    ``(x / 255 - MEAN) / STD`` in float32. With torch: ``torch.from_numpy(normalize(batch))``,
    or the same formula on the device with ``torch.tensor(MEAN).view(1, 3, 1, 1)``."""
    x = np.asarray(images)
    squeeze = x.ndim == 3
    if squeeze:
        x = x[None]
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"expected N×3×H×W images, got shape {x.shape}")
    out = (x.astype(np.float32) / np.float32(255.0) - _MEAN32) / _STD32
    return out[0] if squeeze else out


def denormalize(x: np.ndarray) -> np.ndarray:
    """Network input → floats in [0, 1], the inverse of :func:`normalize` (before ×255)."""
    x = np.asarray(x, dtype=np.float32)
    shape = (1, 3, 1, 1) if x.ndim == 4 else (3, 1, 1)
    return np.clip(x * _STD32.reshape(shape) + _MEAN32.reshape(shape), 0.0, 1.0)


# --------------------------------------------------------------------------------------------
# Models (crates/torch/src/nn/checkpoint.rs, models/mod.rs, models/head.rs, models/attention.rs)

MODEL_CONFIG = "model.json"
MODEL_WEIGHTS = "model.safetensors"
ARCHITECTURE = "architecture.json"
INITIAL_WEIGHTS = "weights.safetensors"
THRESHOLDS = "thresholds.json"
PREDICTIONS = "predictions.csv"
LOSS = "loss.json"

#: Channels of each backbone's final feature map: the input width of `classifier.0`.
FEATURE_CHANNELS = {
    "resnet18": 512,
    "efficientnet_b0": 1280,
    "efficientnet_lite0": 1280,
    "vit_tiny_patch16_224": 192,
    "vit_small_patch16_224": 384,
    "vit_base_patch16_224": 768,
    "swin_tiny_patch4_window7_224": 768,
    "swin_small_patch4_window7_224": 768,
}
BACKBONES = tuple(FEATURE_CHANNELS)
ATTENTION_KINDS = ("none", "se", "mha")

# Field order and defaults of the native `Architecture` (serde defaults), then `ModelConfig`.
_ARCH_DEFAULTS = {"attention": "none", "se_reduction": 16, "mha_heads": 8, "drop_path": None}
_ARCH_KEYS = ("backbone", "attention", "se_reduction", "mha_heads", "drop_path")
_MODEL_KEYS = _ARCH_KEYS + ("labels", "head_hidden", "dropout", "image_size")

#: Tensors that are not float32 in a native model: BatchNorm's step counter (int64, shape []).
_INT_SUFFIX = "num_batches_tracked"


def _architecture(config: Mapping[str, Any], where: str, strict: bool = True) -> Dict[str, Any]:
    """The architecture part of a config, validated, defaults filled, in native key order.
    Not ``strict`` (reading): a backbone this module does not know is accepted."""
    if not isinstance(config, Mapping):
        raise ValueError(f"{where}: expected a JSON object / dict")
    arch = {"backbone": config.get("backbone")}
    for key, default in _ARCH_DEFAULTS.items():
        arch[key] = config.get(key, default)
    if not isinstance(arch["backbone"], str):
        raise ValueError(f"{where}: `backbone` is required (one of {', '.join(BACKBONES)})")
    if arch["backbone"] not in FEATURE_CHANNELS and strict:
        raise ValueError(
            f"{where}: unknown backbone `{arch['backbone']}` (known: {', '.join(BACKBONES)})"
        )
    if arch["attention"] not in ATTENTION_KINDS:
        raise ValueError(
            f"{where}: `attention` must be one of {', '.join(ATTENTION_KINDS)}, "
            f"got {arch['attention']!r}"
        )
    for key in ("se_reduction", "mha_heads"):
        if not _is_int(arch[key]) or arch[key] < 1:
            raise ValueError(f"{where}: `{key}` must be a positive integer, got {arch[key]!r}")
    dp = arch["drop_path"]
    if dp is not None:
        if isinstance(dp, bool) or not isinstance(dp, (int, float)) or not 0 <= dp < 1:
            raise ValueError(f"{where}: `drop_path` must be null or a number in [0, 1)")
        arch["drop_path"] = float(dp)
    channels = FEATURE_CHANNELS.get(arch["backbone"], 0)
    if arch["attention"] == "mha" and channels % arch["mha_heads"] != 0:
        raise ValueError(
            f"{where}: attention heads ({arch['mha_heads']}) must divide the feature channels "
            f"({channels}) of {arch['backbone']}"
        )
    return arch


def model_config(config: Mapping[str, Any], *, strict: bool = True) -> Dict[str, Any]:
    """A trained model's config, validated, defaults filled, keys in the native order.

    Required: ``backbone``, ``labels``, ``head_hidden``, ``dropout``, ``image_size``. Optional
    (native defaults): ``attention`` ("none"), ``se_reduction`` (16), ``mha_heads`` (8),
    ``drop_path`` (null). Unknown keys are refused (the native reader would silently ignore
    them, which hides typos). Not ``strict`` (how :func:`read_model` reads): unknown keys and
    backbones are kept, as the native reader does."""
    where = "model config"
    if not isinstance(config, Mapping):
        raise ValueError(f"{where}: expected a JSON object / dict")
    unknown = sorted(set(config) - set(_MODEL_KEYS))
    if unknown and strict:
        raise ValueError(
            f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(_MODEL_KEYS)})"
        )
    missing = [k for k in ("backbone", "labels", "head_hidden", "dropout", "image_size")
               if k not in config]
    if missing:
        raise ValueError(f"{where}: missing required key(s) {', '.join(missing)}")
    out = _architecture(config, where, strict)
    labels = config["labels"]
    if isinstance(labels, tuple):
        labels = list(labels)
    if not _is_str_list(labels) or not labels:
        raise ValueError(f"{where}: `labels` must be a non-empty list of strings")
    if len(set(labels)) != len(labels):
        raise ValueError(f"{where}: `labels` must be unique, got {labels}")
    out["labels"] = list(labels)
    hidden, dropout, size = config["head_hidden"], config["dropout"], config["image_size"]
    if not _is_int(hidden) or hidden < 1:
        raise ValueError(f"{where}: `head_hidden` must be a positive integer, got {hidden!r}")
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1:
        raise ValueError(f"{where}: `dropout` must be a number in [0, 1], got {dropout!r}")
    if not _is_int(size) or size < 1:
        raise ValueError(f"{where}: `image_size` must be a positive integer, got {size!r}")
    out["head_hidden"], out["dropout"], out["image_size"] = hidden, float(dropout), size
    out.update({k: config[k] for k in unknown})
    return out


def _to_numpy(name: str, value: Any) -> np.ndarray:
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor, torch not imported
        dtype = str(getattr(value, "dtype", ""))
        if dtype in ("torch.bfloat16", "torch.float16", "torch.float64"):
            raise ValueError(
                f"tensor `{name}` is {dtype.replace('torch.', '')}; native models store float32 "
                "(call `.float()` on the model or tensor first)"
            )
        value = value.detach().cpu().contiguous().numpy()
    arr = np.asarray(value)
    return _contiguous(arr)


def _as_arrays(tensors: Mapping[str, Any]) -> Dict[str, np.ndarray]:
    if not isinstance(tensors, Mapping):
        raise ValueError("tensors must be a mapping of name → array (e.g. a state_dict())")
    out = {}
    for name, value in tensors.items():
        if not isinstance(name, str):
            raise ValueError(f"tensor names must be strings, got {name!r}")
        out[name] = _to_numpy(name, value)
    return out


def _expected_head_and_attention(config: Mapping[str, Any]) -> Dict[str, Tuple[int, ...]]:
    """Names and shapes of every non-backbone tensor a native model with `config` has."""
    c = FEATURE_CHANNELS[config["backbone"]]
    expected: Dict[str, Tuple[int, ...]] = {}
    if config["attention"] == "se":
        hidden = max(c // config["se_reduction"], 4)
        expected.update({
            "attention.fc1.weight": (hidden, c), "attention.fc1.bias": (hidden,),
            "attention.fc2.weight": (c, hidden), "attention.fc2.bias": (c,),
        })
    elif config["attention"] == "mha":
        expected.update({
            "attention.norm.weight": (c,), "attention.norm.bias": (c,),
            "attention.mha.in_proj_weight": (3 * c, c), "attention.mha.in_proj_bias": (3 * c,),
            "attention.mha.out_proj.weight": (c, c), "attention.mha.out_proj.bias": (c,),
        })
    if "labels" in config:
        h, n = config["head_hidden"], len(config["labels"])
        expected.update({
            "classifier.0.weight": (h, c), "classifier.0.bias": (h,),
            "classifier.3.weight": (n, h), "classifier.3.bias": (n,),
        })
    return expected


# Tensors of the source library's own classifier, which native backbones do not have
# (`source_head` in crates/stages/src/backbone.rs: torchvision `fc.`/`classifier.`, timm `head.`).
_FOREIGN_HEADS = ("backbone.fc.", "backbone.classifier.", "backbone.head.")


def check_model(
    config: Mapping[str, Any],
    tensors: Mapping[str, Any],
    *,
    like: Optional[Union[PathLike, Mapping[str, Any]]] = None,
    trained: bool = True,
) -> List[str]:
    """The problems that would make the native stages refuse ``tensors`` for ``config``
    (an empty list when there are none). ``config`` must be validated (see
    :func:`model_config`).

    Without torch the backbone's own tensors cannot be enumerated, so they are checked for
    dtype, prefix and the absence of a source-library classifier; the attention block's and
    the head's names and shapes are checked exactly (``models/attention.rs``,
    ``models/head.rs``). Pass ``like`` (a model folder, or a name → array mapping such as the
    tensors of the native model the script started from) to also require exactly its backbone
    names and shapes."""
    problems: List[str] = []
    arrays = {k: np.asarray(v) for k, v in tensors.items()}
    expected = _expected_head_and_attention(config)
    for name, arr in sorted(arrays.items()):
        prefix = name.split(".", 1)[0]
        if prefix not in ("backbone", "attention", "classifier") or "." not in name:
            problems.append(
                f"`{name}`: every name must start with `backbone.`, `attention.` or `classifier.`"
            )
            continue
        if name.endswith("." + _INT_SUFFIX):
            if arr.dtype != np.int64 or arr.size != 1:
                problems.append(f"`{name}`: expected an int64 scalar, got {arr.dtype} {arr.shape}")
        elif arr.dtype != np.float32:
            problems.append(
                f"`{name}`: dtype {arr.dtype}, expected float32 (call `.float()` first)"
            )
        if name.startswith(_FOREIGN_HEADS):
            problems.append(
                f"`{name}`: native backbones have no classifier of their own; drop the source "
                "library's head (e.g. `resnet.fc = nn.Identity()`, timm `num_classes=0`)"
            )
        elif prefix != "backbone" and name not in expected:
            problems.append(f"`{name}`: not a tensor of this model (unexpected)")
        elif name in expected and tuple(arr.shape) != expected[name]:
            problems.append(
                f"`{name}`: shape {tuple(arr.shape)}, expected {expected[name]}"
            )
    if trained:  # an initial model may carry any subset; `train` initialises the rest
        for name in sorted(set(expected) - set(arrays)):
            problems.append(f"`{name}`: missing (shape {expected[name]})")
    if trained and not any(n.startswith("backbone.") for n in arrays):
        problems.append("no `backbone.*` tensors")
    if like is not None:
        ref = read_model(like)[1] if not isinstance(like, Mapping) else like
        ref_bb = {k: np.asarray(v) for k, v in ref.items() if k.startswith("backbone.")}
        bb = {k: v for k, v in arrays.items() if k.startswith("backbone.")}
        for name in sorted(set(ref_bb) - set(bb)):
            problems.append(f"`{name}`: missing (the reference model has it)")
        for name in sorted(set(bb) - set(ref_bb)):
            problems.append(f"`{name}`: not in the reference model (unexpected)")
        for name in sorted(set(bb) & set(ref_bb)):
            if bb[name].shape != ref_bb[name].shape and not (
                bb[name].size == 1 and ref_bb[name].size == 1
            ):
                problems.append(
                    f"`{name}`: shape {bb[name].shape}, the reference model has "
                    f"{ref_bb[name].shape}"
                )
    return problems


def read_model(folder: PathLike) -> Tuple[Dict[str, Any], Dict[str, np.ndarray]]:
    """Reads any model artifact, as the native ``read_initial`` does:

    - a trained model (``model.json`` + ``model.safetensors``, from ``train``): its config
      (``labels``, ``head_hidden``, ``dropout``, ``image_size`` and the architecture) and every
      tensor;
    - otherwise an initial model (``architecture.json`` + optional ``weights.safetensors``, from
      ``backbone`` or ``attention``): the architecture with native defaults filled in, and the
      tensors it carries (``{}`` for a random initialisation).

    ``"labels" in config`` tells the two apart. Tensors are numpy arrays keyed by their
    PyTorch state-dict names (``backbone.*``, ``attention.*``, ``classifier.*``)."""
    folder = Path(folder)
    if (folder / MODEL_CONFIG).is_file():
        path = folder / MODEL_CONFIG
        raw = _read_json(path, "a model config")
        try:
            config = model_config(raw, strict=False)
        except ValueError as e:
            raise FormatError(f"{path} is not a model config: {e}") from e
        return config, _load_tensors(folder / MODEL_WEIGHTS)
    path = folder / ARCHITECTURE
    if not path.is_file():
        raise FormatError(
            f"{folder} holds no model: expected {MODEL_CONFIG} (a trained model) or "
            f"{ARCHITECTURE} (an initial model)"
        )
    raw = _read_json(path, "an architecture")
    try:
        arch = _architecture(raw, "architecture", strict=False)
    except ValueError as e:
        raise FormatError(f"{path} is not an architecture: {e}") from e
    weights = folder / INITIAL_WEIGHTS
    return arch, (_load_tensors(weights) if weights.is_file() else {})


def _load_tensors(path: Path) -> Dict[str, np.ndarray]:
    if not path.is_file():
        raise FormatError(f"cannot read weights {path}: no such file")
    try:
        tensors = load_file(str(path))
    except SafetensorError as e:
        raise FormatError(f"{path} is not a safetensors file: {e}") from e
    return dict(sorted(tensors.items()))


def write_model(
    folder: PathLike,
    config: Mapping[str, Any],
    tensors: Mapping[str, Any],
    *,
    like: Optional[Union[PathLike, Mapping[str, Any]]] = None,
) -> Dict[str, Any]:
    """Writes a trained model (``model.json`` + ``model.safetensors``) that the native
    ``evaluate``, ``export``, ``gradcam`` and ``train`` (``take: all`` / ``backbone``) accept.

    ``config``: see :func:`model_config` (``image_size`` is the side of the images the model was
    trained on, ``dataset.size``; ViT and Swin build their position tables from it).
    ``tensors``: name → numpy array or torch tensor, e.g. ``model.state_dict()`` of a module
    with submodules ``backbone``, ``attention`` (optional) and ``classifier`` (an
    ``nn.Sequential(Linear, ReLU, Dropout, Linear)``). Every float tensor must be float32;
    BatchNorm ``num_batches_tracked`` stays int64. ``like``: see :func:`check_model`.

    Raises ``ValueError`` listing every problem before anything is written; returns the config
    as written. Files are written atomically (temporary file, then rename)."""
    cfg = model_config(config)
    arrays = _as_arrays(tensors)
    problems = check_model(cfg, arrays, like=like, trained=True)
    _refuse_if(problems, "the model")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _save_safetensors(folder / MODEL_WEIGHTS, arrays)
    _write_bytes(folder / MODEL_CONFIG, _json_pretty(cfg))
    return cfg


def _refuse_if(problems: List[str], what: str) -> None:
    """Raises ``ValueError`` listing every problem, when there are any."""
    if problems:
        raise ValueError(
            f"{what} cannot be written ({len(problems)} problem(s)):\n  " + "\n  ".join(problems)
        )


def write_initial_model(
    folder: PathLike,
    architecture: Mapping[str, Any],
    tensors: Optional[Mapping[str, Any]] = None,
) -> Dict[str, Any]:
    """Writes an initial model (``architecture.json`` + ``weights.safetensors`` when there are
    tensors), what ``backbone`` and ``attention`` produce and ``train`` starts from. Tensors
    not given are initialised by ``train`` with its seed; ``train`` refuses unknown names and
    wrong shapes."""
    arch = _architecture(architecture, "architecture")
    unknown = sorted(set(architecture) - set(_ARCH_KEYS))
    if unknown:
        raise ValueError(f"architecture: unknown key(s) {', '.join(unknown)}")
    arrays = _as_arrays(tensors or {})
    problems = check_model(arch, arrays, trained=False)
    _refuse_if(problems, "the initial model")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if arrays:
        _save_safetensors(folder / INITIAL_WEIGHTS, arrays)
    _write_bytes(folder / ARCHITECTURE, _json_pretty(arch))
    return arch


def read_thresholds(folder: PathLike) -> Optional[Dict[str, Any]]:
    """A model's tuned thresholds ``{"labels", "thresholds", "tuned_on"}``, or None."""
    path = Path(folder) / THRESHOLDS
    if not path.is_file():
        return None
    record = _read_json(path, "a thresholds record")
    if not (
        isinstance(record, dict)
        and _is_str_list(record.get("labels"))
        and isinstance(record.get("thresholds"), list)
        and all(isinstance(t, (int, float)) and not isinstance(t, bool)
                for t in record["thresholds"])
        and isinstance(record.get("tuned_on"), str)
    ):
        raise FormatError(f"{path} is not a thresholds record")
    return record


def write_thresholds(
    folder: PathLike, labels: Iterable[str], thresholds: Iterable[float], tuned_on: str = "val"
) -> None:
    """Writes ``thresholds.json`` beside a model: per-label decision thresholds (stored as
    float32, like the native ones) that ``evaluate`` reports ``tuned_*`` scores at. They must
    cover the labels of every dataset the model is evaluated on (matched by name)."""
    labels, values = list(labels), [float(t) for t in thresholds]
    if not _is_str_list(labels) or len(labels) != len(values) or not labels:
        raise ValueError("write_thresholds: one threshold per label is needed")
    if not all(math.isfinite(t) and 0.0 <= t <= 1.0 for t in values):
        raise ValueError(f"write_thresholds: thresholds must be in [0, 1], got {values}")
    # The shortest decimal of each float32, as the native (serde, f32) writer prints it.
    values = [float(str(np.float32(t))) for t in values]
    record = {"labels": labels, "thresholds": values, "tuned_on": str(tuned_on)}
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _write_bytes(folder / THRESHOLDS, _json_pretty(record))


def write_predictions(
    folder: PathLike, ids: Iterable[str], labels: Iterable[str], probabilities: Any
) -> None:
    """Writes ``predictions.csv``: per image its id, then its probability of each label
    (N×L, in [0, 1]), as ``evaluate`` writes it, for a native ``score`` stage to score against
    the split's labels (every image of the split once, labels named as the dataset's)."""
    ids, labels = [str(i) for i in ids], list(labels)
    p = np.asarray(probabilities, dtype=np.float64)
    if not _is_str_list(labels) or not labels:
        raise ValueError("write_predictions: labels must be a non-empty list of names")
    if p.shape != (len(ids), len(labels)):
        raise ValueError(
            f"write_predictions: probabilities of shape {p.shape}, expected "
            f"({len(ids)}, {len(labels)}) (one row per id, one column per label)"
        )
    if not np.all(np.isfinite(p)) or p.min(initial=0.0) < 0.0 or p.max(initial=0.0) > 1.0:
        raise ValueError("write_predictions: probabilities must be finite and in [0, 1]")
    if len(set(ids)) != len(ids):
        raise ValueError("write_predictions: an id appears twice")
    lines = ["id," + ",".join(f"p_{label}" for label in labels)]
    lines += [i + "," + ",".join(f"{v:.6f}" for v in row) for i, row in zip(ids, p)]
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _write_bytes(folder / PREDICTIONS, ("\n".join(lines) + "\n").encode())


def read_loss(folder: PathLike) -> Dict[str, Any]:
    """The ``loss.json`` of a ``loss`` stage: ``function``, ``labels``, ``gamma``, ``alpha``,
    ``pos_weight`` (None: 1 for every label), ``positives``, ``samples``. The formula is in
    FORMATS.md."""
    path = Path(folder) / LOSS
    record = _read_json(path, "a loss configuration")
    for key in ("function", "labels", "gamma", "alpha", "pos_weight", "positives", "samples"):
        if not isinstance(record, dict) or key not in record:
            raise FormatError(f"{path} is not a loss configuration: missing `{key}`")
    return record


# --------------------------------------------------------------------------------------------
# Metrics of command stages: $ABLATE_OUT/metrics.jsonl

METRICS_FILE = "metrics.jsonl"
_U32_MAX = 2**32 - 1


def _metric_row(row: Mapping[str, Any]) -> Dict[str, Any]:
    if not isinstance(row, Mapping):
        raise ValueError(f"a metric row must be a dict, got {row!r}")
    unknown = sorted(set(row) - {"split", "metric", "value", "epoch", "class"})
    if unknown:
        raise ValueError(
            f"metric row: unknown key(s) {', '.join(unknown)} "
            "(known: split, metric, value, epoch, class)"
        )
    metric, value = row.get("metric"), row.get("value")
    if not isinstance(metric, str) or not metric:
        raise ValueError(f"metric row: `metric` must be a non-empty string, got {metric!r}")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise ValueError(f"metric `{metric}`: `value` must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"metric `{metric}`: `value` must be finite, got {value}")
    out: Dict[str, Any] = {}
    if row.get("split") is not None:
        if not isinstance(row["split"], str):
            raise ValueError(f"metric `{metric}`: `split` must be a string")
        out["split"] = row["split"]
    out["metric"], out["value"] = metric, value
    epoch = row.get("epoch")
    if epoch is not None:
        if isinstance(epoch, (bool, np.bool_)) or not isinstance(epoch, (int, np.integer)):
            raise ValueError(f"metric `{metric}`: `epoch` must be an integer, got {epoch!r}")
        if not 0 <= int(epoch) <= _U32_MAX:
            raise ValueError(f"metric `{metric}`: `epoch` must be in 0..=4294967295")
        out["epoch"] = int(epoch)
    if row.get("class") is not None:
        if not isinstance(row["class"], str):
            raise ValueError(f"metric `{metric}`: `class` must be a string")
        out["class"] = row["class"]
    return out


class Metrics:
    """Appends rows to ``<folder>/metrics.jsonl`` (default folder: ``$ABLATE_OUT``), one JSON
    object per line, flushed after each row so that rows written before a crash are kept::

        with Metrics() as m:
            m.add("loss", 0.42, split="train", epoch=1)
            m.add("f1", 0.9, split="val", epoch=1, class_="D")
    """

    def __init__(self, folder: Optional[PathLike] = None):
        self.path = Path(folder if folder is not None else out_dir()) / METRICS_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "a", encoding="utf-8", newline="\n")

    def add(
        self,
        metric: str,
        value: float,
        *,
        split: Optional[str] = None,
        epoch: Optional[int] = None,
        class_: Optional[str] = None,
    ) -> None:
        """One row; ``class_`` is stored as ``class`` (per-label metrics)."""
        self.add_row({"split": split, "metric": metric, "value": value, "epoch": epoch,
                      "class": class_})

    def add_row(self, row: Mapping[str, Any]) -> None:
        line = json.dumps(_metric_row(row), ensure_ascii=False, allow_nan=False)
        self._file.write(line + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "Metrics":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def write_metrics(folder: Optional[PathLike], rows: Iterable[Mapping[str, Any]]) -> Path:
    """Appends ``rows`` (dicts with ``metric``, ``value`` and optional ``split``, ``epoch``,
    ``class``) to ``<folder>/metrics.jsonl`` (``folder`` None: ``$ABLATE_OUT``). Every row is
    validated before any is written. Returns the file's path."""
    checked = [_metric_row(r) for r in rows]
    with Metrics(folder) as m:
        for row in checked:
            m.add_row(row)
    return m.path


# --------------------------------------------------------------------------------------------
# The command stage's environment


def _env(name: str, what: str) -> str:
    value = os.environ.get(name)
    if value is None or value == "":
        raise NotInAblateError(
            f"${name} is not set: {what} comes from ablate when this program runs as a "
            "`command` stage (to try it by hand, set the ABLATE_* variables yourself)"
        )
    return value


def out_dir() -> Path:
    """``$ABLATE_OUT``: the folder to write this stage's results into."""
    return Path(_env("ABLATE_OUT", "the output folder"))


def inputs() -> Dict[str, Path]:
    """Every ``$ABLATE_INPUT_<ROLE>``: role (lower-cased) → upstream output folder (read-only).
    Raises :class:`NotInAblateError` when neither ``ABLATE_OUT`` nor any input is set."""
    found = {
        key[len("ABLATE_INPUT_"):].lower(): Path(value)
        for key, value in sorted(os.environ.items())
        if key.startswith("ABLATE_INPUT_") and len(key) > len("ABLATE_INPUT_") and value
    }
    if not found:
        _env("ABLATE_OUT", "the stage's environment")  # a clear error outside ablate
    return found


def input(role: str) -> Path:  # noqa: A001 - mirrors the YAML's `inputs:`
    """``$ABLATE_INPUT_<ROLE>``: the output folder of the upstream stage bound to ``role``."""
    name = "ABLATE_INPUT_" + role.upper()
    if os.environ.get(name):
        return Path(os.environ[name])
    available = inputs()
    raise NotInAblateError(
        f"${name} is not set: the stage has no input `{role}` "
        f"(it has: {', '.join(available) or 'none'})"
    )


def vars() -> Dict[str, Any]:  # noqa: A001 - the pipeline's `vars`
    """The free-form variables of the stage (the JSON file ``$ABLATE_VARS``)."""
    path = Path(_env("ABLATE_VARS", "the stage's variables"))
    value = _read_json(path, "a JSON file of variables")
    if not isinstance(value, dict):
        raise FormatError(f"{path}: expected a JSON object of variables")
    return value


def device() -> str:
    """``$ABLATE_DEVICE``: ``cpu`` or ``cuda:N``, usable as ``torch.device(device())``."""
    return _env("ABLATE_DEVICE", "the device")


def stage() -> str:
    """``$ABLATE_STAGE``: the stage's name in the pipeline."""
    return _env("ABLATE_STAGE", "the stage name")


# --------------------------------------------------------------------------------------------
# Writing files


def _json_pretty(value: Any) -> bytes:
    """serde_json::to_vec_pretty's layout: 2-space indent, `": "`, no trailing newline."""
    return json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False).encode("utf-8")


def _json_compact(value: Any) -> bytes:
    """serde_json::to_vec's layout: no spaces at all."""
    return json.dumps(
        value, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def _contiguous(value: Any) -> np.ndarray:
    """C-contiguous, keeping 0-d arrays 0-d (np.ascontiguousarray would make them 1-d)."""
    arr = np.asarray(value)
    return arr if arr.flags.c_contiguous else arr.copy(order="C")


def _write_bytes(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name + ".")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _save_safetensors(path: Path, tensors: Mapping[str, np.ndarray]) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name + ".")
    os.close(fd)
    try:
        save_file({k: _contiguous(v) for k, v in tensors.items()}, tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
