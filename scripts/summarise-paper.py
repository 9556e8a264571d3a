"""Per variant of pipelines/paper.yaml (seeds pooled): best validation macro-F1 of the model a
task ends with and its off-site macro-F1 (threshold 0.5, and tuned thresholds beside), as
mean ± sample std over seeds, read from an ablate cache. Stand-in until `ablate compare` exists.

    python3 scripts/summarise-paper.py CACHE_DIR
"""
import json
import re
import statistics
import sys
from collections import defaultdict
from pathlib import Path

cache = Path(sys.argv[1])
refs = cache / "refs" / "paper"


def entry(ref_name):
    path = refs / ref_name
    return cache / "entries" / path.read_text().strip() if path.exists() else None


def levels(name):
    inside = re.search(r"_(.*)_$", name)
    return dict(part.split("=", 1) for part in inside.group(1).split(",")) if inside else {}


def ref_name(stage, lv):
    return f"{stage}_{','.join(f'{k}={v}' for k, v in lv.items())}_"


rows = defaultdict(lambda: defaultdict(list))
for ref in sorted(refs.iterdir()):
    if not ref.name.startswith("offsite_"):
        continue
    lv = levels(ref.name)
    scores = json.loads((entry(ref.name) / "out" / "scores.json").read_text())
    key = (lv.get("model"), lv.get("task"))
    rows[key]["offsite"].append(scores["macro_f1"])
    if "tuned" in scores:
        rows[key]["offsite_tuned"].append(scores["tuned"]["macro_f1"])
    # Reference names are sanitised: `task=1.2` is stored as `task=1_2`.
    train_stage = {"1_1": None, "1_2": "head"}.get(lv.get("task"), "finetune")
    if train_stage:
        train_levels = {k: v for k, v in lv.items() if not (train_stage == "head" and k == "task")}
        record = entry(ref_name(train_stage, train_levels))
        if record:
            summary = json.loads((record / "record.json").read_text())["summary"]
            rows[key]["val"].append(float(re.search(r"val macro-F1 ([0-9.]+)", summary).group(1)))


def show(values):
    if not values:
        return "—"
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.4f} ± {spread:.4f} (n={len(values)})"


print("| model | task | val macro-F1 | offsite macro-F1 | offsite, tuned thresholds |")
print("|---|---|---|---|---|")
for (model, task), metrics in sorted(rows.items()):
    print(f"| {model} | {task.replace('_', '.')} | {show(metrics['val'])} | {show(metrics['offsite'])} | {show(metrics['offsite_tuned'])} |")
