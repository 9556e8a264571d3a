#!/usr/bin/env bash
# The GPU-machine measurement of pipelines/odir-resnet18.yaml (256², 25 epochs) on fundus-small.
#
# Here (build, then stage what travels into .gpu/, which git ignores and the device tool carries):
#   make build && scripts/gpu-odir-resnet18.sh stage
# There (device tool: run with carry [".gpu"]):
#   scripts/gpu-odir-resnet18.sh measure
# It prints per-epoch training img/s, the best validation macro-F1, the off-site scores and the
# wall time of the whole run (load included), then a no-op re-run's wall time.
set -euo pipefail
case "${1:-}" in
stage)
    mkdir -p .gpu
    cp target/release/ablate target/release/ablate-torch .gpu/
    rm -rf .gpu/fundus-small
    cp -r ../shared/data/fundus-small .gpu/fundus-small
    du -sh .gpu
    ;;
measure)
    LD_LIBRARY_PATH="$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))')/lib"
    export LD_LIBRARY_PATH
    nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
    cache=$(mktemp -d)
    start=$(date +%s.%N)
    .gpu/ablate run pipelines/odir-resnet18.yaml --device cuda --cache "$cache" --set data=.gpu/fundus-small
    end=$(date +%s.%N)
    echo "wall time: $(echo "$end - $start" | bc) s"
    start=$(date +%s.%N)
    .gpu/ablate run pipelines/odir-resnet18.yaml --device cuda --cache "$cache" --set data=.gpu/fundus-small
    end=$(date +%s.%N)
    echo "no-op re-run: $(echo "$end - $start" | bc) s"
    ;;
*)
    echo "usage: $0 stage|measure" >&2
    exit 2
    ;;
esac
