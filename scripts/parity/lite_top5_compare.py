#!/usr/bin/env python3
"""Checks the Rust side's ImageNet logits of EfficientNet-Lite0/1/2 against timm's.

    python3 scripts/parity/lite_top5_compare.py DIR OURS [--variant lite0|lite1|lite2]
        [--logits-tol 1e-4] [--json FILE]

Reads DIR/<variant>-imagenet.safetensors (timm reference from lite_top5.py: __logits__, metadata
"images") and OURS/<variant>-imagenet.safetensors (__logits__ from the Rust side). Passes when every image has the
same top-5 class indices in the same order and the logits' relative L2 error is <= --logits-tol;
exit status 1 otherwise (or when a file is missing). Needs numpy only.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st_io  # noqa: E402
from compare import rel_err  # noqa: E402

VARIANTS = ("lite0", "lite1", "lite2")


def top5(row):
    # stable sort on -logit: ties keep the lower index first
    return [int(i) for i in np.argsort(-row.astype(np.float64), kind="stable")[:5]]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("ref_dir")
    ap.add_argument("ours_dir")
    ap.add_argument("--variant", choices=VARIANTS, default="lite0")
    ap.add_argument("--logits-tol", type=float, default=1e-4)
    ap.add_argument("--json")
    args = ap.parse_args()

    file = f"{args.variant}-imagenet.safetensors"
    ref_path = os.path.join(args.ref_dir, file)
    ours_path = os.path.join(args.ours_dir, file)
    for p in (ref_path, ours_path):
        if not os.path.exists(p):
            print(f"MISSING {p}")
            return 1
    ref, meta = st_io.load_file(ref_path)
    ours, _ = st_io.load_file(ours_path)
    names = [n for n in meta.get("images", "").split(",") if n]
    r = ref["__logits__"]
    if "__logits__" not in ours:
        print(f"{ours_path} has no __logits__")
        return 1
    o = ours["__logits__"]
    if o.shape != r.shape:
        print(f"__logits__ shape {list(o.shape)} vs reference {list(r.shape)}")
        return 1
    if len(names) != r.shape[0]:
        names = [f"image{i}" for i in range(r.shape[0])]

    ok = True
    rows = []
    try:
        from timm.data import ImageNetInfo
        desc = ImageNetInfo().index_to_description
    except Exception:
        desc = None
    for i, name in enumerate(names):
        tr, to = top5(r[i]), top5(o[i])
        e = rel_err(o[i], r[i])
        same = tr == to
        ok &= same
        rows.append({"image": name, "ref_top5": tr, "ours_top5": to, "same": same, "logits_rel": e})
        label = f" ({desc(tr[0])})" if desc else ""
        print(f"{name:<12} ref {tr}{label}  ours {to}  {'same' if same else 'DIFFERENT'}  logits rel. error {e:.2e}")
    total = rel_err(o, r)
    ok &= total <= args.logits_tol
    print(f"{args.variant} all logits: rel. error {total:.2e} (tolerance {args.logits_tol:g}); "
          f"top-5 identical for {sum(x['same'] for x in rows)}/{len(rows)} images -> {'PASS' if ok else 'FAIL'}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"variant": args.variant, "passed": bool(ok), "logits_rel": total, "images": rows}, f, indent=1)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
