#!/usr/bin/env bash
# The study on the GPU machine (issues 15 and 16), in as few device calls as possible.
#
# Here, once:   make build weights && scripts/gpu/study.sh stage
#   fills .gpu/ (git-ignored) with parts that each fit the 64 MiB that travel per call: .gpu/a —
#   the stripped binaries, fundus-small and Lite0's ImageNet weights; .gpu/b, .gpu/c, … — Lite2's
#   weights and ODIR-5K's images at their native 384 px (load resizes; the `384` lever of
#   best.yaml reads fundus-small's ids, on-site test included, from them).
# There (device tool), one call per part, one after the other while the machine is warm:
#   carry [".gpu/a"]:  scripts/gpu/study.sh measure warm      (the binaries' check)
#   carry [".gpu/b"]:  scripts/gpu/study.sh measure            (each call gathers its part)
#   …
#   carry [".gpu/d"]:  BUDGET=540 scripts/gpu/study.sh measure paper torch vit best
#      (another call, `measure paper best`, continues whatever the budget cut: the cache stays on
#      the warm machine and interrupted trainings continue from their checkpoints)
# Steps:
#   paper  the whole pipelines/paper.yaml grid at 256 px, 25 epochs, 3 seeds on fundus-small, with
#          pre-training on all of ODIR-5K's training split; bf16, channels-last, CUDA graphs, GPU
#          slots from --gpu-slots auto; the wall time of the grid and of each training; then
#          compare (markdown, JSON), plot, and the GradCAM overlays of 3.2 and 4c-mha
#   torch  PyTorch (scripts/reference/train_torch.py) for ResNet18 Task 1.3 from ablate's
#          pre-trained backbone and Lite0-ImageNet 1.2 → 1.3, 3 seeds each, same data and recipe
#   vit    ablate bench for ViT-S beside scripts/bench/bench_torch.py (eager and compiled)
#   best   pipelines/best.yaml (issue 16), then compare on fundus-small's and fundus's offsite_test
# Everything comes back under $OUT (at most 8 files): study.md (tables and times), paper.json,
# best.json, curves.png, gradcam.tar (overlays), logs.tar.
set -uo pipefail
mode=${1:-}
shift || true
here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here"

stage() {
    rm -rf .gpu && mkdir -p .gpu/a
    strip -o .gpu/a/ablate target/release/ablate
    strip -o .gpu/a/ablate-torch target/release/ablate-torch
    cp -r ../shared/data/fundus-small .gpu/a/fundus-small
    cp ../shared/weights/tf_efficientnet_lite0.in1k.safetensors .gpu/a/
    # The rest, packed first-fit into parts of at most 60 MiB (the working tree travels too).
    python3 - <<'PACK'
import os, shutil
limit = 60 << 20
used = {"a": sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(".gpu/a") for f in fs)}
files = [(".deps/weights/tf_efficientnet_lite2.in1k.safetensors", "tf_efficientnet_lite2.in1k.safetensors")]
root = "../shared/data/fundus"
for d, _, fs in os.walk(root):
    files += [(os.path.join(d, f), os.path.join("fundus", os.path.relpath(os.path.join(d, f), root))) for f in sorted(fs)]
for source, target in files:
    size = os.path.getsize(source)
    part = next((p for p in used if used[p] + size <= limit), None)
    if part is None:
        part = chr(ord(max(used)) + 1)
        used[part] = 0
    used[part] += size
    os.makedirs(os.path.dirname(os.path.join(".gpu", part, target)), exist_ok=True)
    shutil.copyfile(source, os.path.join(".gpu", part, target))
