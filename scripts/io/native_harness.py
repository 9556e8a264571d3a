"""Test support: runs the native ablate binaries, and regenerates the fixtures.

    python3 native_harness.py          # re-creates fixtures/native/ from fixtures/pipeline.yaml

Binaries: ``$ABLATE_BIN`` or the repository's ``target/release/ablate``, and
``$ABLATE_TORCH_WORKER`` or ``target/release/ablate-torch`` (they
find libtorch through their rpath).

:func:`run_worker` drives ``ablate-torch --serve`` directly with one job, the internal protocol
``ablate run`` uses for device stages (``crates/stages/src/worker.rs``: a JSON job file whose
path goes to the worker's stdin, ``done`` comes back on stdout). It is the only way, until the
``command`` stage exists, to make the native ``evaluate``/``export``/``gradcam``/``train`` read
a folder written by Python. The protocol is not a public interface; if it changes, these
checks fail loudly and the end-to-end check moves to a pipeline with a command stage.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
NATIVE = FIXTURES / "native"
PIPELINE = FIXTURES / "pipeline.yaml"
STAGES = ("odir", "data", "model", "loss", "train", "evaluate", "export", "gradcam", "attn")

# What fixtures/native keeps of each stage's output (the weight files are 44 MB: regenerated).
KEEP = {
    "odir": ["dataset.json", "dataset.safetensors"],
    "data": ["dataset.json", "dataset.safetensors"],
    "model": ["architecture.json"],
    "loss": ["loss.json"],
    "train": ["model.json", "thresholds.json"],
    "evaluate": ["scores.json", "predictions.csv"],
    "export": ["submission.csv"],
    "gradcam": ["index.md", "maps.safetensors"],
    "attn": ["architecture.json"],
}


def binaries() -> Optional[Tuple[Path, Path]]:
    """(ablate, ablate-torch) when both exist and start, else None."""
    release = HERE.parent.parent / "target" / "release"
    ablate = Path(os.environ.get("ABLATE_BIN", release / "ablate"))
    worker = Path(os.environ.get("ABLATE_TORCH_WORKER", release / "ablate-torch"))
    if not (ablate.is_file() and worker.is_file()):
        return None
    try:
        ok = subprocess.run([str(ablate), "--version"], capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (ablate, worker) if ok.returncode == 0 else None


def run_pipeline(workdir: Path) -> Dict[str, Path]:
    """Runs fixtures/pipeline.yaml (with its ODIR-style source folder) in ``workdir`` on the
    CPU; returns each stage's output folder."""
    found = binaries()
    if found is None:
        raise RuntimeError("the ablate binaries are not available (make build)")
    ablate, worker = found
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copy(PIPELINE, workdir / "p.yaml")
    shutil.copytree(FIXTURES / "odir", workdir / "odir", dirs_exist_ok=True)
    env = dict(os.environ, ABLATE_TORCH_WORKER=str(worker))
    run = subprocess.run(
        [str(ablate), "run", "p.yaml", "--device", "cpu", "--cache", "./cache"],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=900,
    )
    if run.returncode != 0:
        raise RuntimeError(f"ablate run failed ({run.returncode}):\n{run.stdout}\n{run.stderr}")
    plan = subprocess.run(
        [str(ablate), "plan", "p.yaml", "--json", "--device", "cpu", "--cache", "./cache"],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=300, check=True,
    )
    keys = {s["stage"]: s["key"] for s in json.loads(plan.stdout)}
    return {s: workdir / "cache" / "entries" / keys[s] / "out" for s in STAGES}


def stage_params(out: Path) -> Dict[str, Any]:
    """The canonical parameters (defaults filled) a stage ran with, from its record."""
    record = json.loads((out.parent / "record.json").read_text())
    return record["fingerprint"]["params"]


def run_worker(
    kind: str,
    params: Dict[str, Any],
    inputs: Dict[str, Path],
    out_dir: Path,
    *,
    workspace: Optional[Path] = None,
    device: str = "cpu",
) -> Dict[str, Any]:
    """Runs one native device stage in ``ablate-torch --serve``; returns its result
    (``metrics``, ``summary``); raises with the stage's error when it fails. ``params`` must
    be complete (every parameter of the kind, defaults included)."""
    found = binaries()
    if found is None:
        raise RuntimeError("the ablate binaries are not available (make build)")
    out_dir.mkdir(parents=True, exist_ok=True)
    if workspace is not None:
        workspace.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        job_path, result_path = Path(tmp) / "job.json", Path(tmp) / "result.json"
        job = {
            "kind": kind, "stage": kind, "params": params,
            "inputs": {role: str(Path(p).resolve()) for role, p in inputs.items()},
            "out_dir": str(out_dir.resolve()), "device": device,
            "workspace": str(workspace.resolve()) if workspace else None,
            "result": str(result_path),
        }
        job_path.write_text(json.dumps(job))
        proc = subprocess.Popen(
            [str(found[1]), "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )
        try:
            assert proc.stdin and proc.stdout
            proc.stdin.write(f"{job_path}\n")
            proc.stdin.flush()
            # Progress events (a JSON value a line, ablate_core::progress::Event) come before
            # the reply; the worker exits when its stdin closes: wait for the reply first.
            reply = proc.stdout.readline()
            while reply not in ("done\n", ""):
                reply = proc.stdout.readline()
        finally:
            if proc.stdin:
                proc.stdin.close()
            stderr = proc.stderr.read() if proc.stderr else ""
            proc.wait(timeout=60)
        if reply != "done\n" or not result_path.is_file():
            raise RuntimeError(f"the worker ended without a result ({reply!r}):\n{stderr}")
        result = json.loads(result_path.read_text())
    if result.get("error"):
        raise RuntimeError(f"native `{kind}` failed: {result['error']}")
    return result["report"]


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        outs = run_pipeline(Path(tmp))
        if NATIVE.exists():
            shutil.rmtree(NATIVE)
        for stage, files in KEEP.items():
            (NATIVE / stage).mkdir(parents=True)
            for name in files:
                shutil.copy(outs[stage] / name, NATIVE / stage / name)
        # The trained model's tensor names, dtypes and shapes (its weights are not kept).
        from safetensors import safe_open

        with safe_open(str(outs["train"] / "model.safetensors"), "np") as f:
            manifest = {k: [f.get_slice(k).get_dtype(), f.get_slice(k).get_shape()]
                        for k in sorted(f.keys())}
        (NATIVE / "train" / "tensors.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"fixtures written to {NATIVE}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    sys.exit(main())
