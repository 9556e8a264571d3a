"""A command stage in PyTorch: trains ResNet18 + the study's head on a native dataset."""
import torch, torchvision
import ablate_io as aio

v, data, dev = aio.vars(), aio.read_dataset(aio.input("data")), torch.device(aio.device())
model = torch.nn.Module()  # names as native: backbone.* (torchvision's), classifier.0/.3
model.backbone = torchvision.models.resnet18()
model.backbone.fc = torch.nn.Identity()  # native backbones carry no classifier of their own
model.classifier = torch.nn.Sequential(torch.nn.Linear(512, 64), torch.nn.ReLU(),
                                       torch.nn.Dropout(0.5), torch.nn.Linear(64, len(data.label_names)))
x = torch.from_numpy(aio.normalize(data["train"].images)).to(dev)
y = torch.from_numpy(data["train"].labels).float().to(dev)
opt = torch.optim.Adam(model.to(dev).parameters(), lr=v.get("lr", 1e-3))
with aio.Metrics() as metrics:
    for epoch in range(1, v.get("epochs", 2) + 1):
        for batch in torch.randperm(len(x), device=dev).split(16):
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                model.classifier(model.backbone(x[batch])), y[batch])
            opt.zero_grad(); loss.backward(); opt.step()
        metrics.add("loss", loss.item(), split="train", epoch=epoch)
config = {"backbone": "resnet18", "labels": data.label_names, "head_hidden": 64,
          "dropout": 0.5, "image_size": data.size}
aio.write_model(aio.out_dir(), config, model.cpu().state_dict())
