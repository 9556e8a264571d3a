#!/usr/bin/env python3
"""Writes the PyTorch reference cases of the numeric parity check (one safetensors file a case).

    python3 scripts/parity/make_cases.py --out DIR [--size 256] [--batch 4]
        [--arch NAME ...] [--attention none|se|mha ...]

A case `<arch>-<attention>` is a reference model = backbone (torchvision or timm, head removed)
+ optional attention on the final feature map + classifier head, built in fp32 with
torch.manual_seed(0) and randomised so that eval mode and every parameter matter: norm affine
parameters perturbed, zero/tiny-initialised parameters noised, BatchNorm running stats set to the
statistics of random inputs (4 train-mode passes) and then perturbed. Each file holds:

  backbone.* / attention.* / classifier.*   model.state_dict() (BN buffers included,
                                            num_batches_tracked int64 0-d; no non-persistent buffers)
  __input__    B x 3 x S x S fp32, torch.randn
  __target__   B x 3 fp32 of 0/1
  __logits__   B x 3, eval-mode logits (no_grad)
  __loss__     0-d fp32: BCEWithLogits (mean) of train-mode logits vs __target__
  __grad__.<param name>   gradient of __loss__ for every parameter
metadata: {"config": JSON, "reference": versions}.

Default: every arch with attention `none`, plus `se` and `mha` for resnet18 and efficientnet_b0.
With --attention, the listed attentions are made for every selected arch.
"""
import argparse
import copy
import json
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st_io  # noqa: E402

ARCHS = [
    "resnet18",
    "efficientnet_b0",
    "efficientnet_lite0",
    "efficientnet_lite1",
    "efficientnet_lite2",
    "vit_tiny_patch16_224",
    "vit_small_patch16_224",
    "vit_base_patch16_224",
    "swin_tiny_patch4_window7_224",
    "swin_small_patch4_window7_224",
]
ATTENTIONS = ["none", "se", "mha"]
WITH_ATTENTION = ["resnet18", "efficientnet_b0"]
SE_REDUCTION = 16
MHA_HEADS = 8
LABELS = ["D", "G", "A"]
HEAD_HIDDEN = 512


def is_vit(arch):
    return arch.startswith("vit_")


def is_swin(arch):
    return arch.startswith("swin_")


