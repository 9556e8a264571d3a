#!/usr/bin/env bash
# Records what `compare`, `metrics`, `report`, `plot` and `out` print on fixed grids, so that a
# change to the results code can show it gives the same bytes (issue 28's "behaviour is
# unchanged"). The grids are run once into WORK (torch trainings on synthetic data, a command
# grid with a stale row); each call re-reads that same cache, so two binaries compare exactly.
#
#     scripts/dev/results-golden.sh ABLATE WORK OUT     # e.g. target/release/ablate /tmp/g /tmp/before
#     diff -r /tmp/before /tmp/after
set -euo pipefail
export RUST_BACKTRACE=0
repo=$(cd "$(dirname "$0")/../.." && pwd)
ablate=$(realpath "$1"); work=$2; out=$(realpath -m "$3")
mkdir -p "$work" "$out"; cd "$work"
if [ ! -e .ran ]; then
  # The suite's grid of tests/report.rs: 2 × 2 factors, 3 seeds, evaluations and GradCAM.
  sed -n '/^const GRID: &str = r#"$/,/^"#;$/p' "$repo/tests/report.rs" | sed '1d;$d' > study.yaml
  cat > cmd.yaml <<'YAML'
name: cmd
grid:
  factors:
    mode: [a, b, c]
  baseline: {mode: a}
  seeds: 4
stages:
  score:
    kind: command
    params:
      run: [python3, "${pipeline_dir}/score.py", "${mode}", "${seed}"]
      deps: ["${pipeline_dir}/score.py"]
YAML
  cat > score.py <<'PY'
import json, os, sys
mode, seed = sys.argv[1], int(sys.argv[2])
v = {"a": 0.50, "b": 0.58, "c": 0.52}[mode] + 0.013 * ((seed * 7 + len(mode) * 3) % 5)
with open(os.path.join(os.environ["ABLATE_OUT"], "metrics.jsonl"), "w") as m:
    for epoch in (1, 2, 3):
        m.write(json.dumps({"split": "fit", "metric": "loss", "value": v / epoch, "epoch": epoch}) + "\n")
        m.write(json.dumps({"split": "val", "metric": "macro_f1", "value": v * epoch / 3, "epoch": epoch}) + "\n")
    m.write(json.dumps({"split": "offsite_test", "metric": "macro_f1", "value": v}) + "\n")
    m.write(json.dumps({"split": "offsite_test", "metric": "f1", "value": v / 2, "class": "D"}) + "\n")
PY
  "$ablate" run study.yaml > run-study.log 2>&1
  "$ablate" run cmd.yaml > run-cmd.log 2>&1
  # An edited script and one stage run under it: the rest of `cmd` is of the old script
  # (stale, where the binary that runs this can tell).
  sed -i 's/"c": 0.52/"c": 0.61/' score.py
  "$ablate" run cmd.yaml --only 'score[mode=c,seed=0]' > run-cmd2.log 2>&1 || true
  touch .ran
fi
record() { # name, args...
  local name=$1; shift
  if "$ablate" "$@" > "$out/$name.out" 2> "$out/$name.err"; then :; else echo "exit $?" >> "$out/$name.err"; fi
}
COLUMNS=120 record compare-table compare study
record compare-md compare study --format markdown
record compare-csv compare study --format csv
record compare-json compare study --format json
record compare-per-seed compare study --per-seed --format markdown
record compare-seeds-needed compare study --seeds-needed --format csv
record compare-wilcoxon compare study --test wilcoxon --adjust bh --format json
record compare-where compare study --where 'loss=focal' --sort offsite_test.macro_f1 --reverse --format markdown
record compare-baseline compare study --baseline 'loss=focal,hidden=32' --metric macro_f1,f1 --split offsite_test --format csv
record compare-train compare study --stage train --format json
record compare-cmd compare cmd --stage score --format markdown
record compare-cmd-no-stage compare cmd
record compare-cmd-stale compare cmd --stage score --stale --format json
record compare-all compare --stage evaluate,score --format markdown
record metrics-csv metrics study --format csv
record metrics-cmd metrics cmd --stale --format csv
record out-eval out study 'evaluate[loss=bce,hidden=16,seed=0]'
record report report study --out "$out/report.html"
record report-cmd report cmd --stage score --stale --out "$out/report-cmd.html"
record plot plot study --out "$out/plots"
record plot-cmd plot cmd --stage score --curves-stage score --out "$out/plots-cmd"
# Where the files went, and a panic's thread id, differ from call to call.
sed -i -e "s#$out#<out>#g" -e "s/thread 'main' ([0-9]*)/thread 'main'/" "$out"/*.out "$out"/*.err
# The page's generation time differs from call to call; nothing else may.
sed -i -E -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}(:[0-9]{2})? UTC/<time>/g' -e 's/by ablate [0-9.]* \([0-9a-f]*\)/by ablate <version>/' "$out"/report*.html
ls "$out" | wc -l
