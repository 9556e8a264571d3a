#!/usr/bin/env bash
# Numeric parity check of the tch model ports against PyTorch torchvision/timm.
#
#   scripts/parity/parity.sh [--device cpu|cuda] [--size S] [--batch B] [--arch NAME]...
#
# 1. make_cases.py writes the PyTorch reference cases to target/parity/cases (CPU, fp32);
# 2. the Rust runner (target/release/examples/parity, or $PARITY_RUNNER) recomputes them on the
#    device into target/parity/ours, and compare.py checks logits / loss / gradients;
# 3. for each EfficientNet-Lite variant V (lite0 lite1 lite2, or $LITE_VARIANTS) whose ImageNet
#    weights exist, lite_top5.py writes timm's logits for sample photographs at V's native size
#    to target/parity/V, the runner recomputes them into target/parity/V-ours, and
#    lite_top5_compare.py checks the top-5 classes.
# Every step runs even when an earlier one failed; the exit status is non-zero if any failed.
# Environment: PYTHON (default python3); PYTHONPATH gets .deps/py and .deps/libtorch-2.11.0
# when .deps/py exists (scripts/parity/install-python-deps.sh); PARITY_RUNNER; LITE_VARIANTS;
# LITE0_WEIGHTS (default ../shared/weights/..., else .deps/weights/...), LITE1_WEIGHTS and
# LITE2_WEIGHTS (default .deps/weights/tf_efficientnet_liteN.in1k.safetensors, made by
# scripts/import-lite-weights.py --variant liteN);
# PARITY_COMPARE_ARGS / PARITY_LITE_ARGS: extra arguments
# (e.g. "--logits-tol 1e-3").
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
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
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
lite_variants=(${LITE_VARIANTS:-lite0 lite1 lite2})
lite_weights() {  # lite_weights V: the weights file of variant V ($LITEn_WEIGHTS, else the default)
    local v=$1 var file local_file=.deps/weights/tf_efficientnet_$1.in1k.safetensors
    var=$(echo "$v" | tr a-z A-Z)_WEIGHTS
    file=${!var:-}
    if [ -z "$file" ]; then
        file=$local_file
        [ "$v" = lite0 ] && file=/work/shared/weights/tf_efficientnet_lite0.in1k.safetensors
    fi
    if [ ! -f "$file" ] && [ -f "$local_file" ]; then
        file=$local_file
    fi
    echo "$file"
}
cases=target/parity/cases
ours=target/parity/ours

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

rm -rf "$cases" "$ours"
mkdir -p "$cases" "$ours"
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

for v in "${lite_variants[@]}"; do
    weights=$(lite_weights "$v")
    lite_dir=target/parity/$v
    lite_ours=target/parity/$v-ours
    rm -rf "$lite_dir" "$lite_ours"
    mkdir -p "$lite_dir" "$lite_ours"
    if [ ! -f "$weights" ]; then
        echo "== $v: no weights at $weights (scripts/import-lite-weights.py --variant $v makes them); skipped"
    elif step "${v}_top5" "$PYTHON" scripts/parity/lite_top5.py --variant "$v" --weights "$weights" \
            --out "$lite_dir"; then
        if [ ! -f "$lite_dir/$v-imagenet.safetensors" ]; then
            echo "== $v: no reference written (see above); top-5 check skipped"
        else
            if [ -x "$runner" ]; then
                step "runner_$v" "$runner" --device "$dev" --lite-imagenet "$weights" \
                    "$lite_dir/$v-imagenet.safetensors" "$lite_ours/$v-imagenet.safetensors"
            fi
            # shellcheck disable=SC2086
            step "${v}_compare" "$PYTHON" scripts/parity/lite_top5_compare.py "$lite_dir" "$lite_ours" \
                --variant "$v" --json "target/parity/$v-report.json" ${PARITY_LITE_ARGS:-}
        fi
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "parity: FAILED (${failed[*]})"
    exit 1
fi
echo "parity: all checks passed (device $dev, size $size)"