class SE(nn.Module):
    """Squeeze-excitation on the final map: map * sigmoid(fc2(relu(fc1(mean_hw(map)))))."""

    def __init__(self, channels, reduction=SE_REDUCTION):
        super().__init__()
        hidden = max(channels // reduction, 4)
        self.fc1 = nn.Linear(channels, hidden)
        self.fc2 = nn.Linear(hidden, channels)

    def forward(self, x):
        s = x.mean(dim=(2, 3))
        w = torch.sigmoid(self.fc2(F.relu(self.fc1(s))))
        return x * w[:, :, None, None]


class MHA(nn.Module):
    """Pre-norm multi-head self-attention over the h*w positions of the map, with a residual."""

    def __init__(self, channels, heads=MHA_HEADS):
        super().__init__()
        self.norm = nn.LayerNorm(channels, eps=1e-5)
        self.mha = nn.MultiheadAttention(channels, heads, batch_first=True)

    def forward(self, x):
        b, c, h, w = x.shape
        tokens = x.flatten(2).transpose(1, 2)  # B x HW x C
        t = self.norm(tokens)
        a = self.mha(t, t, t, need_weights=False)[0]
        tokens = tokens + a
        return tokens.transpose(1, 2).reshape(b, c, h, w)


def build_backbone(arch, size):
    """Returns (backbone module without head, number of features of the final map)."""
    if arch == "resnet18":
        import torchvision
        m = torchvision.models.resnet18(weights=None)
        m.fc = nn.Identity()
        return m, 512
    if arch == "efficientnet_b0":
        import torchvision
        m = torchvision.models.efficientnet_b0(weights=None, stochastic_depth_prob=0.0)
        m.classifier = nn.Identity()
        return m, 1280
    import timm
    kw = dict(pretrained=False, num_classes=0, drop_rate=0.0, drop_path_rate=0.0)
    if arch in ("efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"):
        m = timm.create_model(f"tf_{arch}", **kw)
    elif is_vit(arch) or is_swin(arch):
        kw.update(img_size=size, proj_drop_rate=0.0, attn_drop_rate=0.0)
        if is_swin(arch):
            kw.update(global_pool="avg")
        m = timm.create_model(arch, **kw)
    else:
        raise SystemExit(f"unknown arch {arch}")
    return m, m.num_features


class Reference(nn.Module):
    def __init__(self, arch, attention, size):
        super().__init__()
        self.arch = arch
        self.backbone, feat = build_backbone(arch, size)
        if attention == "se":
            self.attention = SE(feat)
        elif attention == "mha":
            self.attention = MHA(feat)
        else:
            self.attention = None
        self.classifier = nn.Sequential(
            nn.Linear(feat, HEAD_HIDDEN), nn.ReLU(), nn.Dropout(0.0), nn.Linear(HEAD_HIDDEN, len(LABELS)))

    def feature_map(self, x):
        """Final feature map B x C x h x w, and the CLS token (ViT) or None."""
        b = self.backbone
        if self.arch == "resnet18":
            x = b.maxpool(b.relu(b.bn1(b.conv1(x))))
            x = b.layer4(b.layer3(b.layer2(b.layer1(x))))
            return x, None
        if self.arch == "efficientnet_b0":
            return b.features(x), None
        if self.arch in ("efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"):
            return b.forward_features(x), None
        if is_vit(self.arch):
            t = b.forward_features(x)  # B x (prefix + N) x D, after the final norm
            gh, gw = b.patch_embed.grid_size
            patches = t[:, b.num_prefix_tokens:]
            fmap = patches.transpose(1, 2).reshape(t.shape[0], t.shape[2], gh, gw)
            return fmap, t[:, 0]
        if is_swin(self.arch):
            return b.forward_features(x).permute(0, 3, 1, 2), None  # B x H x W x C -> B x C x H x W
        raise AssertionError(self.arch)

    def forward(self, x):
        fmap, cls = self.feature_map(x)
        if self.attention is not None:
            fmap = self.attention(fmap)
        if self.attention is None and cls is not None:
            pooled = cls  # timm ViT 'token' pooling
        else:
            pooled = fmap.mean(dim=(2, 3))
        return self.classifier(pooled)


def zero_dropouts(model):
    """Every dropout / stochastic depth / drop path to 0 (they should already be)."""
    for m in model.modules():
        name = type(m).__name__
        if isinstance(m, nn.modules.dropout._DropoutNd):
            m.p = 0.0
        elif name == "StochasticDepth":
            m.p = 0.0
        elif name == "DropPath":
            m.drop_prob = 0.0
        elif isinstance(m, nn.MultiheadAttention):
            m.dropout = 0.0


@torch.no_grad()
def calibrate_bn(model, gen, size, batch, steps=4):
    """Sets BatchNorm running stats to the statistics of random inputs (train-mode passes, cumulative
    average), so that eval mode keeps the signal alive through deep random networks."""
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return
    momenta = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    for _ in range(steps):
        model(torch.randn(batch, 3, size, size, generator=gen))
    for m, mom in zip(bns, momenta):
        m.momentum = mom


@torch.no_grad()
def randomise_bn_stats(model, gen):
    """BN running stats perturbed: mean += N(0, 0.05) * std, var *= U(0.8, 1.25) (wider ranges blow
    the eval-mode activations of torchvision efficientnet_b0 up to ~1e4)."""
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            std = m.running_var.sqrt()
            m.running_mean.add_(torch.randn(m.running_mean.shape, generator=gen) * 0.05 * std)
            m.running_var.mul_(torch.rand(m.running_var.shape, generator=gen) * 0.45 + 0.8)


@torch.no_grad()
def randomise(model, gen):
    """Norm affine parameters perturbed (weight 1 + N(0, 0.1), bias N(0, 0.1)); parameters that are
    constant or tiny (|p| < 1e-3, e.g. zero-initialised biases, ViT cls token) get N(0, 0.02) noise."""
    norm_params = set()
    for m in model.modules():
        if isinstance(m, (nn.modules.batchnorm._BatchNorm, nn.LayerNorm, nn.GroupNorm)):
            if m.weight is not None:
                m.weight.copy_(1.0 + 0.1 * torch.randn(m.weight.shape, generator=gen))
                norm_params.add(id(m.weight))
            if m.bias is not None:
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=gen))
                norm_params.add(id(m.bias))
    for name, p in model.named_parameters():
        if id(p) in norm_params:
            continue
        constant = p.numel() == 1 or bool((p == p.reshape(-1)[0]).all())
        tiny = float(p.abs().max()) < 1e-3
        if constant or tiny:
            p.add_(0.02 * torch.randn(p.shape, generator=gen))


