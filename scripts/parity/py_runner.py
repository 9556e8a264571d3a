#!/usr/bin/env python3
"""Self-test stand-in for the Rust runner: recomputes every case with PyTorch from the case file
alone (model rebuilt from the config metadata, state loaded strictly) and writes OURS_DIR/<case>.safetensors
with __logits__, __loss__ and __grad__.<name>, the format the Rust runner writes.

    python3 scripts/parity/py_runner.py [--device cpu|cuda] CASE_DIR OURS_DIR
    python3 scripts/parity/py_runner.py [--device cpu|cuda] --lite-imagenet WEIGHTS IN_FILE OUT_FILE

(the variant, lite0/lite1/lite2, is IN_FILE's "variant" metadata as lite_top5.py writes it)

(the command line of target/release/examples/parity, so parity.sh can run with
PARITY_RUNNER=scripts/parity/py_runner.py)

compare.py CASE_DIR OURS_DIR must then pass (on CPU the numbers are reproduced to ~1e-7); on CUDA
it shows how far the GPU kernels (cuDNN TF32 convolutions by default) drift from the CPU reference.
"""
import argparse
import glob
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_cases as mc  # noqa: E402
import st_io  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--tf32", action="store_true", help="allow TF32 (cuDNN and matmul); off by default")
    ap.add_argument("--lite-imagenet", metavar="WEIGHTS", dest="lite_imagenet",
                    help="lite mode: IN_FILE has __input__ (and the variant in its metadata), "
                         "OUT_FILE gets timm's __logits__")
    ap.add_argument("case_dir", help="CASE_DIR, or IN_FILE in lite0 mode")
    ap.add_argument("ours_dir", help="OURS_DIR, or OUT_FILE in lite0 mode")
    args = ap.parse_args()
    dev = torch.device(args.device)
    if dev.type == "cuda":
        torch.backends.cudnn.allow_tf32 = args.tf32
        torch.backends.cuda.matmul.allow_tf32 = args.tf32
    torch.set_num_threads(os.cpu_count() or 1)
    if args.lite_imagenet:
        return lite(args, dev)
    os.makedirs(args.ours_dir, exist_ok=True)
    for path in sorted(glob.glob(os.path.join(args.case_dir, "*.safetensors"))):
        tensors, meta = st_io.load_file(path)
        cfg = json.loads(meta["config"])
        torch.manual_seed(123)  # the state comes from the file, not from the seed
        model = mc.Reference(cfg["backbone"], cfg["attention"], cfg["image_size"]).float()
        mc.zero_dropouts(model)
        state = {k: torch.from_numpy(v.copy()) for k, v in tensors.items() if not k.startswith("__")}
        model.load_state_dict(state, strict=True)
        model.to(dev)
        x = torch.from_numpy(tensors["__input__"].copy()).to(dev)
        target = torch.from_numpy(tensors["__target__"].copy()).to(dev)
        model.eval()
        with torch.no_grad():
            logits = model(x)
        model.train()
        loss = mc.bce_loss(model(x), target)
        loss.backward()
        out = {"__logits__": logits.cpu(), "__loss__": loss.detach().cpu().reshape(())}
        for n, p in model.named_parameters():
            if p.grad is not None:
                out[f"__grad__.{n}"] = p.grad.cpu()
        st_io.save_file(out, os.path.join(args.ours_dir, os.path.basename(path)))
        print(f"{os.path.basename(path)}: {len(out)} tensors", flush=True)


def lite(args, dev):
    import timm
    tensors, meta = st_io.load_file(args.case_dir)
    variant = meta.get("variant", "lite0")
    if variant not in ("lite0", "lite1", "lite2"):
        raise SystemExit(f"{args.case_dir}: unknown variant {variant!r}")
    model = timm.create_model(f"tf_efficientnet_{variant}", pretrained=False, num_classes=1000)
    weights, _ = st_io.load_file(args.lite_imagenet)
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in weights.items()}, strict=True)
    model.to(dev).eval()
    with torch.no_grad():
        logits = model(torch.from_numpy(tensors["__input__"].copy()).to(dev))
    os.makedirs(os.path.dirname(os.path.abspath(args.ours_dir)), exist_ok=True)
    st_io.save_file({"__logits__": logits.cpu()}, args.ours_dir)
    print(f"{args.ours_dir}: {variant} __logits__ {list(logits.shape)}")


if __name__ == "__main__":
    main()
