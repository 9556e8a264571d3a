#!/usr/bin/env bash
# The CPU edition of the study (pipelines/study-cpu.yaml) on this machine, and PyTorch beside
# it; docs/results.md's CPU section comes from what these steps print and write.
#
#   scripts/study/cpu.sh run        # the grid under nice, logged to $LOGS/run.log (1.5–2 h on 2 cores)
#   scripts/study/cpu.sh torch      # PyTorch's baseline on the same dataset artifact: Lite0
#                                   # ImageNet, Task 1.2 then 1.3, the grid's recipe, 3 seeds
#   scripts/study/cpu.sh publish    # compare's tables, curves, the report's screenshot, GradCAM
#                                   # maps of 3.2 and 4c and their sharpness → docs/results/cpu/
#
# Needs `make build`, and scripts/parity/install-python-deps.sh for the packages of `torch` and
# `publish` in .deps/py; `publish` screenshots the report with chromium when it is installed.
# LOGS (default .study-cpu/) keeps the logs, PyTorch's JSON and the report page.
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
        # Nothing here holds fundus pixels (their licence keeps them out of the repository):
        # the report page, which embeds GradCAM overlays, stays in $logs beside its screenshot.
        mkdir -p "$out"
        "$ablate" compare study-cpu --split val,offsite_test --seeds-needed --format markdown \
            >"$out/compare.md"
        "$ablate" compare study-cpu --split offsite_test --seeds-needed --format markdown \
            >"$out/compare-offsite.md"
        # The attention blocks against their own loss (Task 3 trains with class-balanced BCE,
        # 2.2), and Task 4 against the 3.2 it changes.
        "$ablate" compare study-cpu --split offsite_test --baseline model=lite0_imagenet,task=2.2 \
            --where task=2.2,3.1,3.2 --seeds-needed --format markdown >"$out/compare-attention.md"
        "$ablate" compare study-cpu --split offsite_test --baseline model=lite0_imagenet,task=3.2 \
            --where task=3.2,4a-3.2,4c-mha --seeds-needed --format markdown >"$out/compare-task4.md"
        "$ablate" compare study-cpu --split offsite_test --metric macro_f1 --seeds-needed \
            --format json >"$out/compare.json"
        "$ablate" plot study-cpu --by task --out "$out"
        "$ablate" report study-cpu --out "$logs/report.html"
        if command -v chromium >/dev/null; then
            chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
                --window-size=1400,2400 --screenshot="$out/report.png" \
                "file://$PWD/$logs/report.html" 2>/dev/null
        fi
        # GradCAM of 3.2 and 4c: how sharp the maps are over the seeds, and the maps alone.
        cams=()
        for task in 3.2 4c-mha; do
            cams+=(--task "$task")
            for seed in 0 1 2; do
                cams+=("$("$ablate" out study-cpu "gradcam[model=lite0_imagenet,task=$task,seed=$seed]")")
            done
        done
        PYTHONPATH=.deps/py python3 scripts/study/gradcam_maps.py "${cams[@]}" \
            --out "$out/gradcam-maps.png" --json "$out/gradcam-maps.json" | tee "$out/gradcam-maps.txt"
        "$ablate" plan pipelines/study-cpu.yaml >"$out/plan.txt"
        "$ablate" status >"$out/status.txt"
        cp "$logs/run.log" "$out/run.log"
        if [ -f "$logs/torch-1.3.json" ]; then
            mkdir -p "$out/torch"
            cp "$logs"/torch-1.[23].log "$logs"/torch-1.[23].json "$out/torch/"
        fi
        ;;
    *)
        echo "unknown step $step (run, torch, publish)" >&2
        exit 2
        ;;
    esac
done
