#!/usr/bin/env python3
"""PyTorch inference on an ablate dataset with an ablate model: what the `evaluate` stage's time
is measured against (docs/benchmarks.md, CPU).

    python3 scripts/bench/infer_torch.py --model OUT/model.safetensors --dataset LOAD_OUT \
        --split onsite_test [--batch-size 128] [--device cpu]

Builds the model ablate's model.json beside the weights describes (scripts/reference), loads the
weights and the split (the `load` stage's output, bit for bit what ablate evaluates), then times
one pass of eval-mode inference in batches, in this process: the time of the pass alone, and of
everything after `import torch` (weights and data included). Prints one JSON line.
"""
import sys

sys.dont_write_bytecode = True

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
import reference_model as rm  # noqa: E402
import train_torch as tt  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="an ablate model.safetensors (model.json beside it)")
    ap.add_argument("--dataset", required=True, help="a `load` stage's output folder")
    ap.add_argument("--split", default="onsite_test")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    started = time.time()
    device = torch.device(args.device)
    sidecar, _, _ = tt.read_sidecar(args.model)
    split = tt.load_ablate_split(args.dataset, args.split, 0)
    model, _ = rm.build_model(sidecar["backbone"], sidecar.get("attention", "none"), split["size"],
                              len(split["labels_names"]), sidecar.get("head_hidden", 512),
                              sidecar.get("dropout", 0.5), sidecar.get("drop_path"))
    tensors, _ = tt.initial_tensors(args.model, sidecar["backbone"], "all")
    tt.load_initial(model, tensors)
    model.to(device)
    data = tt.DeviceSplit(split, device)
    ready = time.time()
    with torch.no_grad():
        probabilities = tt.probabilities(model, data, args.batch_size)
    done = time.time()
    print(json.dumps({"images": int(data.len), "size": split["size"], "arch": sidecar["backbone"],
                      "inference_seconds": done - ready, "after_import_seconds": done - started,
                      "mean_probability": float(probabilities.mean())}))


if __name__ == "__main__":
    main()
