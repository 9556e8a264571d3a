#!/usr/bin/env python3
"""PyTorch companion of ablate's `train` stage: the same model, data, augmentation, optimiser and
best-epoch rule, over several seeds, so that ablate's validation / offsite macro-F1 can be checked
against PyTorch's seed-to-seed spread.

    python3 scripts/reference/train_torch.py --data ../shared/data/fundus-small --arch resnet18 \\
        --init INIT.safetensors --take all|backbone --freeze none|backbone --lr 2e-5 --epochs 25 \\
        --batch-size 32 [--patience 3] --seeds 0 1 2 --size 256 --device cuda --loss bce|focal|cb \\
        [--gamma 1 --alpha 0.5 --beta 0.999] --weight-decay 0 --out results.json
    python3 scripts/reference/train_torch.py --self-test

What mirrors which Rust file:
- data (src/stages/load.rs, src/data/odir.rs): `<root>/<split><suffix>.csv` (`id,<labels>`),
  `<root>/images/<split>/<id>` decoded to RGB and resized to size×size with PIL's antialiased
  BILINEAR filter unless already that size; kept resident on the device as uint8 N×3×S×S;
- model (src/models/*): scripts/parity/make_cases.py's `Reference` via reference_model.py;
- initial weights (src/stages/train.rs `initialise`, src/stages/backbone.rs): `--take backbone`
  keeps `backbone.*`, `--take all` everything; unknown names or wrong shapes are errors, what
  the file lacks stays as drawn from the seed. A file without any `backbone.*` name is a bare
  torchvision/timm backbone: its `fc.`/`classifier.`/`head.` tensors are dropped and the rest
  is prefixed with `backbone.`;
- freezing (train.rs `freeze`, src/models/layers.rs BatchNorm): frozen parameters get
  requires_grad False, and a BatchNorm whose weight is frozen runs in eval mode (running
  statistics fixed) while the rest of the model trains;
- training (train.rs): torch.manual_seed(seed), model built (backbone, attention, head drawn in
  that order), weights loaded, Adam(0.9, 0.999, eps 1e-8) over the trainable parameters; each
  epoch a randperm of the train split on the device, batches (last one partial), per batch on
  [0,1] images: horizontal flip p=.5, vertical flip p=.5, rotation uniform in ±15° (nearest,
  zero fill, affine_grid/grid_sample align_corners=False; src/nn/augment.rs), then ImageNet
  normalisation (src/nn/tensors.rs); epoch loss = Σ batch loss · batch size / N;
- validation (src/nn/predict.rs, src/scoring.rs): eval mode, no grad, batches of the training batch size,
  σ(logit) > 0.5 strictly, per-label F1 with zero_division=0, macro = mean; the best epoch is the
  first one strictly better than all before (starting from −1); its weights (BatchNorm buffers
  included) are reloaded and evaluated on the test split in batches of 128 (src/stages/evaluate.rs).
"""
import sys

sys.dont_write_bytecode = True  # keep scripts/parity free of __pycache__

import argparse  # noqa: E402
import concurrent.futures  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_model as rm  # noqa: E402

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


# ----------------------------------------------------------------------------------------------
# data


