"""A command stage in PyTorch (pipelines/custom.yaml): trains ResNet18 with the study's head on
a native dataset (`$ABLATE_INPUT_DATA`) and writes a model that the native `evaluate`, `export`
and `gradcam` read. Needs torch, numpy and safetensors only: the ResNet18 below has
torchvision's parameter names, which native models use (docs/formats.md)."""
import torch
from torch import nn

import ablate_io as aio


class Block(nn.Module):
    """torchvision's BasicBlock."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(y + (x if self.downsample is None else self.downsample(x)))


class ResNet18(nn.Module):
    """torchvision's resnet18 without `fc`: image → mean-pooled 512 features."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        widths = [(64, 64, 1), (64, 128, 2), (128, 256, 2), (256, 512, 2)]
        for i, (cin, cout, stride) in enumerate(widths, 1):
            setattr(self, f"layer{i}", nn.Sequential(Block(cin, cout, stride), Block(cout, cout, 1)))

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return x.mean((2, 3))


v = aio.vars()
torch.manual_seed(v["seed"])
torch.set_num_threads(int(v.get("threads", 2)))
data = aio.read_dataset(aio.input("data"))
model = nn.Module()
model.backbone = ResNet18()
model.classifier = nn.Sequential(nn.Linear(512, v["head_hidden"]), nn.ReLU(), nn.Dropout(0.5),
                                 nn.Linear(v["head_hidden"], len(data.label_names)))
device = torch.device(aio.device())
model.to(device)
x = torch.from_numpy(aio.normalize(data["train"].images)).to(device)
y = torch.from_numpy(data["train"].labels).float().to(device)
val_x = torch.from_numpy(aio.normalize(data["val"].images)).to(device)
val_y = data["val"].labels.astype(bool)
optimizer = torch.optim.Adam(model.parameters(), lr=v["lr"])
with aio.Metrics() as metrics:
    for epoch in range(1, v["epochs"] + 1):
        model.train()
        total = 0.0
        for batch in torch.randperm(len(x)).split(v["batch_size"]):
            if len(batch) < 2:  # BatchNorm needs two values per channel
                continue
            logits = model.classifier(model.backbone(x[batch]))
            loss = nn.functional.binary_cross_entropy_with_logits(logits, y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        metrics.add("loss", total / len(x), split="train", epoch=epoch)
        model.eval()
        with torch.no_grad():
            predicted = (model.classifier(model.backbone(val_x)) > 0).cpu().numpy()
        f1s = []
        for c, label in enumerate(data.label_names):
            tp = float((predicted[:, c] & val_y[:, c]).sum())
            fp = float((predicted[:, c] & ~val_y[:, c]).sum())
            fn = float((~predicted[:, c] & val_y[:, c]).sum())
            f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
            metrics.add("f1", f1s[-1], split="val", epoch=epoch, class_=label)
        metrics.add("macro_f1", sum(f1s) / len(f1s), split="val", epoch=epoch)
config = {"backbone": "resnet18", "labels": data.label_names, "head_hidden": v["head_hidden"],
          "dropout": 0.5, "image_size": data.size}
aio.write_model(aio.out_dir(), config, model.cpu().state_dict())
print(f"trained {v['epochs']} epochs; val macro-F1 {sum(f1s) / len(f1s):.4f}")
