#!/usr/bin/env bash
# The GPU-machine run of pipelines/paper.yaml on fundus-small (256², 25 epochs, 3 seeds) and the
# PyTorch comparison for ResNet18 full fine-tuning (Task 2.1 recipe) and Lite0 (Tasks 1.2 → 1.3).
#
# Here:   make build && cargo build --release --example parity && scripts/gpu-paper.sh stage
#         (fills .gpu/, git-ignored: binaries, fundus-small, the Lite0 weights)
# There:  scripts/gpu-paper.sh measure                    # device tool, carry [".gpu"]
# Prints the wall time of the whole grid, the per-variant table (mean ± std over seeds) and
# PyTorch's mean ± std for the same recipes, data, split and hyperparameters.
set -euo pipefail
case "${1:-}" in
stage)
    mkdir -p .gpu
    strip -o .gpu/ablate target/release/ablate
    strip -o .gpu/ablate-torch target/release/ablate-torch
    strip -o .gpu/parity target/release/examples/parity
    rm -rf .gpu/fundus-small
    cp -r ../shared/data/fundus-small .gpu/fundus-small
    cp ../shared/weights/tf_efficientnet_lite0.in1k.safetensors .gpu/
    du -sh .gpu
    ;;
measure)
    LD_LIBRARY_PATH="$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))')/lib"
    export LD_LIBRARY_PATH
    nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
    cache=${CACHE:-$(mktemp -d)}
    sets=(--set data=.gpu/fundus-small --set lite0_weights=.gpu/tf_efficientnet_lite0.in1k.safetensors ${SETS:-})
    start=$(date +%s.%N)
    .gpu/ablate run pipelines/paper.yaml --device cuda --cache "$cache" "${sets[@]}" | tail -3
    end=$(date +%s.%N)
    echo "paper grid wall time: $(echo "$end - $start" | bc) s"
    .gpu/ablate compare paper --cache "$cache" --format markdown
    ref() { echo "$cache/entries/$(cat "$cache/refs/paper/$1")/out"; }
    echo "PyTorch, ResNet18 Task 2.1 recipe (from ablate's ODIR-8 pre-training):"
    python3 scripts/reference/train_torch.py --data .gpu/fundus-small --arch resnet18 \
        --init "$(ref pretrain_model=resnet18_)/model.safetensors" --take backbone --lr 2e-5 --epochs 25 \
        --loss focal --gamma 1 --alpha 0.5 --seeds 0 1 2 --device cuda --out "$cache/torch-resnet18.json" | tail -1
    echo "PyTorch, Lite0 Task 1.2 (head only) then 1.3:"
    python3 scripts/reference/train_torch.py --data .gpu/fundus-small --arch efficientnet_lite0 \
        --init .gpu/tf_efficientnet_lite0.in1k.safetensors --take backbone --freeze backbone --lr 1e-3 --epochs 25 \
        --seeds 0 1 2 --device cuda --save-dir "$cache/torch-lite0-head" --out "$cache/torch-lite0-head.json" | tail -1
    python3 scripts/reference/train_torch.py --data .gpu/fundus-small --arch efficientnet_lite0 \
        --init "$cache/torch-lite0-head/seed{seed}/model.safetensors" --take all --lr 2e-5 --epochs 25 \
        --seeds 0 1 2 --device cuda --out "$cache/torch-lite0-full.json" | tail -1
    ;;
*)
    echo "usage: $0 stage|measure" >&2
    exit 2
    ;;
esac
