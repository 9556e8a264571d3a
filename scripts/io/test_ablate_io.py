"""Tests of ablate_io against real native artifacts.

Run:  PYTHONPATH=.deps/python-io python3 -m pytest scripts/io   (what `make test` does;
      scripts/install-python-io.sh installs pytest, numpy and safetensors there)

Three tiers, each skipped with its reason when what it needs is missing:

- always: the committed fixtures (fixtures/native/, made by native_harness.py from
  fixtures/pipeline.yaml with the real binaries): datasets, configs, thresholds, loss;
- with the binaries (target/release/ablate and ablate-torch, or $ABLATE_BIN and
  $ABLATE_TORCH_WORKER): the pipeline is run again (~10 s on the CPU) and the
  trained model (44 MB, not committed) is read, rewritten, and fed to the native `evaluate`,
  `export`, `gradcam` and `train` through the worker (see native_harness.run_worker);
- with torch and torchvision importable (``$ABLATE_TORCH_PYTHONPATH``, default .deps/py, where
  scripts/parity/install-python-deps.sh puts torchvision, and .deps/libtorch-2.11.0): torchvision loads the native model and reproduces its
  probabilities; example_train.py runs as a command stage would and `evaluate` reads its model.
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
for folder in (HERE, HERE.parent):  # native_harness; ablate_io
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from safetensors.numpy import load_file, save_file  # noqa: E402

import ablate_io as aio  # noqa: E402
import native_harness as nh  # noqa: E402

FIX = HERE / "fixtures"
NATIVE = FIX / "native"


# ------------------------------------------------------------------------------------------
# helpers


def read_png(path: Path) -> np.ndarray:
    """Decodes the 8-bit RGB, unfiltered PNGs of fixtures/odir (make_odir.py) → H×W×3."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert (depth, colour) == (8, 2)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    rows = [raw[y * (1 + 3 * width):(y + 1) * (1 + 3 * width)] for y in range(height)]
    assert all(r[0] == 0 for r in rows), "fixture PNGs are unfiltered"
    return np.frombuffer(b"".join(r[1:] for r in rows), np.uint8).reshape(height, width, 3)


