#!/usr/bin/env bash
# The CPU edition of the study (pipelines/study-cpu.yaml) on this machine, and PyTorch beside
# it; docs/results.md's CPU section comes from what these steps print and write.
#
#   scripts/study/cpu.sh run        # the grid under nice, logged to $LOGS/run.log (1.5–2 h on 2 cores)
#   scripts/study/cpu.sh torch      # PyTorch's baseline on the same dataset artifact: Lite0
#                                   # ImageNet, Task 1.2 then 1.3, the grid's recipe, 3 seeds
#   scripts/study/cpu.sh publish    # compare's tables, curves, the report and its screenshot,
#                                   # GradCAM overlays of 3.2 and 4c → docs/results/cpu/
#
# Needs `make build` (and `make parity` for PyTorch's packages in .deps/py). LOGS (default
# .study-cpu/) keeps the logs and PyTorch's JSON.
set -euo pipefail
cd "$(dirname "$0")/../.."
ablate=${ABLATE:-target/release/ablate}
logs=${LOGS:-.study-cpu}
out=docs/results/cpu
mkdir -p "$logs"

torch_seeds() {
    # $1: task (1.2 or 1.3), then train_torch.py's arguments of that task.
    local task=$1
    shift
    PYTHONPATH=.deps/py:.deps/libtorch-2.11.0 /usr/bin/time -f "%e s wall" \
        python3 scripts/reference/train_torch.py --ablate-dataset "$dataset" \
        --arch efficientnet_lite0 --size 128 --batch-size 32 --epochs 6 --patience 2 \
        --seeds 0 1 2 --device cpu --loss bce --verbose "$@" --out "$logs/torch-$task.json" \
        2>&1 | tee "$logs/torch-$task.log"
}

for step in "$@"; do
    case $step in
    run)
        date -u +%FT%TZ >"$logs/started"
        nice -n 10 "$ablate" run pipelines/study-cpu.yaml --device cpu 2>&1 | tee "$logs/run.log"
        date -u +%FT%TZ >"$logs/ended"
        ;;
    torch)
        dataset=$("$ablate" out study-cpu load)
        # Task 1.2: the head on the frozen ImageNet backbone; Task 1.3 continues each seed's
        # best epoch with every parameter trainable, as paper.yaml's head → finetune.
        torch_seeds 1.2 --init ../shared/weights/tf_efficientnet_lite0.in1k.safetensors \
            --take backbone --freeze backbone --lr 1e-3 --save-dir "$logs/torch-1.2"
        torch_seeds 1.3 --init "$logs/torch-1.2/seed{seed}/model.safetensors" --take all \
            --freeze none --lr 1e-4
        ;;
    publish)
        mkdir -p "$out"
        "$ablate" compare study-cpu --split val,offsite_test --seeds-needed --format markdown \
            >"$out/compare.md"
        "$ablate" compare study-cpu --split offsite_test --metric macro_f1 --seeds-needed \
            --format json >"$out/compare.json"
        "$ablate" plot study-cpu --by task --out "$out"
        "$ablate" report study-cpu --out "$out/report.html"
        if command -v chromium >/dev/null; then
            chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
                --window-size=1400,2400 --screenshot="$out/report.png" \
                "file://$PWD/$out/report.html" 2>/dev/null
        fi
        for task in 3.2 4c-mha; do
            cam=$("$ablate" out study-cpu "gradcam[model=lite0_imagenet,task=$task,seed=0]")
            mkdir -p "$out/gradcam-$task"
            cp "$cam"/*.png "$out/gradcam-$task/" 2>/dev/null || true
            cp "$cam"/index.* "$out/gradcam-$task/" 2>/dev/null || true
        done
        "$ablate" status >"$out/status.txt"
        ;;
    *)
        echo "unknown step $step (run, torch, publish)" >&2
        exit 2
        ;;
    esac
done
