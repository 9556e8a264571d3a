"""A model ablate does not know (pipelines/custom.yaml): a small CNN of the user's own, trained
in PyTorch on a native dataset (`$ABLATE_INPUT_DATA`). It hands ablate nothing but its
probabilities on the test split, `predictions.csv`, which the native `score` stage scores
exactly as `evaluate` scores a native model. Needs torch, numpy and safetensors only."""
import torch
from torch import nn

import ablate_io as aio

v = aio.vars()
torch.manual_seed(v["seed"])
torch.set_num_threads(int(v.get("threads", 2)))
data = aio.read_dataset(aio.input("data"))
labels = data.label_names
width = v["width"]
model = nn.Sequential(
    nn.Conv2d(3, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(width, 2 * width, 3, padding=1), nn.BatchNorm2d(2 * width), nn.ReLU(),
    nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2 * width, len(labels)),
)
device = torch.device(aio.device())
model.to(device)
x = torch.from_numpy(aio.normalize(data["train"].images)).to(device)
y = torch.from_numpy(data["train"].labels).float().to(device)
optimizer = torch.optim.Adam(model.parameters(), lr=v["lr"])
with aio.Metrics() as metrics:
    for epoch in range(1, v["epochs"] + 1):
        model.train()
        total = 0.0
        for batch in torch.randperm(len(x)).split(v["batch_size"]):
            if len(batch) < 2:  # BatchNorm needs two values per channel
                continue
            loss = nn.functional.binary_cross_entropy_with_logits(model(x[batch]), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        metrics.add("loss", total / len(x), split="train", epoch=epoch)
test = data[v["split"]]
model.eval()
with torch.no_grad():
    logits = model(torch.from_numpy(aio.normalize(test.images)).to(device))
aio.write_predictions(aio.out_dir(), test.ids, labels, torch.sigmoid(logits).cpu().numpy())
print(f"trained {v['epochs']} epochs; predicted {len(test.ids)} images of {v['split']}")
