#!/usr/bin/env python3
"""ImageNet reference for the EfficientNet-Lite0 port: timm tf_efficientnet_lite0 with the
imported ImageNet weights on scikit-image's sample photographs.

    python3 scripts/parity/lite0_top5.py --weights /work/shared/weights/tf_efficientnet_lite0.in1k.safetensors --out DIR

Writes DIR/lite0-imagenet.safetensors with __input__ (N x 3 x 224 x 224: RGB resized to 224 x 224,
bilinear with antialias, scaled to [0, 1], normalised with mean = std = 0.5) and __logits__ (timm
eval logits, N x 1000), metadata {"images": "name,name,..."}, and prints timm's top-5 per image.
Without scikit-image it prints why and exits 0 without writing anything.
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
SIZE = 224
MEAN = STD = 0.5


def preprocess(img):
    """H x W x 3 uint8 -> 3 x 224 x 224 float32, bilinear antialiased resize, [0,1], (x-0.5)/0.5."""
    x = torch.from_numpy(np.ascontiguousarray(img[:, :, :3])).permute(2, 0, 1).float().div(255.0)
    x = F.interpolate(x[None], size=(SIZE, SIZE), mode="bilinear", align_corners=False, antialias=True)[0]
    x = x.clamp(0.0, 1.0)
    return (x - MEAN) / STD


def class_names():
    try:
        from timm.data import ImageNetInfo
        info = ImageNetInfo()
        return lambda i: info.index_to_description(i)
    except Exception:
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--weights", default="/work/shared/weights/tf_efficientnet_lite0.in1k.safetensors")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    try:
        import skimage.data as skd
    except ImportError as e:
        print(f"lite0 top-5 check skipped: scikit-image is not installed ({e}); "
              "run scripts/parity/install-python-deps.sh")
        return 0
    import timm

    model = timm.create_model("tf_efficientnet_lite0", pretrained=False, num_classes=1000)
    tensors, meta = st_io.load_file(args.weights)
    state = {k: torch.from_numpy(v.copy()) for k, v in tensors.items()}
    res = model.load_state_dict(state, strict=True)
    print(f"loaded {args.weights} into timm {timm.__version__} tf_efficientnet_lite0 with strict=True: "
          f"{len(state)} tensors, missing={list(res.missing_keys)}, unexpected={list(res.unexpected_keys)}")
    model.eval()

    names, xs = [], []
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
        xs.append(preprocess(img))
    x = torch.stack(xs)
    with torch.no_grad():
        logits = model(x)

    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "lite0-imagenet.safetensors")
    st_io.save_file({"__input__": x, "__logits__": logits}, path, {"images": ",".join(names)})
    print(f"wrote {path}: __input__ {list(x.shape)}, __logits__ {list(logits.shape)}")

    desc = class_names()
    probs = logits.softmax(-1)
    for i, name in enumerate(names):
        p, idx = probs[i].topk(5)
        parts = [f"{int(j)}" + (f" {desc(int(j))}" if desc else "") + f" ({float(q):.3f})" for q, j in zip(p, idx)]
        print(f"  {name}: top-5 " + "; ".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