def read_csv(path: Path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def same_safetensors(a: Path, b: Path) -> bool:
    """Same tensors (names, dtypes, shapes, bytes) and the same metadata, in any order."""
    from safetensors import safe_open

    with safe_open(str(a), "np") as fa, safe_open(str(b), "np") as fb:
        if fa.metadata() != fb.metadata() or sorted(fa.keys()) != sorted(fb.keys()):
            return False
        return all(np.array_equal(fa.get_tensor(k), fb.get_tensor(k))
                   and fa.get_tensor(k).dtype == fb.get_tensor(k).dtype for k in fa.keys())


def manifest():
    return json.loads((NATIVE / "train" / "tensors.json").read_text())


def zeros_from_manifest():
    dt = {"F32": np.float32, "I64": np.int64}
    return {k: np.zeros(shape, dt[d]) for k, (d, shape) in manifest().items()}


def native_config():
    return json.loads((NATIVE / "train" / "model.json").read_text())


# ------------------------------------------------------------------------------------------
# datasets


def test_load_output_matches_its_csv_and_images():
    """The native `load` of fixtures/odir: ids and labels are the CSV rows, pixels the PNGs'."""
    data = aio.read_dataset(NATIVE / "odir")
    assert data.label_names == ["D", "G", "A"] and data.size == 16
    assert list(data.splits) == ["train", "val"]
    for name, split in data.splits.items():
        header, rows = read_csv(FIX / "odir" / f"{name}.csv")
        assert header == ["id"] + data.label_names
        assert split.ids == [r[0] for r in rows] and len(split) == len(rows)
        assert split.labels.dtype == np.uint8 and split.labels.shape == (len(rows), 3)
        assert split.labels.tolist() == [[int(v) for v in r[1:]] for r in rows]
        assert split.images.dtype == np.uint8 and split.images.shape == (len(rows), 3, 16, 16)
        for i, image_id in enumerate(split.ids):
            hwc = read_png(FIX / "odir" / "images" / name / image_id)
            np.testing.assert_array_equal(split.images[i], hwc.transpose(2, 0, 1))


def test_synthetic_dataset_layout():
    data = aio.read_dataset(NATIVE / "data")
    assert data.label_names == ["D", "G", "A"] and data.size == 32
    counts = {"train": 32, "val": 16, "offsite_test": 16, "onsite_test": 8}
    assert {k: len(v) for k, v in data.splits.items()} == counts
    assert list(data.splits) == list(counts)  # stored order
    for name, split in data.splits.items():
        assert split.ids == [f"{name}_{i:05}.png" for i in range(counts[name])]
        assert split.images.shape == (counts[name], 3, 32, 32)
        assert set(np.unique(split.labels)) <= {0, 1}
    assert data["val"] is data.split("val") and "val" in data
    with pytest.raises(KeyError, match="no split `test` \\(it has: train, val, offsite_test"):
        data["test"]


@pytest.mark.parametrize("which", ["odir", "data"])
def test_write_dataset_is_byte_identical_to_native(tmp_path, which):
    aio.write_dataset(tmp_path, aio.read_dataset(NATIVE / which))
    for name in ("dataset.json", "dataset.safetensors"):
        assert (tmp_path / name).read_bytes() == (NATIVE / which / name).read_bytes(), name


def _corrupt(tmp_path, how):
    shutil.copytree(NATIVE / "odir", tmp_path, dirs_exist_ok=True)
    index, st = tmp_path / "dataset.json", tmp_path / "dataset.safetensors"
    j = json.loads(index.read_text())
    t = load_file(str(st))
    if how == "no index":
        index.unlink()
        return index, "cannot read"
    if how == "not json":
        index.write_text("{")
        return index, "is not an ablate dataset index"
    if how == "format":
        j["format"] = "ablate-dataset-2"
        index.write_text(json.dumps(j))
        return index, "unknown dataset format `ablate-dataset-2`"
    if how == "missing field":
        del j["size"]
        index.write_text(json.dumps(j))
        return index, "missing field `size`"
    if how == "bad splits":
        j["splits"] = {"train": []}
        index.write_text(json.dumps(j))
        return index, "`splits` must be a list of"
    if how == "no tensors file":
        st.unlink()
        return st, "cannot read"
    if how == "not safetensors":
        st.write_bytes(b"\x00" * 3)
        return st, "is not a safetensors file"
    if how == "no images":
        del t["images.val"]
        save_file(t, str(st))
        return st, "no images of `val`"
    if how == "no labels":
        del t["labels.train"]
        save_file(t, str(st))
        return st, "no labels of `train`"
    if how == "shape":
        t["labels.val"] = t["labels.val"][:, :2].copy()
        save_file(t, str(st))
        return st, "split `val` has inconsistent shapes"
    if how == "dtype":
        t["labels.val"] = t["labels.val"].astype(np.int64)
        save_file(t, str(st))
        return st, "expected uint8"
    raise AssertionError(how)


@pytest.mark.parametrize("how", ["no index", "not json", "format", "missing field", "bad splits",
                                 "no tensors file", "not safetensors", "no images", "no labels",
                                 "shape", "dtype"])
def test_dataset_errors_name_the_file(tmp_path, how):
    path, message = _corrupt(tmp_path, how)
    with pytest.raises(aio.FormatError) as error:
        aio.read_dataset(tmp_path)
    assert str(path) in str(error.value) and message in str(error.value), str(error.value)


def test_write_dataset_refuses_what_native_stages_could_not_use(tmp_path):
    data = aio.read_dataset(NATIVE / "odir")
    data["val"].labels[0, 0] = 2
    with pytest.raises(ValueError, match="labels must be 0 or 1"):
        aio.write_dataset(tmp_path, data)
    data = aio.read_dataset(NATIVE / "odir")
    data["val"].images = data["val"].images.astype(np.float32)
    with pytest.raises(ValueError, match="images must be uint8"):
        aio.write_dataset(tmp_path, data)
    data = aio.read_dataset(NATIVE / "odir")
    data["val"].ids[1] = data["val"].ids[0]
    with pytest.raises(ValueError, match="duplicate ids"):
        aio.write_dataset(tmp_path, data)
    assert not (tmp_path / "dataset.json").exists()


# ------------------------------------------------------------------------------------------
# normalisation


def test_normalisation_is_the_native_one():
    # crates/torch/src/nn/tensors.rs: MEAN/STD, to_unit (÷255), normalize ((x − mean) / std).
    assert aio.MEAN == (0.485, 0.456, 0.406) and aio.STD == (0.229, 0.224, 0.225)
    images = np.stack([np.zeros((3, 2, 2), np.uint8), np.full((3, 2, 2), 255, np.uint8)])
    x = aio.normalize(images)
    assert x.dtype == np.float32 and x.shape == (2, 3, 2, 2)
    mean, std = np.float32(aio.MEAN), np.float32(aio.STD)
    np.testing.assert_array_equal(x[0, :, 0, 0], (np.float32(0) - mean) / std)
    np.testing.assert_array_equal(x[1, :, 0, 0], (np.float32(1) - mean) / std)
    data = aio.read_dataset(NATIVE / "data")["val"].images
    back = aio.denormalize(aio.normalize(data)) * 255
    assert np.abs(back - data).max() < 1e-3
    assert aio.normalize(data[0]).shape == (3, 32, 32)


# ------------------------------------------------------------------------------------------
# models without the binaries


def test_model_config_defaults_order_and_bytes(tmp_path):
    minimal = {"backbone": "resnet18", "labels": ["D", "G", "A"], "head_hidden": 32,
               "dropout": 0.5, "image_size": 32}
    cfg = aio.model_config(minimal)
    assert list(cfg) == ["backbone", "attention", "se_reduction", "mha_heads", "drop_path",
                         "labels", "head_hidden", "dropout", "image_size"]
    assert cfg == native_config()
    aio.write_model(tmp_path, minimal, zeros_from_manifest())
    assert (tmp_path / "model.json").read_bytes() == (NATIVE / "train" / "model.json").read_bytes()
    out = load_file(str(tmp_path / "model.safetensors"))
    assert {k: [str(v.dtype), list(v.shape)] for k, v in out.items()} == {
        k: [{"F32": "float32", "I64": "int64"}[d], s] for k, (d, s) in manifest().items()}


@pytest.mark.parametrize("change, message", [
    ({"backbone": None}, "missing required key(s) backbone"),
    ({"backbone": 18}, "`backbone` is required"),
    ({"backbone": "resnet50"}, "unknown backbone `resnet50`"),
    ({"attention": "cbam"}, "`attention` must be one of none, se, mha"),
    ({"attention": "mha", "mha_heads": 7}, "must divide the feature channels (512)"),
    ({"labels": []}, "`labels` must be a non-empty list"),
    ({"labels": ["D", "D"]}, "`labels` must be unique"),
    ({"head_hidden": 32.0}, "`head_hidden` must be a positive integer"),
    ({"dropout": 1.5}, "`dropout` must be a number in [0, 1]"),
    ({"image_size": 0}, "`image_size` must be a positive integer"),
    ({"hidden": 3}, "unknown key(s) hidden"),
    ({"drop_path": 2}, "`drop_path` must be null or a number in [0, 1)"),
])
def test_model_config_errors(change, message):
    cfg = dict(native_config(), **change)
    cfg = {k: v for k, v in cfg.items() if v is not None or k == "drop_path"}
    with pytest.raises(ValueError) as error:
        aio.model_config(cfg)
    assert message in str(error.value), str(error.value)
    with pytest.raises(ValueError, match="missing required key\\(s\\) head_hidden, dropout"):
        aio.model_config({"backbone": "resnet18", "labels": ["D"], "image_size": 8})


def _problems(config_changes=None, drop=(), add=None, like=None):
    cfg = aio.model_config(dict(native_config(), **(config_changes or {})))
    tensors = zeros_from_manifest()
    for name in drop:
        del tensors[name]
    tensors.update(add or {})
    return aio.check_model(cfg, tensors, like=like)


def test_check_model_accepts_the_native_layout():
    assert _problems() == []


@pytest.mark.parametrize("kwargs, message", [
    ({"drop": ["classifier.3.bias"]}, "`classifier.3.bias`: missing (shape (3,))"),
    ({"add": {"classifier.0.weight": np.zeros((32, 768), np.float32)}},
     "`classifier.0.weight`: shape (32, 768), expected (32, 512)"),
    ({"config_changes": {"labels": ["D", "G"]}}, "`classifier.3.weight`: shape (3, 32), expected (2, 32)"),
    ({"add": {"backbone.conv1.weight": np.zeros((64, 3, 7, 7), np.float64)}},
     "`backbone.conv1.weight`: dtype float64, expected float32"),
    ({"add": {"backbone.bn1.num_batches_tracked": np.zeros((), np.float32)}},
     "expected an int64 scalar"),
    ({"add": {"backbone.fc.weight": np.zeros((1000, 512), np.float32)}},
     "native backbones have no classifier of their own"),
    ({"add": {"fc.weight": np.zeros((3, 512), np.float32)}}, "every name must start with"),
    ({"add": {"attention.fc1.weight": np.zeros((32, 512), np.float32)}},
     "`attention.fc1.weight`: not a tensor of this model"),
    ({"config_changes": {"attention": "se"}}, "`attention.fc1.weight`: missing (shape (32, 512))"),
    ({"config_changes": {"attention": "mha"}},
     "`attention.mha.in_proj_weight`: missing (shape (1536, 512))"),
    ({"drop": [k for k in manifest() if k.startswith("backbone.")]}, "no `backbone.*` tensors"),
    ({"drop": ["backbone.conv1.weight"], "like": NATIVE / "train" / "tensors.json"}, None),
])
def test_check_model_names_each_problem(kwargs, message):
    if message is None:  # `like`: a reference model's backbone (here: its manifest)
        ref = zeros_from_manifest()
        problems = _problems(drop=kwargs["drop"], like=ref)
        assert problems == ["`backbone.conv1.weight`: missing (the reference model has it)"]
        return
    problems = _problems(**kwargs)
    assert any(message in p for p in problems), problems


def test_write_model_writes_nothing_when_refused(tmp_path):
    tensors = zeros_from_manifest()
    tensors["classifier.3.bias"] = np.zeros(4, np.float32)
    with pytest.raises(ValueError, match=r"\(1 problem\(s\)\):\n  `classifier.3.bias`: shape"):
        aio.write_model(tmp_path / "m", native_config(), tensors)
    assert not (tmp_path / "m").exists()


def test_thresholds_round_trip_byte_identical(tmp_path):
    record = aio.read_thresholds(NATIVE / "train")
    assert record["labels"] == ["D", "G", "A"] and record["tuned_on"] == "val"
    aio.write_thresholds(tmp_path, record["labels"], np.float32(record["thresholds"]),
                         record["tuned_on"])
    assert (tmp_path / "thresholds.json").read_bytes() == \
        (NATIVE / "train" / "thresholds.json").read_bytes()
    assert aio.read_thresholds(tmp_path / "none") is None
    with pytest.raises(ValueError, match="one threshold per label"):
        aio.write_thresholds(tmp_path, ["D"], [0.1, 0.2])
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        aio.write_thresholds(tmp_path, ["D"], [float("nan")])


def test_predictions_are_written_as_evaluate_writes_them(tmp_path):
    aio.write_predictions(tmp_path, ["b.jpg", "a.jpg"], ["D", "G"], [[0.25, 1.0], [0.5, 0.0]])
    text = (tmp_path / "predictions.csv").read_text()
    assert text == "id,p_D,p_G\nb.jpg,0.250000,1.000000\na.jpg,0.500000,0.000000\n"
    for ids, probabilities, message in [
        (["a"], [[0.5]], "shape"),
        (["a"], [[1.5, 0.1]], "in \\[0, 1\\]"),
        (["a"], [[float("nan"), 0.1]], "finite"),
        (["a", "a"], [[0.1, 0.1], [0.2, 0.2]], "twice"),
    ]:
        with pytest.raises(ValueError, match=message):
            aio.write_predictions(tmp_path, ids, ["D", "G"], probabilities)


def test_initial_models_and_loss():
    arch, tensors = aio.read_model(NATIVE / "model")
    assert arch == {"backbone": "resnet18", "attention": "none", "se_reduction": 16,
                    "mha_heads": 8, "drop_path": None} and tensors == {}
    assert "labels" not in arch
    arch, _ = aio.read_model(NATIVE / "attn")
    assert arch["attention"] == "se"
    loss = aio.read_loss(NATIVE / "loss")
    assert loss["function"] == "class_balanced" and loss["labels"] == ["D", "G", "A"]
    assert math.isclose(sum(loss["pos_weight"]), 3.0)
    train = aio.read_dataset(NATIVE / "data")["train"]
    assert loss["positives"] == train.labels.sum(0).tolist()
    assert loss["samples"] == len(train)


def test_write_initial_model_byte_identical(tmp_path):
    arch, _ = aio.read_model(NATIVE / "attn")
    aio.write_initial_model(tmp_path, {"backbone": "resnet18", "attention": "se"})
    assert (tmp_path / "architecture.json").read_bytes() == \
        (NATIVE / "attn" / "architecture.json").read_bytes()
    assert not (tmp_path / "weights.safetensors").exists()
    with pytest.raises(ValueError, match="every name must start with"):
        aio.write_initial_model(tmp_path, arch, {"conv1.weight": np.zeros(1, np.float32)})


def test_read_model_errors(tmp_path):
    with pytest.raises(aio.FormatError, match="holds no model: expected model.json"):
        aio.read_model(tmp_path)
    shutil.copy(NATIVE / "train" / "model.json", tmp_path)
    with pytest.raises(aio.FormatError, match="cannot read weights .*model.safetensors"):
        aio.read_model(tmp_path)
    (tmp_path / "model.json").write_text('{"backbone": "resnet18"}')
    with pytest.raises(aio.FormatError, match="model.json is not a model config: .*missing"):
        aio.read_model(tmp_path)


# ------------------------------------------------------------------------------------------
# metrics and environment


def test_metrics_jsonl(tmp_path):
    with aio.Metrics(tmp_path) as m:
        m.add("loss", np.float32(0.5), split="train", epoch=np.int64(1))
        m.add("f1", 1, split="val", class_="D")
        m.add("seconds", 2.5)
    aio.write_metrics(tmp_path, [{"metric": "macro_f1", "value": 0.75, "split": "val",
                                  "epoch": None, "class": None}])
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [
        {"split": "train", "metric": "loss", "value": 0.5, "epoch": 1},
        {"split": "val", "metric": "f1", "value": 1.0, "class": "D"},
        {"metric": "seconds", "value": 2.5},
        {"split": "val", "metric": "macro_f1", "value": 0.75},
    ]
    for bad, message in [({"metric": "x", "value": float("nan")}, "must be finite"),
                         ({"metric": "x", "value": True}, "must be a number"),
                         ({"metric": "", "value": 1}, "non-empty string"),
                         ({"metric": "x", "value": 1, "epoch": -1}, "0..=4294967295"),
                         ({"metric": "x", "value": 1, "epoch": 1.5}, "must be an integer"),
                         ({"metric": "x", "value": 1, "label": "D"}, "unknown key(s) label")]:
        with pytest.raises(ValueError) as error:
            aio.write_metrics(tmp_path, [{"metric": "ok", "value": 1}, bad])
        assert message in str(error.value)
    assert len((tmp_path / "metrics.jsonl").read_text().splitlines()) == 4  # nothing appended


def test_environment(tmp_path, monkeypatch):
    for key in list(os.environ):
        if key.startswith("ABLATE_"):
            monkeypatch.delenv(key)
    for call, var in [(aio.out_dir, "ABLATE_OUT"), (aio.vars, "ABLATE_VARS"),
                      (aio.device, "ABLATE_DEVICE"), (aio.stage, "ABLATE_STAGE"),
                      (aio.inputs, "ABLATE_OUT"), (aio.Metrics, "ABLATE_OUT")]:
        with pytest.raises(aio.NotInAblateError, match=f"\\${var} is not set.*`command` stage"):
            call()
    (tmp_path / "vars.json").write_text('{"lr": 0.01, "tags": ["a"]}')
    monkeypatch.setenv("ABLATE_OUT", str(tmp_path / "out"))
    monkeypatch.setenv("ABLATE_INPUT_DATA", str(NATIVE / "data"))
    monkeypatch.setenv("ABLATE_INPUT_MODEL", str(NATIVE / "train"))
    monkeypatch.setenv("ABLATE_VARS", str(tmp_path / "vars.json"))
    monkeypatch.setenv("ABLATE_DEVICE", "cuda:1")
    monkeypatch.setenv("ABLATE_STAGE", "mine")
    assert aio.out_dir() == tmp_path / "out"
    assert aio.inputs() == {"data": NATIVE / "data", "model": NATIVE / "train"}
    assert aio.input("data") == NATIVE / "data"
    with pytest.raises(aio.NotInAblateError, match="no input `loss` \\(it has: data, model\\)"):
        aio.input("loss")
    assert aio.vars() == {"lr": 0.01, "tags": ["a"]}
    assert (aio.device(), aio.stage()) == ("cuda:1", "mine")
    aio.write_metrics(None, [{"metric": "m", "value": 1}])
    assert (tmp_path / "out" / "metrics.jsonl").is_file()


# ------------------------------------------------------------------------------------------
# with the native binaries

needs_binaries = pytest.mark.skipif(nh.binaries() is None,
                                    reason="bin/ablate and bin/ablate-torch are not available")


@pytest.fixture(scope="session")
def native(tmp_path_factory):
    if nh.binaries() is None:
        pytest.skip("bin/ablate and bin/ablate-torch are not available")
    return nh.run_pipeline(tmp_path_factory.mktemp("pipeline"))


@needs_binaries
def test_fixtures_are_what_the_binaries_produce(native):
    """Datasets are byte-for-byte deterministic; the fixtures are genuine native outputs."""
    for stage in ("odir", "data"):
        for name in ("dataset.json", "dataset.safetensors"):
            assert (native[stage] / name).read_bytes() == (NATIVE / stage / name).read_bytes()
    for stage, name in [("model", "architecture.json"), ("attn", "architecture.json"),
                        ("train", "model.json"), ("loss", "loss.json")]:
        assert (native[stage] / name).read_bytes() == (NATIVE / stage / name).read_bytes()
    cfg, tensors = aio.read_model(native["train"])
    assert {k: [{"float32": "F32", "int64": "I64"}[str(v.dtype)], list(v.shape)]
            for k, v in tensors.items()} == manifest()


@needs_binaries
def test_model_round_trip_is_byte_identical(native, tmp_path):
    cfg, tensors = aio.read_model(native["train"])
    assert all(v.dtype == np.float32 for k, v in tensors.items()
               if not k.endswith("num_batches_tracked"))
    aio.write_model(tmp_path, cfg, tensors, like=native["train"])
    th = aio.read_thresholds(native["train"])
    aio.write_thresholds(tmp_path, th["labels"], th["thresholds"], th["tuned_on"])
    for name in ("model.json", "model.safetensors", "thresholds.json"):
        assert (tmp_path / name).read_bytes() == (native["train"] / name).read_bytes(), name


def _device_stage(kind, native, model_dir, out):
    source = {"evaluate": "evaluate", "export": "export", "gradcam": "gradcam"}[kind]
    params = nh.stage_params(native[source])
    return nh.run_worker(kind, params, {"model": model_dir, "data": native["data"]}, out)


@needs_binaries
def test_rewritten_model_gives_identical_native_results(native, tmp_path):
    """evaluate, export and gradcam read the model written by write_model (+ thresholds)."""
    model = tmp_path / "model"
    cfg, tensors = aio.read_model(native["train"])
    aio.write_model(model, cfg, tensors)
    th = aio.read_thresholds(native["train"])
    aio.write_thresholds(model, th["labels"], th["thresholds"], th["tuned_on"])
    files = {"evaluate": ["scores.json", "predictions.csv"], "export": ["submission.csv"],
             "gradcam": ["index.md", "maps.safetensors"]}
    for kind, names in files.items():
        result = _device_stage(kind, native, model, tmp_path / kind)
        for name in names:
            ours, theirs = tmp_path / kind / name, native[kind] / name
            if name == "maps.safetensors":  # metadata is a Rust HashMap: its order varies
                assert same_safetensors(ours, theirs)
            else:
                assert ours.read_bytes() == theirs.read_bytes(), name
        if kind == "gradcam":
            overlays = sorted(p.name for p in (native[kind] / "overlays").iterdir())
            assert len(overlays) == 6
            for name in overlays:
                assert (tmp_path / kind / "overlays" / name).read_bytes() == \
                    (native[kind] / "overlays" / name).read_bytes(), name
        if kind == "evaluate":
            scores = json.loads((tmp_path / kind / "scores.json").read_text())
            rows = {(r["metric"], r["class"]): r["value"] for r in result["metrics"]}
            assert rows[("macro_f1", None)] == scores["macro_f1"]
            assert rows[("tuned_macro_f1", None)] == scores["tuned"]["macro_f1"]


@needs_binaries
def test_a_model_edited_in_numpy_is_what_evaluate_uses(native, tmp_path):
    """A head that ignores the image (zero weights) and predicts fixed probabilities p through
    its bias: native predictions must be exactly p, export the flags p > 0.5, and the scores
    those of the labels."""
    cfg, tensors = aio.read_model(native["train"])
    p = np.array([0.9, 0.2, 0.7])
    tensors["classifier.3.weight"] = np.zeros_like(tensors["classifier.3.weight"])
    tensors["classifier.3.bias"] = np.log(p / (1 - p)).astype(np.float32)
    model = tmp_path / "model"
    aio.write_model(model, cfg, tensors)  # no thresholds: no tuned_* scores
    _device_stage("evaluate", native, model, tmp_path / "evaluate")
    _device_stage("export", native, model, tmp_path / "export")
    header, rows = read_csv(tmp_path / "evaluate" / "predictions.csv")
    assert header == ["id", "p_D", "p_G", "p_A"]
    assert all([float(v) for v in r[1:]] == [0.9, 0.2, 0.7] for r in rows)
    header, rows = read_csv(tmp_path / "export" / "submission.csv")
    assert header == ["id", "D", "G", "A"] and all(r[1:] == ["1", "0", "1"] for r in rows)
    truth = aio.read_dataset(native["data"])["offsite_test"].labels
    scores = json.loads((tmp_path / "evaluate" / "scores.json").read_text())
    assert "tuned" not in scores
    for c, label in enumerate(["D", "G", "A"]):
        positives = int(truth[:, c].sum())
        s = scores["labels"][label]
        assert s["support"] == positives
        if p[c] > 0.5:  # every image predicted positive
            precision = positives / len(truth)
            f1 = 2 * precision / (precision + 1) if positives else 0.0
            assert math.isclose(s["precision"], precision) and math.isclose(s["f1"], f1)
            assert s["recall"] == (1.0 if positives else 0.0)
        else:
            assert s["precision"] == s["recall"] == s["f1"] == 0.0


@needs_binaries
def test_native_train_starts_from_written_models(native, tmp_path):
    """An initial model from write_initial_model (trained backbone + SE block), and a trained
    model from write_model continued with `take: all`, both train natively."""
    _, weights = aio.read_model(native["attn"])
    initial = tmp_path / "initial"
    aio.write_initial_model(initial, {"backbone": "resnet18", "attention": "se"}, weights)
    params = dict(nh.stage_params(native["train"]), epochs=1, tune_thresholds=False,
                  checkpoint_seconds=30)  # unkeyed: not in the record
    inputs = {"data": native["data"], "model": initial}
    result = nh.run_worker("train", params, inputs, tmp_path / "t1", workspace=tmp_path / "w1")
    assert "tensors from the input model" in result["summary"], result["summary"]
    cfg, tensors = aio.read_model(tmp_path / "t1")
    assert cfg["attention"] == "se" and "attention.fc1.weight" in tensors

    cfg, tensors = aio.read_model(native["train"])
    aio.write_model(tmp_path / "trained", cfg, tensors)
    inputs = {"data": native["data"], "model": tmp_path / "trained"}
    result = nh.run_worker("train", params, inputs, tmp_path / "t2", workspace=tmp_path / "w2")
    assert "124 tensors from the input model" in result["summary"], result["summary"]


# ------------------------------------------------------------------------------------------
# with torch and torchvision (subprocesses: this module never imports torch)


def torch_pythonpath():
    default = os.pathsep.join([str(ROOT / ".deps/py"), str(ROOT / ".deps/libtorch-2.11.0")])
    extra = os.environ.get("ABLATE_TORCH_PYTHONPATH", default)
    return os.pathsep.join([str(HERE.parent), os.environ.get("PYTHONPATH", ""), extra])


def _torch_available():
    try:
        run = subprocess.run([sys.executable, "-c", "import torch, torchvision"],
                             env=dict(os.environ, PYTHONPATH=torch_pythonpath()),
                             capture_output=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return run.returncode == 0


needs_torch = pytest.mark.skipif(not _torch_available(),
                                 reason="torch + torchvision not importable "
                                        "(set ABLATE_TORCH_PYTHONPATH)")

PARITY = """
import sys, csv, numpy as np, torch, torchvision, ablate_io as aio
model_dir, data_dir, predictions = sys.argv[1:]
cfg, tensors = aio.read_model(model_dir)
model = torch.nn.Module()
model.backbone = torchvision.models.resnet18(); model.backbone.fc = torch.nn.Identity()
model.classifier = torch.nn.Sequential(torch.nn.Linear(512, cfg["head_hidden"]), torch.nn.ReLU(),
    torch.nn.Dropout(cfg["dropout"]), torch.nn.Linear(cfg["head_hidden"], len(cfg["labels"])))
model.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()}, strict=True)
model.eval()
split = aio.read_dataset(data_dir)["offsite_test"]
with torch.no_grad():
    p = torch.sigmoid(model.classifier(model.backbone(torch.from_numpy(aio.normalize(split.images)))))
rows = list(csv.reader(open(predictions)))[1:]
assert [r[0] for r in rows] == split.ids
native = np.array([[float(v) for v in r[1:]] for r in rows])
error = np.abs(p.numpy() - native).max()
print("max abs difference", error)
assert error < 2e-6, error
"""


@needs_binaries
@needs_torch
def test_torchvision_reproduces_native_probabilities(native, tmp_path):
    """Names, layout and normalisation agree with PyTorch: torchvision's ResNet18 + the head,
    loaded strictly from the native model, gives evaluate's probabilities (6 decimals)."""
    script = tmp_path / "parity.py"
    script.write_text(PARITY)
    run = subprocess.run(
        [sys.executable, str(script), str(native["train"]), str(native["data"]),
         str(native["evaluate"] / "predictions.csv")],
        env=dict(os.environ, PYTHONPATH=torch_pythonpath(), OMP_NUM_THREADS="2"),
        capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr


@needs_binaries
@needs_torch
def test_example_script_as_a_command_stage(native, tmp_path):
    """example_train.py (FORMATS.md) run with the command stage's environment writes a model
    that the native evaluate accepts, and metrics.jsonl."""
    (tmp_path / "vars.json").write_text('{"epochs": 2, "lr": 0.001}')
    env = dict(os.environ, PYTHONPATH=torch_pythonpath(), OMP_NUM_THREADS="2",
               ABLATE_OUT=str(tmp_path / "out"), ABLATE_INPUT_DATA=str(native["data"]),
               ABLATE_VARS=str(tmp_path / "vars.json"), ABLATE_DEVICE="cpu",
               ABLATE_STAGE="mine")
    (tmp_path / "out").mkdir()
    run = subprocess.run([sys.executable, str(HERE / "example_train.py")], env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = [json.loads(x) for x in (tmp_path / "out" / "metrics.jsonl").read_text().splitlines()]
    assert [(r["metric"], r["split"], r["epoch"]) for r in lines] == [("loss", "train", 1),
                                                                      ("loss", "train", 2)]
    result = _device_stage("evaluate", native, tmp_path / "out", tmp_path / "evaluate")
    assert "offsite_test: macro-F1" in result["summary"]
    header, rows = read_csv(tmp_path / "evaluate" / "predictions.csv")
    assert len(rows) == 16 and all(0 <= float(v) <= 1 for r in rows for v in r[1:])


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-v", "-p", "no:cacheprovider"] + sys.argv[1:]))
