#!/usr/bin/env python3
"""PyTorch companion of `ablate bench`: the same training step, timed the same way, eager or
compiled (`--compile reduce-overhead` uses CUDA graphs, `max-autotune` tunes kernels too: what a
user who picks PyTorch for speed would run).

Per model x batch size x mode: random uint8 images resident on the device (4 batches' worth),
a random batch index per step, flips and rotation on the device (scripts/reference/train_torch.py,
the mirror of src/nn/augment.rs), ImageNet normalisation with statistics kept on the device,
optional channels-last, forward under autocast, BCE with logits, backward, fused Adam; cuDNN
benchmarking on. The model is the classifier ablate builds (scripts/reference/reference_model.py:
torchvision/timm backbone, head Linear-ReLU-Dropout-Linear, the same stochastic depth).
`warmup` steps, then `repeats` timings of `steps` steps each ended by a synchronisation; the
median images/s is reported.

    python3 scripts/bench/bench_torch.py --json torch.json [--compile MODE] [--compare ablate.json]

`--compare` prints a markdown table beside `ablate bench --json` measurements with the ratio.
With `--compile`, the model is `torch.compile(model, mode=MODE)`d (MODE: default,
reduce-overhead, max-autotune; none: eager), and compilation happens in the warm-up steps.
"""
import sys

sys.dont_write_bytecode = True

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
import reference_model as rm  # noqa: E402
import train_torch as tt  # noqa: E402

PRECISIONS = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}
POOL_BATCHES = 4


def parse_mode(text):
    name, channels_last = (text[:-3], True) if text.endswith("-cl") else (text, False)
    if name not in PRECISIONS:
        raise SystemExit(f"--modes: `{text}` is not fp32, bf16 or fp16, optionally with -cl")
    return PRECISIONS[name], channels_last


def time_steps(args, arch, batch, mode, device):
    half, channels_last = parse_mode(mode)
    torch.manual_seed(0)
    model, _ = rm.build_model(arch, "none", args.size, 3)
    model.to(device).train()
    if channels_last:
        model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4, betas=(0.9, 0.999), eps=1e-8, fused=True)
    if args.compile != "none":
        model = torch.compile(model, mode=None if args.compile == "default" else args.compile)
    scaler = torch.amp.GradScaler(device.type, enabled=half is torch.float16)
    pool = batch * POOL_BATCHES
    images = torch.randint(0, 256, (pool, 3, args.size, args.size), dtype=torch.uint8, device=device)
    targets = torch.randint(0, 2, (pool, 3), device=device).float()
    mean = torch.tensor(tt.MEAN, device=device).view(1, 3, 1, 1)
    std = torch.tensor(tt.STD, device=device).view(1, 3, 1, 1)

    def step():
        index = torch.randint(0, pool, (batch,), device=device)
        x = (tt.augment(tt.to_unit(images.index_select(0, index))) - mean) / std
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        y = targets.index_select(0, index)
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=half or torch.float32, enabled=half is not None):
            logits = model(x)
        loss = F.binary_cross_entropy_with_logits(logits.float(), y)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    for _ in range(args.warmup):
        step()
    sync()
    timings = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        for _ in range(args.steps):
            step()
        sync()
        timings.append(batch * args.steps / (time.perf_counter() - started))
    return timings


def compare(ours, theirs, compiled):
    """One row per ablate measurement; a `-graph` mode is compared with PyTorch's same precision
    and memory format (eager, or compiled as `compiled` says)."""
    index = {(m["model"], m["batch_size"], m["mode"]): m["images_per_second"] for m in ours}
    how = "eager" if compiled == "none" else f"compile {compiled}"
    print(f"| model | batch | ablate mode | ablate img/s | PyTorch {how} img/s | ablate / PyTorch |")
    print("| --- | ---: | --- | ---: | ---: | ---: |")
    for m in theirs:
        eager = m["mode"].removesuffix("-graph")
        torch_ips = index.get((m["model"], m["batch_size"], eager))
        if torch_ips is None:
            continue
        print(f"| {m['model']} | {m['batch_size']} | {m['mode']} | {m['images_per_second']:.0f} | {torch_ips:.0f} "
              f"| {m['images_per_second'] / torch_ips:.2f} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="resnet18,efficientnet_b0,vit_small_patch16_224")
    ap.add_argument("--batch-sizes", default="32,128")
    ap.add_argument("--modes", default="fp32,bf16-cl")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--warmup", type=int, default=15)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--json", help="write the measurements here")
    ap.add_argument("--compare", metavar="ABLATE_JSON", help="print a table beside `ablate bench --json` output")
    ap.add_argument("--compile", default="none", choices=["none", "default", "reduce-overhead", "max-autotune"],
                    help="torch.compile the model with this mode (none: eager)")
    args = ap.parse_args()
    device = torch.device(args.device)
    torch.backends.cudnn.benchmark = True
    measurements = []
    print(f"{'model':<28} {'batch':>5} {'mode':<8} {'img/s':>9} {'ms/step':>9}", flush=True)
    for arch in args.models.split(","):
        for batch in map(int, args.batch_sizes.split(",")):
            for mode in args.modes.split(","):
                timings = time_steps(args, arch, batch, mode, device)
                ips = statistics.median(timings)
                measurements.append({"model": arch, "batch_size": batch, "mode": mode, "compile": args.compile,
                                     "size": args.size,
                                     "device": str(device), "images_per_second": ips,
                                     "ms_per_step": 1000.0 * batch / ips, "timings": timings})
                print(f"{arch:<28} {batch:>5} {mode:<8} {ips:>9.0f} {1000.0 * batch / ips:>9.2f}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"torch": torch.__version__, "measurements": measurements}, f, indent=1)
    if args.compare:
        with open(args.compare) as f:
            compare(measurements, json.load(f), args.compile)


if __name__ == "__main__":
    main()
