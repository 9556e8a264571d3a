#!/usr/bin/env bash
# How `ablate plan` scales with the number of stages: a grid of three factors with N levels
# each over tiny trainings (N³ train stages plus the shared data and model), planned in a cache
# that exists, for N = 10, 22 and 46 (about 1k, 10k and 100k stages). Prints per size the
# stages, the fastest wall time of RUNS plans, its CPU time (user + system: less sensitive to a
# busy machine than the wall time) and the peak memory.
#   scripts/bench/plan-scale.sh            # RUNS=3 SIZES="10 22 46" by default
set -euo pipefail
cd "$(dirname "$0")/../.."
ablate=$PWD/${ABLATE:-target/release/ablate}
runs=${RUNS:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
for n in ${SIZES:-10 22 46}; do
    {
        echo "name: scale$n"
        echo "grid:"
        echo "  factors:"
        for factor in a b c; do
            echo "    $factor:"
            # a: the learning rate; b: the head's width; c: the seed.
            for ((i = 1; i <= n; i++)); do
                if [ $factor = a ]; then echo "      l$i: {a: ${i}e-5}"; else echo "      l$i: {$factor: $i}"; fi
            done
        done
        echo "stages:"
        echo "  data: {kind: synthetic, params: {size: 16, train: 32, val: 8, offsite_test: 8, onsite_test: 8}}"
        echo "  model: {kind: backbone, params: {arch: resnet18}}"
        echo "  train:"
        echo "    kind: train"
        echo "    inputs: {data: data, model: model}"
        echo "    params: {epochs: 1, batch_size: 8, lr: \"\${a}\", head_hidden: \"\${b}\", seed: \"\${c}\"}"
    } >"scale$n.yaml"
    # An existing cache: one variant run.
    "$ablate" run "scale$n.yaml" --set 'grid.only={a: l1, b: l1, c: l1}' >/dev/null 2>&1
    best=""
    for ((r = 0; r < runs; r++)); do
        /usr/bin/time -f "%e %U %S %M" -o time.txt "$ablate" plan "scale$n.yaml" >plan.txt
        read -r seconds user system kb <time.txt
        if [ -z "$best" ] || awk "BEGIN{exit !($seconds < $best)}"; then
            best=$seconds
            cpu=$(awk "BEGIN{print $user + $system}")
            mem=$kb
        fi
    done
    stages=$(tail -1 plan.txt | awk '{print $1}')
    echo "N=$n: $stages stages, plan ${best} s (CPU ${cpu} s), peak $((mem / 1024)) MB"
done