def read_table(csv_path, limit):
    """(label names, ids, labels N×L uint8) of one split's CSV, checked as src/data/odir.rs does."""
    with open(csv_path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        raise SystemExit(f"{csv_path}: empty file, expected a header `id,<labels>`")
    header = [c.strip() for c in rows[0]]
    if header[0] != "id" or len(header) < 2:
        raise SystemExit(f"{csv_path}:1: header must be `id,<label>,…`, found `{','.join(header)}`")
    ids, labels, seen = [], [], set()
    for line, row in enumerate(rows[1:], start=2):
        if limit and len(ids) == limit:
            break
        if len(row) != len(header):
            raise SystemExit(f"{csv_path}:{line}: expected {len(header)} fields, found {len(row)}")
        rid = row[0].strip()
        if not rid or rid.startswith(".") or any(c in rid for c in "/\\\0"):
            raise SystemExit(f"{csv_path}:{line}: id `{rid}` is not a plain file name")
        if rid in seen:
            raise SystemExit(f"{csv_path}:{line}: duplicate id `{rid}`")
        seen.add(rid)
        values = [v.strip() for v in row[1:]]
        if any(v not in ("0", "1") for v in values):
            raise SystemExit(f"{csv_path}:{line}: labels must be 0 or 1, found {values}")
        ids.append(rid)
        labels.append([int(v) for v in values])
    return header[1:], ids, np.asarray(labels, dtype=np.uint8).reshape(len(ids), len(header) - 1)


def decode(path, size):
    """One image → uint8 3×size×size RGB (PIL BILINEAR with antialiasing, as ablate's Triangle)."""
    from PIL import Image
    with Image.open(path) as im:
        im = im.convert("RGB")
        if im.size != (size, size):
            im = im.resize((size, size), Image.BILINEAR)
        return np.asarray(im, dtype=np.uint8).transpose(2, 0, 1).copy()


def load_split(root, split, size, limit, suffix="", workers=8):
    names, ids, labels = read_table(os.path.join(root, f"{split}{suffix}.csv"), limit)
    paths = [os.path.join(root, "images", split, i) for i in ids]
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        images = list(pool.map(lambda p: decode(p, size), paths))
    images = np.stack(images) if images else np.zeros((0, 3, size, size), np.uint8)
    return {"name": split, "labels_names": names, "ids": ids, "images": images, "labels": labels}


def load_ablate_split(folder, split, limit):
    """A split of an ablate dataset artifact (a `load` stage's output folder: dataset.json +
    dataset.safetensors, src/data/dataset.rs), bit for bit what ablate trains on."""
    from safetensors.numpy import load_file
    with open(os.path.join(folder, "dataset.json")) as f:
        index = json.load(f)
    ids = dict((name, ids) for name, ids in index["splits"])
    if split not in ids:
        raise SystemExit(f"{folder}: no split `{split}` (it has: {', '.join(ids)})")
    tensors = load_file(os.path.join(folder, "dataset.safetensors"))
    n = len(ids[split]) if not limit else min(limit, len(ids[split]))
    return {"name": split, "labels_names": index["label_names"], "ids": ids[split][:n], "size": index["size"],
            "images": tensors[f"images.{split}"][:n].copy(), "labels": tensors[f"labels.{split}"][:n].copy()}


class DeviceSplit:
    """A split resident on the device: uint8 images, float labels."""

    def __init__(self, split, device):
        self.name = split["name"]
        self.images = torch.from_numpy(split["images"]).to(device)
        self.labels = torch.from_numpy(split["labels"]).float().to(device)
        self.labels_np = split["labels"]
        self.len = self.images.shape[0]


def to_unit(images_u8):
    return images_u8.float() / 255.0


def normalize(x):
    mean = torch.tensor(MEAN, dtype=torch.float32, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(STD, dtype=torch.float32, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


# ----------------------------------------------------------------------------------------------
# augmentation (src/nn/augment.rs)


def random_flip(x, dim):
    flip = torch.rand(x.shape[0], 1, 1, 1, device=x.device) < 0.5
    return torch.where(flip, x.flip(dim), x)


def rotate(x, angles):
    """Rotation by `angles` (radians, one per image): nearest sampling, zero fill."""
    b = x.shape[0]
    cos, sin, zeros = angles.cos(), angles.sin(), torch.zeros_like(angles)
    theta = torch.stack([cos, -sin, zeros, sin, cos, zeros], 1).view(b, 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="nearest", padding_mode="zeros", align_corners=False)


def augment(x, flips=True, degrees=15.0):
    if flips:
        x = random_flip(x, 3)
        x = random_flip(x, 2)
    if degrees > 0:
        angles = (torch.rand(x.shape[0], device=x.device) * 2.0 - 1.0) * math.radians(degrees)
        x = rotate(x, angles)
    return x


# ----------------------------------------------------------------------------------------------
# losses


def class_balanced_weights(counts, beta):
    """w_c = (1 − β) / (1 − β^n_c), n_c clipped ≥ 1, normalised to sum to the label count."""
    n = np.maximum(np.asarray(counts, dtype=np.float64), 1.0)
    w = (1.0 - beta) / (1.0 - np.power(beta, n))
    return w / w.sum() * len(w)


def make_loss(kind, gamma=1.0, alpha=0.5, cb_weights=None):
    if kind == "bce":
        return lambda logits, y: F.binary_cross_entropy_with_logits(logits, y, reduction="mean")
    if kind == "focal":
        def focal(logits, y):
            bce = F.binary_cross_entropy_with_logits(logits, y, reduction="none")
            p = torch.sigmoid(logits)
            pt = p * y + (1 - p) * (1 - y)
            alpha_t = alpha * y + (1 - alpha) * (1 - y)
            return (alpha_t * (1 - pt) ** gamma * bce).mean()
        return focal
    if kind == "cb":
        w_np = np.asarray(cb_weights, dtype=np.float32)
        cache = {}

        def cb(logits, y):
            w = cache.get(logits.device)
            if w is None:
                w = cache[logits.device] = torch.from_numpy(w_np).to(logits.device)
            bce = F.binary_cross_entropy_with_logits(logits, y, reduction="none")
            return ((y * w + (1 - y)) * bce).mean()
        return cb
    raise SystemExit(f"unknown loss {kind}")


# ----------------------------------------------------------------------------------------------
# scores (src/scoring.rs)


def scores(probabilities, labels, threshold=0.5):
    """Per-label precision, recall, F1 (zero_division=0), support; prediction is p > threshold."""
    pred = probabilities > threshold
    truth = labels == 1
    tp = (pred & truth).sum(0).astype(np.float64)
    fp = (pred & ~truth).sum(0).astype(np.float64)
    fn = (~pred & truth).sum(0).astype(np.float64)
    precision = np.divide(tp, tp + fp, out=np.zeros_like(tp), where=(tp + fp) > 0)
    recall = np.divide(tp, tp + fn, out=np.zeros_like(tp), where=(tp + fn) > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    return {"precision": precision.tolist(), "recall": recall.tolist(), "f1": f1.tolist(),
            "support": (tp + fn).astype(int).tolist()}


def macro_f1(s):
    return float(np.mean(s["f1"])) if s["f1"] else 0.0


@torch.no_grad()
def probabilities(model, split, batch_size):
    model.eval()
    chunks = []
    for start in range(0, split.len, batch_size):
        x = normalize(to_unit(split.images[start:start + batch_size]))
        chunks.append(torch.sigmoid(model(x)).float().cpu())
    if not chunks:
        return np.zeros((0, split.labels.shape[1]), np.float32)
    return torch.cat(chunks).numpy()


# ----------------------------------------------------------------------------------------------
# model: initial weights, freezing


def read_sidecar(init_path):
    """ablate's config beside a weights file: model.json (trained) or architecture.json (initial)."""
    folder = os.path.dirname(os.path.abspath(init_path))
    for name, trained in (("model.json", True), ("architecture.json", False)):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            with open(path) as f:
                return json.load(f), trained, path
    return None, False, None


def initial_tensors(path, arch, take):
    """{name: tensor} to load, per `take`; bare backbone files are renamed as ablate's `backbone` stage."""
    from safetensors.torch import load_file
    tensors = load_file(path)
    notes = []
    if not any(k.startswith("backbone.") for k in tensors):
        heads = ("fc.", "classifier.", "head.")
        dropped = [k for k in tensors if k.startswith(heads)]
        tensors = {f"backbone.{k}": v for k, v in tensors.items() if not k.startswith(heads)}
        notes.append(f"bare backbone file: prefixed `backbone.`, {len(dropped)} source-classifier tensors dropped")
    if take == "backbone":
        n = len(tensors)
        tensors = {k: v for k, v in tensors.items() if k.startswith("backbone.")}
        if n != len(tensors):
            notes.append(f"take backbone: {n - len(tensors)} non-backbone tensors ignored")
    return tensors, notes


def load_initial(model, tensors):
    """Copies `tensors` into the model by name; unknown or mis-shaped names are errors (train.rs)."""
    state = model.state_dict()
    unexpected = [k for k in tensors if k not in state]
    mismatched = []
    loaded = 0
    with torch.no_grad():
        for k, v in tensors.items():
            if k not in state:
                continue
            target = state[k]
            if tuple(v.shape) != tuple(target.shape):
                if v.numel() == 1 and target.numel() == 1:
                    v = v.reshape(target.shape)  # num_batches_tracked stored as [1] or []
                else:
                    mismatched.append(f"{k}: file {list(v.shape)} vs model {list(target.shape)}")
                    continue
            target.copy_(v.to(target.dtype))
            loaded += 1
    if unexpected or mismatched:
        raise SystemExit("initial weights do not fit the model: "
                         f"{len(unexpected)} unexpected {unexpected[:8]}, {len(mismatched)} mismatched {mismatched[:8]}")
    missing_backbone = [k for k in state if k.startswith("backbone.") and k not in tensors]
    missing_other = [k for k in state if not k.startswith("backbone.") and k not in tensors]
    if tensors and missing_backbone:
        raise SystemExit(f"the initial weights lack {len(missing_backbone)} backbone tensors "
                         f"({missing_backbone[:8]}): wrong --arch?")
    return loaded, missing_other


def freeze(model, spec):
    spec = spec.strip()
    if spec in ("none", ""):
        return []
    prefixes = ["backbone."] if spec == "backbone" else [s.strip() for s in spec.split(",") if s.strip()]
    names = list(model.state_dict().keys())
    frozen = []
    for prefix in prefixes:
        if not any(n.startswith(prefix) for n in names):
            raise SystemExit(f"--freeze: no parameter name starts with `{prefix}`")
        for n, p in model.named_parameters():
            if n.startswith(prefix) and p.requires_grad:
                p.requires_grad_(False)
                frozen.append(n)
    return frozen


def train_mode(model):
    """model.train(), except BatchNorm layers whose weight is frozen (src/models/layers.rs)."""
    model.train()
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.weight is not None and not m.weight.requires_grad:
            m.eval()


# ----------------------------------------------------------------------------------------------
# one seed


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def run_seed(seed, args, data, device, labels, cb_weights, arch_info):
    t0 = time.time()
    torch.manual_seed(seed)
    model, drop_path = rm.build_model(args.arch, arch_info["attention"], args.size, len(labels),
                                      args.head_hidden, args.dropout, arch_info["drop_path"])
    init_notes = []
    if args.init:
        path = args.init.format(seed=seed)
        tensors, init_notes = initial_tensors(path, args.arch, args.take)
        loaded, missing = load_initial(model, tensors)
        init_notes.append(f"{loaded} tensors from {path}" + (f", {len(missing)} drawn from the seed" if missing else ""))
    else:
        init_notes.append("random initialisation")
    frozen = freeze(model, args.freeze)
    model.to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    opt_kw = dict(lr=args.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=args.weight_decay)
    if args.fused:
        opt_kw["fused"] = True
    opt_cls = torch.optim.AdamW if args.optimizer == "adamw" else torch.optim.Adam
    optimizer = opt_cls(params, **opt_kw)
    loss_fn = make_loss(args.loss, args.gamma, args.alpha, cb_weights)
    train, val = data["train"], data["val"]
    bs = args.batch_size
    batches = (train.len + bs - 1) // bs
    degrees = args.rotation
    if seed == args.seeds[0]:
        print(f"  model: {args.arch} attention={arch_info['attention']} drop_path={drop_path} "
              f"dropout={args.dropout}; {'; '.join(init_notes)}; {len(frozen)} tensors frozen; "
              f"{sum(p.numel() for p in params)} trainable parameters", flush=True)

    history = []
    best = None
    if args.epochs == 0:  # evaluation of the initial model only (e.g. an ablate model.safetensors)
        s = scores(probabilities(model, val, bs), val.labels_np)
        best = {"epoch": 0, "macro_f1": macro_f1(s), "state": model.state_dict()}
        history.append({"epoch": 0, "val_macro_f1": best["macro_f1"], "val_f1": s["f1"]})
    for epoch in range(1, args.epochs + 1):
        te = time.time()
        train_mode(model)
        order = torch.randperm(train.len, device=device)
        loss_sum = torch.zeros((), device=device)
        for b in range(batches):
            index = order[b * bs:(b + 1) * bs]
            x = normalize(augment(to_unit(train.images.index_select(0, index)), args.flips, degrees))
            y = train.labels.index_select(0, index)
            loss = loss_fn(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_sum += loss.detach() * index.numel()
        train_loss = float(loss_sum) / train.len
        if not math.isfinite(train_loss):
            raise SystemExit(f"seed {seed}: training loss is {train_loss} at epoch {epoch}; lower the learning rate")
        sync(device)
        seconds = time.time() - te
        probs = probabilities(model, val, bs)
        s = scores(probs, val.labels_np)
        f1 = macro_f1(s)
        improved = best is None or f1 > best["macro_f1"]
        history.append({"epoch": epoch, "train_loss": train_loss, "val_macro_f1": f1, "val_f1": s["f1"],
                        "train_seconds": seconds, "images_per_second": train.len / seconds})
        if args.verbose:
            print(f"    seed {seed} epoch {epoch}/{args.epochs}: loss {train_loss:.4f}  val macro-F1 {f1:.4f}"
                  f"{' *' if improved else ''}  {train.len / seconds:.0f} img/s", flush=True)
        if improved:
            best = {"epoch": epoch, "macro_f1": f1,
                    "state": {k: v.detach().clone() for k, v in model.state_dict().items()}}
        # ablate's early stopping (crates/torch/src/stages/train.rs): stop after `patience`
        # epochs without a strictly better validation macro-F1.
        if args.patience and epoch - best["epoch"] >= args.patience:
            break
    model.load_state_dict(best["state"])
    result = {"seed": seed, "best_epoch": best["epoch"], "best_val_macro_f1": best["macro_f1"],
              "epochs": history, "init": init_notes, "frozen_tensors": len(frozen)}
    test = data.get("test")
    if test is not None:
        probs = probabilities(model, test, 128)
        s = scores(probs, test.labels_np)
        result["test_split"] = test.name
        result["test_macro_f1"] = macro_f1(s)
        result["test_scores"] = s
    if args.save_dir:
        save_model(os.path.join(args.save_dir, f"seed{seed}"), model, args, labels, arch_info, drop_path)
    sync(device)
    result["seconds"] = time.time() - t0
    return result


def save_model(folder, model, args, labels, arch_info, drop_path):
    """model.safetensors + model.json in ablate's trained-model layout (src/nn/checkpoint.rs)."""
    from safetensors.torch import save_file
    os.makedirs(folder, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(state, os.path.join(folder, "model.safetensors"))
    config = {"backbone": args.arch, "attention": arch_info["attention"], "se_reduction": 16, "mha_heads": 8,
              "drop_path": drop_path, "labels": labels, "head_hidden": args.head_hidden,
              "dropout": args.dropout, "image_size": args.size}
    with open(os.path.join(folder, "model.json"), "w") as f:
        json.dump(config, f, indent=2)


# ----------------------------------------------------------------------------------------------
# self-test


def self_test():
    # class-balanced weights of the study (reference-spec.md §4.2)
    w = class_balanced_weights([517, 163, 142], 0.999)
    assert np.allclose(w, [0.4456, 1.1958, 1.3586], atol=1e-4), w
    assert np.allclose(class_balanced_weights([5, 5, 5], 0.999), 1.0)
    assert np.allclose(class_balanced_weights([0, 1, 1], 0.9), 1.0)  # n clipped to ≥ 1

    # scores: src/scoring.rs tests
    probs = np.array([0.9, 0.1, 0.8, 0.2, 0.7, 0.0, 0.2, 0.3], np.float32).reshape(4, 2)
    labels = np.array([1, 0, 1, 0, 0, 0, 1, 0], np.uint8).reshape(4, 2)
    s = scores(probs, labels)
    assert abs(s["precision"][0] - 2 / 3) < 1e-12 and abs(s["recall"][0] - 2 / 3) < 1e-12
    assert abs(s["f1"][0] - 2 / 3) < 1e-12 and s["support"][0] == 3 and s["f1"][1] == 0.0
    assert abs(macro_f1(s) - 1 / 3) < 1e-12
    assert scores(np.array([[0.5]], np.float32), np.array([[1]], np.uint8))["recall"][0] == 0.0

    # losses
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(6, 3, generator=g) * 2
    y = torch.randint(0, 2, (6, 3), generator=g).float()
    bce = F.binary_cross_entropy_with_logits(logits, y, reduction="none")
    assert torch.allclose(make_loss("bce")(logits, y), bce.mean())
    assert torch.allclose(make_loss("focal", gamma=0.0, alpha=0.5)(logits, y), 0.5 * bce.mean())
    p = torch.sigmoid(logits)
    pt = torch.where(y == 1, p, 1 - p)
    at = torch.where(y == 1, torch.tensor(0.25), torch.tensor(0.75))
    assert torch.allclose(make_loss("focal", gamma=2.0, alpha=0.25)(logits, y), (at * (1 - pt) ** 2 * bce).mean())
    assert torch.allclose(make_loss("cb", cb_weights=[1, 1, 1])(logits, y), bce.mean())
    wcb = torch.tensor([0.5, 1.0, 2.0])
    pos_weighted = F.binary_cross_entropy_with_logits(logits, y, reduction="none") * torch.where(y == 1, wcb, torch.ones(3))
    assert torch.allclose(make_loss("cb", cb_weights=wcb.tolist())(logits, y), pos_weighted.mean())

    # augmentation: zero rotation is the identity, rotation blackens corners, flips keep pixels
    x = torch.rand(4, 3, 16, 16, generator=g)
    assert torch.equal(rotate(x, torch.zeros(4)), x)
    ones = torch.ones(4, 3, 16, 16)
    assert rotate(ones, torch.full((4,), math.radians(45))).sum() < ones.sum()
    assert torch.equal(rotate(x[:1], torch.tensor([math.pi / 2])), x[:1].rot90(1, (2, 3)))  # +angle: counter-clockwise
    torch.manual_seed(1)
    xa = torch.arange(2 * 3 * 4 * 4, dtype=torch.float32).view(2, 3, 4, 4)
    assert augment(xa, True, 0.0).sum() == xa.sum()

    # initial weights: a bare resnet18 backbone file with its fc is renamed; frozen BN keeps its stats
    import tempfile
    import torchvision
    from safetensors.torch import save_file
    with tempfile.TemporaryDirectory() as tmp:
        tv = torchvision.models.resnet18(weights=None)
        path = os.path.join(tmp, "bare.safetensors")
        save_file({k: v.contiguous() for k, v in tv.state_dict().items()}, path)
        tensors, notes = initial_tensors(path, "resnet18", "all")
        assert all(k.startswith("backbone.") for k in tensors) and "backbone.fc.weight" not in tensors, notes
        torch.manual_seed(0)
        model, _ = rm.build_model("resnet18", "none", 32, 3, 512, 0.5)
        loaded, missing = load_initial(model, tensors)
        assert loaded == len(tensors) and missing == ["classifier.0.weight", "classifier.0.bias",
                                                      "classifier.3.weight", "classifier.3.bias"], missing
        assert torch.equal(model.state_dict()["backbone.layer1.0.bn1.running_var"], tv.state_dict()["layer1.0.bn1.running_var"])
        frozen = freeze(model, "backbone")
        before = {k: v.clone() for k, v in model.state_dict().items()}
        opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-2)
        train_mode(model)
        assert model.classifier[2].training and not model.backbone.bn1.training
        loss = make_loss("bce")(model(torch.randn(4, 3, 32, 32)), torch.ones(4, 3))
        loss.backward()
        opt.step()
        after = model.state_dict()
        assert frozen and all(torch.equal(before[k], after[k]) for k in after if k.startswith("backbone.")), "backbone changed"
        assert not torch.equal(before["classifier.3.weight"], after["classifier.3.weight"]), "head did not train"
    # head dropout and label count
    model, _ = rm.build_model("resnet18", "se", 32, 8, 256, 0.3)
    assert model.classifier[2].p == 0.3 and model.classifier[3].out_features == 8 and model.classifier[0].out_features == 256
    print("self-test passed")


# ----------------------------------------------------------------------------------------------


def summary_stats(values):
    v = np.asarray(values, dtype=np.float64)
    mean = float(v.mean()) if len(v) else float("nan")
    std = float(v.std(ddof=1)) if len(v) > 1 else float("nan")
    return mean, std


def json_safe(o):
    if isinstance(o, float) and not math.isfinite(o):
        return None
    if isinstance(o, dict):
        return {k: json_safe(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [json_safe(v) for v in o]
    return o


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--self-test", action="store_true", help="run the built-in checks and exit")
    ap.add_argument("--data", help="dataset folder with <split>.csv and images/<split>/")
    ap.add_argument("--ablate-dataset", metavar="DIR",
                    help="read ablate's dataset artifact (a `load` stage's out/ folder) instead of decoding --data")
    ap.add_argument("--csv-suffix", default="", help="CSV name suffix, e.g. _odir8")
    ap.add_argument("--train-split", default="train")
    ap.add_argument("--val-split", default="val")
    ap.add_argument("--test-split", default="offsite_test", help="split evaluated with the best epoch ('' : none)")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--limit", type=int, default=0, help="first N rows per split (0: all)")
    ap.add_argument("--arch", default="resnet18", choices=rm.ARCHS)
    ap.add_argument("--attention", default=None, choices=rm.ATTENTIONS,
                    help="attention block (default: from model.json/architecture.json beside --init, else none)")
    ap.add_argument("--drop-path", type=float, default=None,
                    help="stochastic depth (default: from the sidecar config, else ablate's library default)")
    ap.add_argument("--head-hidden", type=int, default=512)
    ap.add_argument("--dropout", type=float, default=0.5)
    ap.add_argument("--init", help="safetensors weights; `{seed}` in the path is replaced by the seed")
    ap.add_argument("--take", default="all", choices=["all", "backbone"])
    ap.add_argument("--freeze", default="none", help="none, backbone, or comma-separated name prefixes")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--epochs", type=int, default=25, help="0: only evaluate the initial weights")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--patience", type=int, default=0,
                    help="stop after this many epochs without a better validation macro-F1 (0: never)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--loss", default="bce", choices=["bce", "focal", "cb"])
    ap.add_argument("--gamma", type=float, default=1.0, help="focal γ")
    ap.add_argument("--alpha", type=float, default=0.5, help="focal α")
    ap.add_argument("--beta", type=float, default=0.999, help="class-balanced β")
    ap.add_argument("--optimizer", default="adam", choices=["adam", "adamw"],
                    help="adam: L2 weight decay added to the gradient (torch.optim.Adam); adamw: decoupled")
    ap.add_argument("--weight-decay", type=float, default=0.0)
    ap.add_argument("--fused", action="store_true", help="fused Adam kernel (CUDA)")
    ap.add_argument("--no-flips", dest="flips", action="store_false")
    ap.add_argument("--rotation", type=float, default=15.0, help="rotation range in degrees (0: off)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--deterministic", action="store_true", help="deterministic algorithms, no cuDNN autotuning")
    ap.add_argument("--tf32", choices=["default", "on", "off"], default="default",
                    help="default = libtorch's defaults (cuDNN conv TF32 on, matmul TF32 off), as ablate runs")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    ap.add_argument("--save-dir", help="write <dir>/seed<N>/model.safetensors + model.json of each best epoch")
    ap.add_argument("--verbose", action="store_true", help="a line per epoch")
    ap.add_argument("--out", help="results JSON")
    args = ap.parse_args()

    if args.self_test:
        self_test()
        return
    if not args.data and not args.ablate_dataset:
        ap.error("--data or --ablate-dataset is required")
    if args.deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    if args.tf32 != "default":
        torch.backends.cudnn.allow_tf32 = args.tf32 == "on"
        torch.backends.cuda.matmul.allow_tf32 = args.tf32 == "on"
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.weight_decay > 0 and args.optimizer == "adam":
        print("note: --weight-decay with --optimizer adam is L2 regularisation (torch.optim.Adam semantics)")
    device = torch.device(args.device)
    t_start = time.time()

    # architecture from ablate's config beside --init, when there is one
    arch_info = {"attention": args.attention or "none", "drop_path": args.drop_path}
    sidecar, trained, sidecar_path = (read_sidecar(args.init.format(seed=args.seeds[0])) if args.init else (None, False, None))
    if sidecar is not None:
        if sidecar.get("backbone") != args.arch:
            raise SystemExit(f"{sidecar_path} is a {sidecar.get('backbone')} model, not --arch {args.arch}")
        if args.attention is None:
            arch_info["attention"] = sidecar.get("attention", "none")
        if sidecar.get("se_reduction", 16) != 16 or sidecar.get("mha_heads", 8) != 8:
            raise SystemExit(f"{sidecar_path}: se_reduction/mha_heads other than 16/8 are not supported "
                             "(scripts/parity/make_cases.py fixes them)")
        if args.drop_path is None and sidecar.get("drop_path") is not None:
            arch_info["drop_path"] = sidecar["drop_path"]

    # data
    splits = {"train": args.train_split, "val": args.val_split}
    if args.test_split:
        splits["test"] = args.test_split
    raw = {}
    for role, name in splits.items():
        if args.ablate_dataset:
            raw[role] = load_ablate_split(args.ablate_dataset, name, args.limit)
            if raw[role]["size"] != args.size:
                raise SystemExit(f"{args.ablate_dataset} holds {raw[role]['size']}px images, not --size {args.size}")
        else:
            raw[role] = load_split(args.data, name, args.size, args.limit, args.csv_suffix)
    labels = raw["train"]["labels_names"]
    for role, s in raw.items():
        if s["labels_names"] != labels:
            raise SystemExit(f"split {s['name']}: labels {s['labels_names']} differ from train's {labels}")
    if trained and sidecar.get("labels") not in (None, labels) and args.take == "all":
        raise SystemExit(f"the input model predicts {sidecar['labels']} but the dataset has {labels}; use --take backbone")
    data = {role: DeviceSplit(s, device) for role, s in raw.items()}
    t_data = time.time() - t_start
    counts = raw["train"]["labels"].sum(0).tolist()
    cb_weights = class_balanced_weights(counts, args.beta).tolist() if args.loss == "cb" else None
    device_name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu"
    print(f"data {args.ablate_dataset or args.data} at {args.size}: " + ", ".join(f"{s['name']} {len(s['ids'])}" for s in raw.values())
          + f"; labels {labels}, train positives {counts} ({t_data:.1f}s); device {device} ({device_name})", flush=True)
    if cb_weights:
        print(f"class-balanced weights (β={args.beta}): " + " ".join(f"{w:.4f}" for w in cb_weights), flush=True)

    results = []
    for seed in args.seeds:
        r = run_seed(seed, args, data, device, labels, cb_weights, arch_info)
        results.append(r)
        test = (f", {r['test_split']} macro-F1 {r['test_macro_f1']:.4f} (F1 "
                + "/".join(f"{v:.4f}" for v in r["test_scores"]["f1"]) + ")") if "test_macro_f1" in r else ""
        print(f"seed {seed}: best val macro-F1 {r['best_val_macro_f1']:.4f} @ epoch {r['best_epoch']}/{args.epochs}"
              f"{test}, final loss {r['epochs'][-1].get('train_loss', float('nan')):.4f}, {r['seconds']:.1f}s", flush=True)

    wall = time.time() - t_start
    val_mean, val_std = summary_stats([r["best_val_macro_f1"] for r in results])
    summary = {"n_seeds": len(results), "val_macro_f1_mean": val_mean, "val_macro_f1_std": val_std}
    line = f"{len(results)} seeds: best val macro-F1 {val_mean:.4f} ± {val_std:.4f}"
    if args.test_split:
        t_mean, t_std = summary_stats([r["test_macro_f1"] for r in results])
        summary.update(test_macro_f1_mean=t_mean, test_macro_f1_std=t_std)
        line += f", {args.test_split} macro-F1 {t_mean:.4f} ± {t_std:.4f}"
    summary["wall_seconds"] = wall
    print(f"{line} (sample std, ddof=1); wall time {wall:.1f}s", flush=True)

    if args.out:
        versions = {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__}
        for mod in ("torchvision", "timm", "PIL", "safetensors"):
            try:
                versions[mod] = __import__(mod).__version__
            except Exception:
                pass
        out = {
            "args": vars(args), "arch": arch_info, "device": str(device), "device_name": device_name,
            "cuda": torch.version.cuda, "cudnn_tf32": torch.backends.cudnn.allow_tf32,
            "matmul_tf32": torch.backends.cuda.matmul.allow_tf32, "versions": versions, "labels": labels,
            "splits": {s["name"]: len(s["ids"]) for s in raw.values()}, "train_positives": counts,
            "cb_weights": cb_weights, "data_seconds": t_data, "seeds": results, "summary": summary,
        }
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(json_safe(out), f, indent=1)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