PACK
    du -sh .gpu/*
}

measure() {
    local out=${OUT:-/tmp/study} scratch
    scratch=$(mktemp -d)
    mkdir -p "$out" "$scratch/logs"
    LD_LIBRARY_PATH="$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))')/lib"
    export LD_LIBRARY_PATH
    # Parts carried in separate calls meet in one place.
    for part in .gpu/?; do
        [ -d "$part/fundus" ] && mkdir -p .gpu/fundus && cp -rn "$part/fundus/." .gpu/fundus/
        [ -f "$part/tf_efficientnet_lite2.in1k.safetensors" ] && cp -n "$part"/tf_efficientnet_lite2.in1k.safetensors .gpu/
    done
    [ $# -eq 0 ] && { du -sh .gpu/fundus 2>/dev/null; return 0; }
    local ablate=.gpu/a/ablate cache=${CACHE:-.gpu/cache} started
    export ABLATE_TORCH_WORKER=$PWD/.gpu/a/ablate-torch
    started=$(date +%s)
    left() { echo $(( ${BUDGET:-100000} - ($(date +%s) - started) )); }
    local report=$out/study.md
    {
        echo "# Study on $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null || echo 'no GPU')"
        echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $(date -u '+%Y-%m-%d %H:%M UTC')"
    } >>"$report"
    local sets=(--device "${DEVICE:-cuda}" --set data=.gpu/a/fundus-small --set odir=.gpu/fundus
        --set lite0_weights=.gpu/a/tf_efficientnet_lite0.in1k.safetensors)
    local fast=(--set precision=bf16 --set channels_last=true --set cuda_graph=true)
    for step in "$@"; do
        case $step in
        warm)
            $ablate --version && .gpu/a/ablate-torch toolchain | tee -a "$report"
            ;;
        paper)
            local t=$(date +%s.%N)
            timeout -s INT "$(left)" $ablate run pipelines/paper.yaml --cache "$cache" --gpu-slots auto \
                "${sets[@]}" "${fast[@]}" ${PAPER_SETS:-} >"$scratch/logs/paper.log" 2>&1
            local rc=$?
            echo "paper grid: $(awk "BEGIN { print $(date +%s.%N) - $t }") s (exit $rc)" | tee -a "$report"
            { echo; echo "Wall time of each training (from the run's lines):"; echo '```'
              grep -E "^✓ (pretrain|head|finetune|vae_head|vae_finetune|vae)[[ ]" "$scratch/logs/paper.log"
              echo '```'; } >>"$report"
            $ablate status --cache "$cache" --last 1 | tee -a "$report"
            $ablate compare paper --cache "$cache" --split val,offsite_test --format markdown >>"$report"
            $ablate compare paper --cache "$cache" --format json >"$out/paper.json"
            $ablate plot paper --cache "$cache" --by task --out "$scratch/plots" && cp "$scratch/plots/curves.png" "$out/"
            # Seconds per training, from the stored metrics.
            $ablate metrics paper --cache "$cache" --format csv --out "$scratch/metrics.csv" 2>/dev/null \
                && grep -E ",images_per_second," "$scratch/metrics.csv" | wc -l | sed 's/^/per-epoch speed rows: /' >>"$report"
            mkdir -p "$scratch/gradcam"
            for task in 3.2 4c-mha; do
                for model in resnet18 efficientnet_b0; do
                    local dir
                    for name in "gradcam[model=$model,task=$task,seed=0]" "gradcam[model=$model,task=$task]"; do
                        dir=$($ablate out paper "$name" --cache "$cache" 2>/dev/null) \
                            && cp -r "$dir" "$scratch/gradcam/$model-$task" && break
                    done
                done
            done
            tar -C "$scratch" -cf "$out/gradcam.tar" gradcam
            ;;
        torch)
            local backbone
            backbone=$($ablate out paper "pretrain[model=resnet18]" --cache "$cache")/model.safetensors
            for recipe in resnet18 lite0; do
                local t=$(date +%s.%N)
                case $recipe in
                resnet18)
                    timeout "$(left)" python3 scripts/reference/train_torch.py --data .gpu/a/fundus-small --arch resnet18 \
                        --init "$backbone" --take backbone --freeze backbone --lr 1e-3 --epochs 25 --seeds 0 1 2 \
                        --device cuda --fused --save-dir "$scratch/r18-head" --out "$scratch/r18-head.json" >"$scratch/logs/torch-r18.log" 2>&1
                    timeout "$(left)" python3 scripts/reference/train_torch.py --data .gpu/a/fundus-small --arch resnet18 \
                        --init "$scratch/r18-head/seed{seed}/model.safetensors" --take all --lr 2e-5 --epochs 25 --seeds 0 1 2 \
                        --device cuda --fused --out "$out/torch-resnet18.json" >>"$scratch/logs/torch-r18.log" 2>&1
                    ;;
                lite0)
                    timeout "$(left)" python3 scripts/reference/train_torch.py --data .gpu/a/fundus-small --arch efficientnet_lite0 \
                        --init .gpu/a/tf_efficientnet_lite0.in1k.safetensors --take backbone --freeze backbone --lr 1e-3 \
                        --epochs 25 --seeds 0 1 2 --device cuda --fused --save-dir "$scratch/lite0-head" \
                        --out "$scratch/lite0-head.json" >"$scratch/logs/torch-lite0.log" 2>&1
                    timeout "$(left)" python3 scripts/reference/train_torch.py --data .gpu/a/fundus-small --arch efficientnet_lite0 \
                        --init "$scratch/lite0-head/seed{seed}/model.safetensors" --take all --lr 2e-5 --epochs 25 \
                        --seeds 0 1 2 --device cuda --fused --out "$out/torch-lite0.json" >>"$scratch/logs/torch-lite0.log" 2>&1
                    ;;
                esac
                echo "PyTorch $recipe, 3 seeds × (1.2 then 1.3): $(awk "BEGIN { print $(date +%s.%N) - $t }") s" | tee -a "$report"
                tail -2 "$scratch/logs/torch-$recipe.log" >>"$report"
            done
            ;;
        vit)
            timeout "$(left)" $ablate bench --device cuda --models vit_small_patch16_224 --batch-sizes 32,128 \
                --modes fp32,bf16-cl,bf16-cl-graph --warmup 5 --steps 10 --repeats 2 --json "$scratch/vit.json" >>"$report" 2>&1
            for compile in none reduce-overhead; do
                timeout "$(left)" python3 scripts/bench/bench_torch.py --device cuda --models vit_small_patch16_224 \
                    --batch-sizes 32,128 --warmup 5 --steps 10 --repeats 2 --compile "$compile" \
                    --compare "$scratch/vit.json" >>"$report" 2>&1
            done
            ;;
        best)
            local t=$(date +%s.%N)
            timeout -s INT "$(left)" $ablate run pipelines/best.yaml --cache "$cache" --gpu-slots auto \
                --device "${DEVICE:-cuda}" --set small=.gpu/a/fundus-small --set fundus=.gpu/fundus \
                --set lite0_weights=.gpu/a/tf_efficientnet_lite0.in1k.safetensors \
                --set lite2_weights=.gpu/tf_efficientnet_lite2.in1k.safetensors "${fast[@]}" ${BEST_SETS:-} \
                >"$scratch/logs/best.log" 2>&1
            local rc=$?
            echo "best.yaml: $(awk "BEGIN { print $(date +%s.%N) - $t }") s (exit $rc)" | tee -a "$report"
            grep -E "^✗" "$scratch/logs/best.log" | tee -a "$report"
            $ablate compare best --cache "$cache" --stage offsite,natural --format markdown >>"$report"
            $ablate compare best --cache "$cache" --stage offsite,natural --format json >"$out/best.json"
            ;;
        *) echo "unknown step $step" >&2; return 2 ;;
        esac
    done
    tar -C "$scratch" -cf "$out/logs.tar" logs
}

case $mode in
stage) stage ;;
measure) measure "$@" ;;
*) sed -n '2,25p' "$0"; exit 2 ;;
esac
