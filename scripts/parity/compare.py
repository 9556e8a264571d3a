#!/usr/bin/env python3
"""Compares the Rust side's outputs with the PyTorch reference cases.

    python3 scripts/parity/compare.py CASE_DIR OURS_DIR [--json FILE]
        [--logits-tol 1e-4] [--loss-tol 1e-4] [--grad-tol 1e-3] [--case NAME ...]

For every CASE_DIR/<case>.safetensors reads OURS_DIR/<case>.safetensors (tensors __logits__,
__loss__ and __grad__.<name>) and prints, per case, the relative errors
||ours - ref||_2 / max(||ref||_2, 1e-12) of the logits and the loss, the worst gradient (and its
name; a gradient's denominator is at least 1e-4 of the norm of all reference gradients), the number of gradient tensors compared and the missing / extra gradient names.
A case passes when logits <= --logits-tol, loss <= --loss-tol, every gradient <= --grad-tol, and no
gradient is missing or extra. Exit status 1 when a case fails or an output file is missing.
Needs numpy only (safetensors optional).
"""
import argparse
import glob
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st_io  # noqa: E402

GRAD = "__grad__."


def rel_err(ours, ref, floor=1e-12):
    """Relative L2 error in float64, ||ours - ref|| / max(||ref||, floor); inf when shapes differ
    or values are not finite."""
    o = np.asarray(ours, dtype=np.float64)
    r = np.asarray(ref, dtype=np.float64)
    if o.size != r.size or (o.shape != r.shape and o.size != 1):
        return math.inf
    o = o.reshape(-1)
    r = r.reshape(-1)
    if not np.all(np.isfinite(o)):
        return math.inf
    return float(np.linalg.norm(o - r) / max(float(np.linalg.norm(r)), floor))


def compare_case(case, ref_path, ours_path, tol):
    row = {"case": case, "status": "ok", "problems": []}
    if not os.path.exists(ours_path):
        row.update(status="MISSING", problems=[f"no output file {ours_path}"])
        return row
    try:
        ref, _ = st_io.load_file(ref_path)
        ours, _ = st_io.load_file(ours_path)
    except Exception as e:  # unreadable file
        row.update(status="FAIL", problems=[f"cannot read: {e}"])
        return row

    for key, name in (("__logits__", "logits"), ("__loss__", "loss")):
        if key not in ours:
            row[f"{name}_rel"] = None
            row["problems"].append(f"{key} missing")
            continue
        if ours[key].shape != ref[key].shape:
            row["problems"].append(f"{key} shape {list(ours[key].shape)} vs reference {list(ref[key].shape)}"
                                   + (" (accepted, one element)" if ours[key].size == ref[key].size == 1 else ""))
        e = rel_err(ours[key], ref[key])
        row[f"{name}_rel"] = e
        if not e <= tol[name]:
            row["problems"].append(f"{name} rel. error {e:.3g} > {tol[name]:g}")

    ref_g = sorted(k[len(GRAD):] for k in ref if k.startswith(GRAD))
    ours_g = {k[len(GRAD):] for k in ours if k.startswith(GRAD)}
    missing = [n for n in ref_g if n not in ours_g]
    extra = sorted(n for n in ours_g if n not in set(ref_g))
    grads = {}
    # Gradients that are zero in exact arithmetic (a BatchNorm bias followed, without a
    # residual, by another BatchNorm in training mode) are rounding noise on both sides; they
    # are measured against a floor of 1e-4 of the norm of all reference gradients.
    total = math.sqrt(sum(float(np.sum(np.asarray(ref[GRAD + n], dtype=np.float64) ** 2)) for n in ref_g))
    floor = max(1e-4 * total, 1e-12)
    for n in ref_g:
        if n in ours_g:
            grads[n] = rel_err(ours[GRAD + n], ref[GRAD + n], floor)
            if ours[GRAD + n].shape != ref[GRAD + n].shape and ours[GRAD + n].size != 1:
                row["problems"].append(f"grad {n} shape {list(ours[GRAD + n].shape)} "
                                       f"vs reference {list(ref[GRAD + n].shape)}")
    worst = max(grads.items(), key=lambda kv: kv[1]) if grads else (None, None)
    bad = sorted(((e, n) for n, e in grads.items() if not e <= tol["grad"]), reverse=True)
    row.update(grad_worst_rel=worst[1], grad_worst_name=worst[0], n_grads=len(grads),
               n_grads_ref=len(ref_g), missing=missing, extra=extra, grads=grads)
    if bad:
        row["problems"].append(f"{len(bad)} gradients > {tol['grad']:g}: "
                               + ", ".join(f"{n} {e:.3g}" for e, n in bad[:5]) + (" ..." if len(bad) > 5 else ""))
    if missing:
        row["problems"].append(f"{len(missing)} gradients missing: {', '.join(missing[:5])}"
                               + (" ..." if len(missing) > 5 else ""))
    if extra:
        row["problems"].append(f"{len(extra)} extra gradients: {', '.join(extra[:5])}"
                               + (" ..." if len(extra) > 5 else ""))
    hard = [p for p in row["problems"] if "(accepted" not in p]
    if hard:
        row["status"] = "FAIL"
    return row


