"""Thin import wrapper around the parity check's PyTorch models (scripts/parity/make_cases.py,
the module scripts/parity/py_runner.py builds its models with), for training.

`make_cases.Reference` is the exact classifier ablate builds (torchvision/timm backbone under
`backbone.`, optional SE/MHA under `attention.`, head `classifier.0`/`classifier.3`), but made
for a numeric parity check: dropout 0, stochastic depth 0, head 512 → 3. `build_model` adds,
without copying make_cases' code, what training needs:

- head dropout (`classifier.2.p`, ablate's `dropout`, default 0.5);
- another head width or label count (ablate's `head_hidden`, the dataset's labels): the head is
  rebuilt with the same layout;
- stochastic depth at ablate's defaults (`Architecture::drop_path_rate`: efficientnet_b0 0.2,
  Swin 0.1, others 0) or a given rate: torchvision's `StochasticDepth` modules exist at p = 0
  and are set afterwards (p = rate · block / blocks, torchvision's schedule); timm replaces a
  zero-rate DropPath with `nn.Identity`, so for timm models `timm.create_model` is wrapped
  during construction to pass `drop_path_rate`.

The refactor that would make this wrapper unnecessary: give `make_cases.build_backbone` and
`make_cases.Reference` parameters `drop_path=0.0`, `dropout=0.0`, `head_hidden=HEAD_HIDDEN`,
`n_labels=len(LABELS)` (the parity check keeps its defaults).
"""
import contextlib
import os
import sys

import torch.nn as nn

_PARITY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "parity")
sys.path.insert(0, os.path.abspath(_PARITY))
import make_cases as mc  # noqa: E402
import st_io  # noqa: E402,F401  (re-exported for callers)

ARCHS = mc.ARCHS
ATTENTIONS = mc.ATTENTIONS
HEAD_HIDDEN = mc.HEAD_HIDDEN
TORCHVISION_ARCHS = ("resnet18", "efficientnet_b0")


def default_drop_path(arch):
    """ablate's `Architecture::drop_path_rate` when no rate is configured."""
    if arch == "efficientnet_b0":
        return 0.2
    if arch.startswith("swin_"):
        return 0.1
    return 0.0


def source_head_prefix(arch):
    """The classifier a backbone's source library puts on top of it (ablate's `backbone` stage)."""
    if arch == "resnet18":
        return "fc."
    if arch in ("efficientnet_b0", "efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"):
        return "classifier."
    return "head."


@contextlib.contextmanager
def _timm_drop_path(rate):
    if rate == 0.0:
        yield
        return
    import timm
    original = timm.create_model

    def create(name, *args, **kwargs):
        kwargs["drop_path_rate"] = rate
        return original(name, *args, **kwargs)

    timm.create_model = create
    try:
        yield
    finally:
        timm.create_model = original


def _set_stochastic_depth(backbone, rate):
    mods = [m for m in backbone.modules() if type(m).__name__ == "StochasticDepth"]
    for i, m in enumerate(mods):
        m.p = rate * i / len(mods)


def build_model(arch, attention="none", size=256, n_labels=3, head_hidden=HEAD_HIDDEN, dropout=0.5, drop_path=None):
    """The classifier ablate's `train` builds, randomly initialised from torch's global RNG."""
    if arch not in ARCHS:
        raise SystemExit(f"unknown arch {arch} (known: {', '.join(ARCHS)})")
    if attention not in ATTENTIONS:
        raise SystemExit(f"unknown attention {attention} (known: {', '.join(ATTENTIONS)})")
    rate = default_drop_path(arch) if drop_path is None else float(drop_path)
    with _timm_drop_path(0.0 if arch in TORCHVISION_ARCHS else rate):
        model = mc.Reference(arch, attention, size)
    if arch == "efficientnet_b0":
        _set_stochastic_depth(model.backbone, rate)
    elif arch == "resnet18" and rate != 0.0:
        raise SystemExit("resnet18 has no stochastic depth; use --drop-path 0")
    if head_hidden != mc.HEAD_HIDDEN or n_labels != len(mc.LABELS):
        features = model.classifier[0].in_features
        model.classifier = nn.Sequential(
            nn.Linear(features, head_hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(head_hidden, n_labels))
    model.classifier[2].p = float(dropout)
    return model.float(), rate
