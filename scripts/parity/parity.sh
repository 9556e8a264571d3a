#!/usr/bin/env bash
# Numeric parity check of the tch model ports against PyTorch torchvision/timm.
#
#   scripts/parity/parity.sh [--device cpu|cuda] [--size S] [--batch B] [--arch NAME]...
#
# 1. make_cases.py writes the PyTorch reference cases to target/parity/cases (CPU, fp32);
# 2. the Rust runner (target/release/examples/parity, or $PARITY_RUNNER) recomputes them on the
#    device into target/parity/ours, and compare.py checks logits / loss / gradients;
# 3. lite0_top5.py writes timm's ImageNet logits of EfficientNet-Lite0 for sample photographs
#    to target/parity/lite0, the runner recomputes them into target/parity/lite0-ours, and
#    lite0_top5_compare.py checks the top-5 classes.
# Every step runs even when an earlier one failed; the exit status is non-zero if any failed.
# Environment: PYTHON (default python3); PYTHONPATH gets .deps/py and .deps/libtorch-2.11.0
# when .deps/py exists (scripts/parity/install-python-deps.sh); PARITY_RUNNER; LITE0_WEIGHTS;
# PARITY_COMPARE_ARGS / PARITY_LITE0_ARGS: extra arguments (e.g. "--logits-tol 1e-3").
set -uo pipefail

dev=cpu
size=256
batch=4
archs=()
while [ $# -gt 0 ]; do
    case "$1" in
        --device) dev=$2; shift 2 ;;
        --device=*) dev=${1#*=}; shift ;;
        --size) size=$2; shift 2 ;;
        --size=*) size=${1#*=}; shift ;;
        --batch) batch=$2; shift 2 ;;
        --batch=*) batch=${1#*=}; shift ;;
        --arch) archs+=("$2"); shift 2 ;;
        --arch=*) archs+=("${1#*=}"); shift ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "parity.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root" || exit 2

PYTHON=${PYTHON:-python3}
if [ -d .deps/py ]; then
    pp="$root/.deps/py"
    [ -d .deps/libtorch-2.11.0 ] && pp="$pp:$root/.deps/libtorch-2.11.0"
    export PYTHONPATH="$pp${PYTHONPATH:+:$PYTHONPATH}"
fi
runner=${PARITY_RUNNER:-target/release/examples/parity}
weights=${LITE0_WEIGHTS:-/work/shared/weights/tf_efficientnet_lite0.in1k.safetensors}
if [ ! -f "$weights" ] && [ -f .deps/weights/tf_efficientnet_lite0.in1k.safetensors ]; then
    weights=.deps/weights/tf_efficientnet_lite0.in1k.safetensors
fi
cases=target/parity/cases
ours=target/parity/ours
lite0_dir=target/parity/lite0
lite0_ours=target/parity/lite0-ours

failed=()
step() {  # step NAME CMD...
    local name=$1; shift
    echo "== $name: $*"
    if ! "$@"; then
        echo "== $name FAILED"
        failed+=("$name")
        return 1
    fi
}

if [ ! -x "$runner" ]; then
    echo "parity.sh: no runner at $runner (cargo build --release --example parity)" >&2
    failed+=("runner missing")
fi

rm -rf "$cases" "$ours" "$lite0_dir" "$lite0_ours"
mkdir -p "$cases" "$ours" "$lite0_dir" "$lite0_ours"
arch_args=()
[ ${#archs[@]} -gt 0 ] && arch_args=(--arch "${archs[@]}")

if step make_cases "$PYTHON" scripts/parity/make_cases.py --out "$cases" --size "$size" --batch "$batch" \
        "${arch_args[@]}"; then
    if [ -x "$runner" ]; then
        step runner "$runner" --device "$dev" "$cases" "$ours"
    fi
    # shellcheck disable=SC2086
    step compare "$PYTHON" scripts/parity/compare.py "$cases" "$ours" --json target/parity/report.json \
        ${PARITY_COMPARE_ARGS:-}
fi

if [ ! -f "$weights" ]; then
    echo "== lite0: no weights at $weights (scripts/import-lite0-weights.py makes them); skipped"
elif step lite0_top5 "$PYTHON" scripts/parity/lite0_top5.py --weights "$weights" --out "$lite0_dir"; then
    if [ ! -f "$lite0_dir/lite0-imagenet.safetensors" ]; then
        echo "== lite0: no reference written (see above); top-5 check skipped"
    else
        if [ -x "$runner" ]; then
            step runner_lite0 "$runner" --device "$dev" --lite0-imagenet "$weights" \
                "$lite0_dir/lite0-imagenet.safetensors" "$lite0_ours/lite0-imagenet.safetensors"
        fi
        # shellcheck disable=SC2086
        step lite0_compare "$PYTHON" scripts/parity/lite0_top5_compare.py "$lite0_dir" "$lite0_ours" \
            --json target/parity/lite0-report.json ${PARITY_LITE0_ARGS:-}
    fi
fi

if [ ${#failed[@]} -gt 0 ]; then
    echo "parity: FAILED (${failed[*]})"
    exit 1
fi
echo "parity: all checks passed (device $dev, size $size)"