def bce_loss(logits, target):
    return F.binary_cross_entropy_with_logits(logits, target, reduction="mean")


def make_case(arch, attention, size, batch):
    torch.manual_seed(0)
    model = Reference(arch, attention, size).float()
    zero_dropouts(model)
    gen = torch.Generator().manual_seed(1)
    randomise(model, gen)  # norm affine / constant parameters first: calibration sees the final weights
    calibrate_bn(model, gen, size, batch)
    randomise_bn_stats(model, gen)
    x = torch.randn(batch, 3, size, size, generator=gen)
    target = torch.randint(0, 2, (batch, len(LABELS)), generator=gen).float()

    state = copy.deepcopy(model.state_dict())

    model.eval()
    with torch.no_grad():
        logits = model(x)
        # sensitivity to the input: another input must change the logits
        logits_other = model(torch.randn(x.shape, generator=gen))

    model.load_state_dict(state)
    model.train()
    model.zero_grad(set_to_none=True)
    train_logits = model(x)
    loss = bce_loss(train_logits, target)
    loss.backward()

    tensors = {k: v for k, v in state.items()}
    tensors["__input__"] = x
    tensors["__target__"] = target
    tensors["__logits__"] = logits
    tensors["__loss__"] = loss.detach().reshape(())
    n_grad = 0
    no_grad = []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if name not in state:
            raise AssertionError(f"parameter {name} not in the state dict")
        if p.grad is None:
            no_grad.append(name)
            g = torch.zeros_like(p)
        else:
            g = p.grad
        tensors[f"__grad__.{name}"] = g
        n_grad += 1
    info = dict(
        state=len(state), grads=n_grad, no_grad=no_grad,
        logits_abs=float(logits.abs().max()), loss=float(loss.detach()),
        input_sensitivity=float((logits - logits_other).norm() / logits.norm().clamp_min(1e-12)),
        batch_spread=float(logits.std(dim=0).mean()),
        grad_norm=float(torch.sqrt(sum((p.grad.double() ** 2).sum() for p in model.parameters()
                                       if p.grad is not None))),
    )
    return tensors, info


def default_cases(archs, attentions):
    cases = []
    for a in archs:
        if attentions:
            cases += [(a, t) for t in attentions]
        else:
            cases.append((a, "none"))
            if a in WITH_ATTENTION:
                cases += [(a, "se"), (a, "mha")]
    return cases


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--arch", nargs="+", choices=ARCHS, default=None)
    ap.add_argument("--attention", nargs="+", choices=ATTENTIONS, default=None)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: all cores)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads or os.cpu_count() or 1)
    os.makedirs(args.out, exist_ok=True)
    versions = {"torch": torch.__version__}
    for mod in ("torchvision", "timm"):
        try:
            versions[mod] = __import__(mod).__version__
        except ImportError:
            pass
    if versions.get("timm") not in (None, "1.0.31"):
        print(f"note: timm {versions['timm']} here; the cases and NOTES.md were checked with timm 1.0.31")
    for arch, attention in default_cases(args.arch or ARCHS, args.attention):
        t0 = time.time()
        tensors, info = make_case(arch, attention, args.size, args.batch)
        config = {
            "backbone": arch, "attention": attention, "se_reduction": SE_REDUCTION, "mha_heads": MHA_HEADS,
            "labels": LABELS, "head_hidden": HEAD_HIDDEN, "dropout": 0.0, "drop_path": 0.0,
            "image_size": args.size,
        }
        meta = {"config": json.dumps(config), "reference": json.dumps(versions)}
        case = f"{arch}-{attention}"
        path = os.path.join(args.out, f"{case}.safetensors")
        st_io.save_file(tensors, path, meta)
        mb = os.path.getsize(path) / 2**20
        print(f"{case}: {len(tensors)} tensors ({info['state']} state, {info['grads']} grads), "
              f"loss {info['loss']:.6f}, |logits|max {info['logits_abs']:.4g}, "
              f"input sensitivity {info['input_sensitivity']:.3g}, batch spread {info['batch_spread']:.3g}, "
              f"grad norm {info['grad_norm']:.4g}, {mb:.1f} MiB, {time.time() - t0:.1f}s", flush=True)
        if info["no_grad"]:
            print(f"  WARNING: no gradient (written as zeros) for {info['no_grad']}", flush=True)
        if info["input_sensitivity"] < 1e-6:
            print("  WARNING: logits do not depend on the input", flush=True)


if __name__ == "__main__":
    main()
