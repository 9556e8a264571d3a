"""How sharp two tasks' GradCAM maps are, and a picture of them without the photographs.

    gradcam_maps.py --task 3.2 DIR [DIR ...] --task 4c-mha DIR [DIR ...] --out maps.png --json maps.json

Each DIR is a `gradcam` stage's output (`ablate out P 'gradcam[...]'`): maps.safetensors holds
`maps` [images, labels, h, w] on the same validation images for every task. Sharpness is the
normalised entropy of each predicted label's map taken as a distribution over its cells (1:
flat, 0: one cell), the quantity Task 4c's regulariser lowers; printed per task as mean ± std over seeds. The PNG
draws the first DIR's maps of each task side by side (rows: images, one column per task and
label), jet colours, no fundus pixels: the images' licence keeps them out of the repository.
"""
import argparse
import json
import math

import numpy as np
from PIL import Image
from safetensors.numpy import load_file

CELL = 12  # pixels per map cell in the picture
LABELS = ["D", "G", "A"]


def entropy(maps):
    """Normalised entropy of each map: [images, labels]; an all-zero map counts as flat."""
    flat = np.clip(maps.reshape(maps.shape[0], maps.shape[1], -1), 0, None).astype(np.float64)
    flat[flat.sum(-1) == 0] = 1.0
    p = flat / flat.sum(-1, keepdims=True)
    h = -(p * np.log(np.where(p > 0, p, 1))).sum(-1)
    return h / math.log(flat.shape[-1])


def jet(v):
    """Matplotlib's jet colour map of v in [0, 1] as RGB bytes."""
    r = np.clip(1.5 - np.abs(4 * v - 3), 0, 1)
    g = np.clip(1.5 - np.abs(4 * v - 2), 0, 1)
    b = np.clip(1.5 - np.abs(4 * v - 1), 0, 1)
    return (np.stack([r, g, b], -1) * 255).astype(np.uint8)


def picture(first):
    """Rows: images; columns: for each task (its first seed's maps) its D, G, A maps, a gap
    between tasks."""
    n, labels, h, w = first[0].shape
    gap = CELL
    width = len(first) * (labels * (w * CELL + 2) + gap)
    canvas = np.full((n * (h * CELL + 2), width, 3), 255, np.uint8)
    for t, maps in enumerate(first):
        for i in range(n):
            for c in range(labels):
                m = maps[i, c]
                m = m / m.max() if m.max() > 0 else m
                tile = jet(np.kron(m, np.ones((CELL, CELL))))
                y = i * (h * CELL + 2)
                x = t * (labels * (w * CELL + 2) + gap) + c * (w * CELL + 2)
                canvas[y : y + h * CELL, x : x + w * CELL] = tile
    return Image.fromarray(canvas)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--task", nargs="+", action="append", required=True, metavar="TASK DIR")
    ap.add_argument("--out", required=True)
    ap.add_argument("--json", required=True)
    args = ap.parse_args()
    tasks = [(t[0], t[1:]) for t in args.task]
    summary, first = {}, []
    for task, dirs in tasks:
        per_seed = []
        for d in dirs:
            stored = load_file(f"{d}/maps.safetensors")
            if d == dirs[0]:
                first.append(stored["maps"])
            # The maps of the labels the model predicts: what the regulariser sharpens.
            per_seed.append(float(entropy(stored["maps"])[stored["selected"] > 0].mean()))
        summary[task] = {"entropy_per_seed": per_seed, "mean": float(np.mean(per_seed)),
                         "std": float(np.std(per_seed, ddof=1)) if len(per_seed) > 1 else 0.0}
        print(f"{task}: normalised map entropy {summary[task]['mean']:.4f} ± {summary[task]['std']:.4f}"
              f" over {len(dirs)} seeds ({', '.join(f'{e:.4f}' for e in per_seed)})")
    picture(first).save(args.out)
    with open(args.json, "w") as f:
        json.dump(summary, f, indent=1)


if __name__ == "__main__":
    main()