def _finite(x):
    """inf -> "inf" so that the JSON stays standard."""
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_finite(v) for v in x]
    return x


def fmt(e):
    if e is None:
        return "-"
    if math.isinf(e):
        return "inf"
    return f"{e:.2e}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("case_dir")
    ap.add_argument("ours_dir")
    ap.add_argument("--json", help="write the numbers to this file")
    ap.add_argument("--logits-tol", type=float, default=1e-4)
    ap.add_argument("--loss-tol", type=float, default=1e-4)
    ap.add_argument("--grad-tol", type=float, default=1e-3)
    ap.add_argument("--case", nargs="+", help="only these cases")
    args = ap.parse_args()
    tol = {"logits": args.logits_tol, "loss": args.loss_tol, "grad": args.grad_tol}

    paths = sorted(glob.glob(os.path.join(args.case_dir, "*.safetensors")))
    if args.case:
        paths = [p for p in paths if os.path.basename(p)[:-len(".safetensors")] in args.case]
    if not paths:
        print(f"no cases in {args.case_dir}", file=sys.stderr)
        return 1

    rows = []
    for p in paths:
        case = os.path.basename(p)[:-len(".safetensors")]
        rows.append(compare_case(case, p, os.path.join(args.ours_dir, os.path.basename(p)), tol))

    w = max(len(r["case"]) for r in rows)
    head = (f"{'case':<{w}}  {'logits':>9}  {'loss':>9}  {'worst grad':>10}  {'grads':>7}  "
            f"{'miss':>4}  {'extra':>5}  status  worst gradient tensor")
    print(f"tolerances: logits {tol['logits']:g}, loss {tol['loss']:g}, gradients {tol['grad']:g} "
          f"(relative L2 error)")
    print(head)
    print("-" * len(head))
    for r in rows:
        if r["status"] == "MISSING":
            print(f"{r['case']:<{w}}  {'-':>9}  {'-':>9}  {'-':>10}  {'-':>7}  {'-':>4}  {'-':>5}  MISSING")
            continue
        n = f"{r.get('n_grads', 0)}/{r.get('n_grads_ref', 0)}"
        print(f"{r['case']:<{w}}  {fmt(r.get('logits_rel')):>9}  {fmt(r.get('loss_rel')):>9}  "
              f"{fmt(r.get('grad_worst_rel')):>10}  {n:>7}  {len(r.get('missing', [])):>4}  "
              f"{len(r.get('extra', [])):>5}  {r['status']:<6}  {r.get('grad_worst_name') or ''}")
    for r in rows:
        for p in r["problems"]:
            print(f"  {r['case']}: {p}")
    failed = [r["case"] for r in rows if r["status"] != "ok"]
    print(f"{len(rows) - len(failed)} passed, {len(failed)} failed")

    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(_finite({"tolerances": tol, "passed": not failed, "cases": rows}), f, indent=1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
