#!/usr/bin/env bash
# ablate on the CPU beside PyTorch (docs/benchmarks.md, "On the CPU"), one measurement after the
# other on a quiet machine:
#   make build && scripts/bench/cpu.sh [train] [evaluate] [noop] [plan]      (default: all four)
# train     pipelines/speed.yaml at 128 px, batch 32, EPOCHS (4) epochs on fundus-small: the
#           whole `train` stage (its time on the run's line) and its images/s beside
#           scripts/reference/train_torch.py --device cpu on the same dataset artifact and recipe,
#           for resnet18 (random initialisation) and efficientnet_lite0 (ImageNet weights)
# evaluate  the `evaluate` stage of fundus-small's onsite_test (250 images) at 128 px, the whole
#           stage, beside PyTorch's inference on the same images (scripts/bench/infer_torch.py)
# noop      a no-op re-run of a 40-stage grid (best of RUNS); plan: `ablate plan` of paper.yaml
# ARCHS narrows the training step (default: resnet18 efficientnet_lite0), ROUNDS repeats it.
# PyTorch comes from the libtorch wheel (.deps), timm and friends from .deps/py (make parity).
set -euo pipefail
cd "$(dirname "$0")/../.."
ablate=$PWD/target/release/ablate
shared=$(cd ../shared && pwd)
epochs=${EPOCHS:-4}
runs=${RUNS:-10}
export PYTHONPATH=$PWD/.deps/py:$PWD/.deps/libtorch-2.11.0
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(train evaluate noop plan)

# Milliseconds of the fastest of $runs runs of a command.
fastest_ms() {
    local best=999999999 t0 t1
    for _ in $(seq "$runs"); do
        t0=$(date +%s%N)
        "$@" >/dev/null 2>&1
        t1=$(date +%s%N)
        best=$(( (t1 - t0) < best ? (t1 - t0) : best ))
    done
    echo "scale=1; $best / 1000000" | bc
}

# The mean images/s of a training's epochs, from ablate's stored metrics.
ablate_images_per_second() {
    "$ablate" metrics speed --cache "$1" --format csv --out "$scratch/metrics.csv" >/dev/null
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
        $col["metric"] == "images_per_second" { s += $col["value"]; n++ }
        END { printf "%.1f", s / n }' "$scratch/metrics.csv"
}

# Seconds of a stage on a run's log line (`✓ train 131.2s`).
stage_seconds() {
    grep -E "^✓ $2 " "$1" | sed -E 's/.* ([0-9.]+)s.*/\1/'
}

# A 42-stage grid (5 learning rates × 4 seeds of a tiny training and its evaluation), run once
# into $scratch/cache-grid; prints its stage count.
grid_cache() {
    if [ ! -f "$scratch/grid.yaml" ]; then
        cat >"$scratch/grid.yaml" <<EOF
name: noop
grid: {factors: {lr: {a: {lr: 0.001}, b: {lr: 0.0003}, c: {lr: 0.0001}, d: {lr: 0.00003}, e: {lr: 0.00001}}}, seeds: 4}
stages:
  data: {kind: synthetic, params: {size: 32, train: 16, val: 8, offsite_test: 8, onsite_test: 8}}
  model: {kind: backbone, params: {arch: resnet18}}
  train:
    kind: train
    inputs: {data: data, model: model}
    params: {epochs: 1, batch_size: 16, lr: "\${lr}", seed: "\${seed}", head_hidden: 8}
  evaluate: {kind: evaluate, inputs: {model: train, data: data}}
EOF
        "$ablate" run "$scratch/grid.yaml" --cache "$scratch/cache-grid" --device cpu >"$scratch/grid.log" 2>&1
    fi
    grep -c '^✓' "$scratch/grid.log"
}

