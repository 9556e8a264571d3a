#!/usr/bin/env python3
"""ImageNet reference for the EfficientNet-Lite ports: timm tf_efficientnet_lite{0,1,2} with the
imported ImageNet weights on scikit-image's sample photographs, at each model's native resolution.

    python3 scripts/parity/lite_top5.py [--variant lite0|lite1|lite2] --weights FILE --out DIR

Writes DIR/<variant>-imagenet.safetensors with __input__ (N x 3 x S x S, S = 224 / 240 / 260 for
lite0 / lite1 / lite2: RGB resized to S x S, bilinear with antialias, scaled to [0, 1], normalised
with mean = std = 0.5) and __logits__ (timm eval logits, N x 1000), metadata {"images":
"name,name,...", "variant", "size"}, and prints timm's top-5 per image. Also prints,
for information only, the top-1 under timm's own evaluation transform of the pretrained config
(resize to S / crop_pct, bicubic, centre crop). Without scikit-image it prints why and exits 0
without writing anything.
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st_io  # noqa: E402

# (name, loader) of natural RGB photographs shipped inside scikit-image (no download)
IMAGES = [
    ("chelsea", lambda d: d.chelsea()),        # tabby cat
    ("coffee", lambda d: d.coffee()),          # cup of espresso
    ("astronaut", lambda d: d.astronaut()),    # Eileen Collins portrait
    ("rocket", lambda d: d.rocket()),          # rocket on the launch pad
    ("motorcycle", lambda d: d.stereo_motorcycle()[0]),  # left view of the stereo pair
]
# native input side of timm's pretrained configs (tf_efficientnet_liteN.in1k input_size)
SIZES = {"lite0": 224, "lite1": 240, "lite2": 260}
MEAN = STD = 0.5


def preprocess(img, size):
    """H x W x 3 uint8 -> 3 x S x S float32, bilinear antialiased resize, [0,1], (x-0.5)/0.5."""
    x = torch.from_numpy(np.ascontiguousarray(img[:, :, :3])).permute(2, 0, 1).float().div(255.0)
    x = F.interpolate(x[None], size=(size, size), mode="bilinear", align_corners=False, antialias=True)[0]
    x = x.clamp(0.0, 1.0)
    return (x - MEAN) / STD


def class_names():
    try:
        from timm.data import ImageNetInfo
        info = ImageNetInfo()
        return lambda i: info.index_to_description(i)
    except Exception:
        return None


def timm_eval_top1(model, images, desc):
    """Top-1 per image under timm's evaluation transform of the model's pretrained config."""
    try:
        from PIL import Image
        from timm.data import create_transform, resolve_data_config
    except ImportError as e:
        print(f"  (timm eval transform skipped: {e})")
        return
    cfg = resolve_data_config({}, model=model)
    tf = create_transform(**cfg)
    x = torch.stack([tf(Image.fromarray(np.ascontiguousarray(img[:, :, :3]))) for _, img in images])
    with torch.no_grad():
        p = model(x).softmax(-1)
    print(f"  timm eval transform (input {cfg['input_size']}, crop_pct {cfg['crop_pct']}, "
          f"{cfg['interpolation']}): top-1 " + "; ".join(
              f"{name} {int(i)}" + (f" {desc(int(i))}" if desc else "") + f" ({float(q):.3f})"
              for (name, _), q, i in zip(images, *p.max(-1))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--variant", choices=sorted(SIZES), default="lite0")
    ap.add_argument("--weights", help="default for lite0: ../shared/weights/tf_efficientnet_lite0.in1k.safetensors")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    arch = f"tf_efficientnet_{args.variant}"
    size = SIZES[args.variant]
    weights = args.weights or (f"/work/shared/weights/{arch}.in1k.safetensors" if args.variant == "lite0"
                               else f".deps/weights/{arch}.in1k.safetensors")

    try:
        import skimage.data as skd
    except ImportError as e:
        print(f"{args.variant} top-5 check skipped: scikit-image is not installed ({e}); "
              "run scripts/parity/install-python-deps.sh")
        return 0
    import timm

    model = timm.create_model(arch, pretrained=False, num_classes=1000)
    tensors, _ = st_io.load_file(weights)
    state = {k: torch.from_numpy(v.copy()) for k, v in tensors.items()}
    res = model.load_state_dict(state, strict=True)
    print(f"loaded {weights} into timm {timm.__version__} {arch} with strict=True: "
          f"{len(state)} tensors, missing={list(res.missing_keys)}, unexpected={list(res.unexpected_keys)}")
    model.eval()

    names, xs, images = [], [], []
    for name, load in IMAGES:
        try:
            img = load(skd)
        except Exception as e:  # e.g. an image that would need a download
            print(f"  image {name} unavailable ({e}); left out")
            continue
        if img.ndim != 3 or img.shape[2] < 3:
            print(f"  image {name} is not RGB {img.shape}; left out")
            continue
        names.append(name)
        images.append((name, img))
        xs.append(preprocess(img, size))
    x = torch.stack(xs)
    with torch.no_grad():
        logits = model(x)

    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"{args.variant}-imagenet.safetensors")
    meta = {"images": ",".join(names), "variant": args.variant, "size": str(size)}
    st_io.save_file({"__input__": x, "__logits__": logits}, path, meta)
    print(f"wrote {path}: __input__ {list(x.shape)}, __logits__ {list(logits.shape)}")

    desc = class_names()
    probs = logits.softmax(-1)
    for i, name in enumerate(names):
        p, idx = probs[i].topk(5)
        parts = [f"{int(j)}" + (f" {desc(int(j))}" if desc else "") + f" ({float(q):.3f})" for q, j in zip(p, idx)]
        print(f"  {name}: top-5 " + "; ".join(parts))
    timm_eval_top1(model, images, desc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
