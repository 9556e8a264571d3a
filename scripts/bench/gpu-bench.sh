#!/usr/bin/env bash
# Issue 7's measurements on the GPU machine, PyTorch's in the same call (docs/benchmarks.md):
#   1. end to end: pipelines/speed.yaml (ResNet18, 25 epochs on fundus-small), fp32 and bf16 +
#      channels-last, eager and as a CUDA graph: the first with a fresh cache, the others with
#      the dataset cached; PyTorch's train_torch.py on the same data (GPU-resident, fused Adam, fp32);
#   2. steady-state training img/s: `ablate bench` (also -graph modes) and scripts/bench/bench_torch.py;
#   3. 16 variants of the paper grid (ResNet18 and EfficientNet-B0 × Tasks 1.2–3.2, 4c; one
#      seed; bf16 + channels-last) with --gpu-slots $SLOTS (default 4);
#   4. the numeric parity of every model on CUDA (scripts/parity/parity.sh --device cuda).
# Here:   make build && cargo build --release --example parity && scripts/gpu-paper.sh stage
# There:  scripts/bench/gpu-bench.sh [STEPS]     # device tool, carry [".gpu"]; STEPS: e.g. "speed bench"
# Logs and JSON go to $OUT (the device tool's folder) or /tmp/gpu-bench. DEVICE, SIZE, EPOCHS
# and BENCH_ARGS shrink it for a smoke test on a CPU, e.g. DEVICE=cpu SIZE=32 EPOCHS=1
# BENCH_ARGS="--models resnet18 --batch-sizes 4 --warmup 1 --steps 2 --repeats 1".
set -uo pipefail
steps=${1:-speed bench grid parity}
out=${OUT:-/tmp/gpu-bench}
scratch=$(mktemp -d)   # what need not come back (the device tool returns at most 8 files)
mkdir -p "$out"
LD_LIBRARY_PATH="$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))')/lib"
export LD_LIBRARY_PATH
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
ablate=.gpu/ablate
device=${DEVICE:-cuda}
size=${SIZE:-256}
epochs=${EPOCHS:-25}
bench_args=${BENCH_ARGS:---warmup 5 --steps 10 --repeats 2}
ablate_modes=${ABLATE_MODES:-fp32,bf16-cl,fp32-graph,bf16-cl-graph}
data=(--device "$device" --set data=.gpu/fundus-small --set size="$size" --set epochs="$epochs")
now() { date +%s.%N; }
started=$(date +%s)
# BUDGET (seconds for the whole script) cuts the grid's timeout to what is left.
left() { echo $(( ${BUDGET:-100000} - ($(date +%s) - started) - 5 )); }
since() { awk "BEGIN { printf \"%.1f\", $(now) - $1 }"; }

for step in $steps; do
case $step in
speed)
    # The first mode with a fresh cache (dataset decoded), the others with the dataset cached.
    cache=$(mktemp -d)
    for mode in ${SPEED_MODES:-fp32 bf16-cl fp32-graph bf16-cl-graph}; do
        sets=("${data[@]}")
        case $mode in bf16*) sets+=(--set precision=bf16) ;; esac
        case $mode in *-cl*) sets+=(--set channels_last=true) ;; esac
        case $mode in *-graph) sets+=(--set cuda_graph=true) ;; esac
        t=$(now)
        timeout 120 $ablate run pipelines/speed.yaml --cache "$cache" "${sets[@]}" >"$scratch/speed.log" 2>&1
        rc=$?
        echo "speed $mode: $(since "$t") s (exit $rc)"
        grep -E "✓|epoch (1|2|25)/|^train:|^offsite:" "$scratch/speed.log" | head -12
        { echo "== speed $mode"; cat "$scratch/speed.log"; } >>"$out/speed.log"
    done
    if [ -n "${TORCH_E2E-1}" ]; then
        t=$(now)
        timeout 200 python3 scripts/reference/train_torch.py --data .gpu/fundus-small --arch resnet18 --epochs "$epochs" \
            --size "$size" --seeds 0 --device "$device" --fused --out "$scratch/torch-speed.json" >"$out/torch-speed.log" 2>&1
        echo "PyTorch train_torch.py, same recipe, fp32: $(since "$t") s (process wall)"
        tail -3 "$out/torch-speed.log"
    fi
    ;;
bench)
    # CUDA graphs pay at small batches: batch 32 in every mode, batch 128 eager only.
    # shellcheck disable=SC2086
    timeout 240 $ablate bench --device "$device" --size "$size" --batch-sizes 32 --modes "$ablate_modes" $bench_args --json "$scratch/ablate-bench-32.json"
    # shellcheck disable=SC2086
    timeout 240 $ablate bench --device "$device" --size "$size" --batch-sizes 128 $bench_args --json "$scratch/ablate-bench-128.json"
    python3 -c 'import json, sys; print(json.dumps(sum((json.load(open(f)) for f in sys.argv[2:]), [])), file=open(sys.argv[1], "w"))' \
        "$out/ablate-bench.json" "$scratch/ablate-bench-32.json" "$scratch/ablate-bench-128.json"
    # shellcheck disable=SC2086
    timeout 240 python3 scripts/bench/bench_torch.py --device "$device" --size "$size" $bench_args \
        --json "$out/torch-bench.json" --compare "$out/ablate-bench.json"
    ;;
grid)
    cache=$(mktemp -d)
    only='grid.only={model: [resnet18, efficientnet_b0], task: ["1.2", "1.3", "2.1", "2.2", "3.1", "3.2", "4c-se", "4c-mha"]}'
    t=$(now)
    limit=$(left)
    [ "$limit" -gt 300 ] && limit=300
    [ "$limit" -lt 30 ] && { echo "grid skipped: ${limit} s left"; continue; }
    timeout "$limit" $ablate run pipelines/paper.yaml --gpu-slots "${SLOTS:-4}" --cache "$cache" "${data[@]}" \
        --set pretrain_epochs="$epochs" --set grid.seeds=1 --set precision=bf16 --set channels_last=true ${GRID_SETS:-} --set "$only" >"$out/grid.log" 2>&1
    rc=$?
    echo "paper grid, 16 variants, --gpu-slots ${SLOTS:-4} ${GRID_SETS:-}: $(since "$t") s (exit $rc; timeout ${limit} s)"
    grep -c "✓" "$out/grid.log" | sed 's/$/ stages done/'
    tail -2 "$out/grid.log"
    $ablate compare paper --cache "$cache" --split offsite_test --format markdown >"$out/grid-compare.md" 2>&1
    head -22 "$out/grid-compare.md"
    ;;
parity)
    PARITY_RUNNER=.gpu/parity LITE0_WEIGHTS=.gpu/tf_efficientnet_lite0.in1k.safetensors \
        timeout 200 scripts/parity/parity.sh --device "$device" >"$out/parity.log" 2>&1
    echo "parity ($device): exit $?"
    grep -iE "^== |pass|fail|max" "$out/parity.log" | tail -25
    ;;
*) echo "unknown step $step" >&2; exit 2 ;;
esac
done