for step in "${steps[@]}"; do
    case $step in
    train)
        # ROUNDS (2) rounds, each ablate then PyTorch: this VM's speed drifts by ±20 % over
        # minutes, so only the rounds' ratios compare.
        echo "| arch | round | ablate train stage (s) | ablate img/s | PyTorch per seed (s) | PyTorch img/s | ablate / PyTorch (img/s) |"
        echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
        for arch in ${ARCHS:-resnet18 efficientnet_lite0}; do
            local_sets=(--set size=128 --set "epochs=$epochs" --set "arch=$arch")
            torch_init=()
            if [ "$arch" = efficientnet_lite0 ]; then
                weights=$shared/weights/tf_efficientnet_lite0.in1k.safetensors
                local_sets+=(--set "stages.model.params.weights=$weights")
                torch_init=(--init "$weights" --take backbone)
            fi
            for round in $(seq "${ROUNDS:-2}"); do
                cache=$scratch/cache-$arch-$round
                "$ablate" run pipelines/speed.yaml --cache "$cache" --device cpu --set "data=$shared/data/fundus-small" \
                    "${local_sets[@]}" >"$scratch/run.log" 2>&1
                train_s=$(stage_seconds "$scratch/run.log" train)
                ours=$(ablate_images_per_second "$cache")
                dataset=$("$ablate" out speed load --cache "$cache")
                python3 scripts/reference/train_torch.py --ablate-dataset "$dataset" --size 128 --arch "$arch" \
                    "${torch_init[@]}" --lr 1e-3 --epochs "$epochs" --batch-size 32 --seeds 0 --device cpu \
                    --test-split offsite_test --out "$scratch/torch.json" >/dev/null
                read -r theirs_s theirs <<<"$(python3 -c "
import json; r = json.load(open('$scratch/torch.json'))['seeds'][0]
e = r['epochs']; print(round(r['seconds'], 1), round(sum(x['images_per_second'] for x in e) / len(e), 1))")"
                echo "| $arch | $round | $train_s | $ours | $theirs_s | $theirs | $(echo "scale=2; $ours / $theirs" | bc) |"
            done
        done
        ;;
    evaluate)
        # One epoch of training, then the evaluate stage of onsite_test; its time on the run's
        # line is the whole stage (worker hand-off, model and dataset read, inference, metrics).
        sets=(--device cpu --set "data=$shared/data/fundus-small" --set size=128 --set epochs=1
            --set "stages.load.params.splits=[train, val, onsite_test]" --set stages.offsite.params.split=onsite_test)
        best=999
        for i in 1 2; do
            cache=$scratch/cache-eval-$i
            "$ablate" run pipelines/speed.yaml --cache "$cache" "${sets[@]}" >"$scratch/eval.log" 2>&1
            seconds=$(stage_seconds "$scratch/eval.log" offsite)
            best=$(echo "if ($seconds < $best) $seconds else $best" | bc)
        done
        model=$("$ablate" out speed train --cache "$cache")/model.safetensors
        dataset=$("$ablate" out speed load --cache "$cache")
        echo "ablate evaluate stage (250 images, 128 px, resnet18): ${best} s (faster of 2)"
        for i in 1 2; do
            python3 scripts/bench/infer_torch.py --model "$model" --dataset "$dataset" --split onsite_test
        done
        ;;
    noop)
        echo "no-op re-run of a $(grid_cache)-stage grid: $(fastest_ms "$ablate" run "$scratch/grid.yaml" --cache "$scratch/cache-grid" --device cpu) ms (fastest of $runs)"
        ;;
    plan)
        # In a cache that exists (the stat cache and the worker's versions are kept there).
        grid_cache >/dev/null
        "$ablate" plan pipelines/paper.yaml --cache "$scratch/cache-grid" >/dev/null
        echo "plan of pipelines/paper.yaml ($("$ablate" plan pipelines/paper.yaml --cache "$scratch/cache-grid" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') stages): $(fastest_ms "$ablate" plan pipelines/paper.yaml --cache "$scratch/cache-grid") ms (fastest of $runs)"
        ;;
    *) echo "unknown step $step" >&2; exit 2 ;;
    esac
done
