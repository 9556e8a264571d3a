#!/usr/bin/env bash
# The remote cache against a local nginx (docs/benchmarks.md, issue 29): a grid of 40 command
# stages, each writing FILES files of KB kilobytes of random bytes; `ablate push` of its results,
# `ablate pull` into an empty cache, and curl fetching the same 40 archives in one connection;
# then a no-op run with and without --remote.
#
#   scripts/bench/remote-cache.sh [FILES] [KB]      (default 50 files of 50 KB: 100 MB in all)
#
# Needs target/release/ablate (or ABLATE) and nginx (scripts/remote-cache-server.sh install).
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
ablate=${ABLATE:-$here/target/release/ablate}
files=${1:-50}
kb=${2:-50}
work=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
trap '"$here/scripts/remote-cache-server.sh" stop "$work/server"; rm -rf "$work"' EXIT
"$here/scripts/remote-cache-server.sh" start "$work/server" "$port"
remote=http://127.0.0.1:$port/bench
levels=$(seq -s, 0 39)
cat >"$work/grid.yaml" <<EOF
name: remote-bench
grid: {factors: {i: [$levels]}}
stages:
  make:
    kind: command
    params:
      run: [sh, -c, 'for f in \$(seq $files); do head -c ${kb}000 /dev/urandom > "\$ABLATE_OUT/\$f.bin"; done']
      env: {I: "\${i}"}
EOF
cd "$work"
seconds() {
    local start
    start=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    echo "$(date +%s.%N) - $start" | bc | sed 's/^\./0./' | cut -c1-5
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$ablate" --cache a run grid.yaml --device cpu >/dev/null 2>&1
echo "push of 40 results: $(seconds "$ablate" --cache a push --remote "$remote") s"
bytes=$(du -sb server/data/bench/cas | cut -f1)
echo "archives: $(ls server/data/bench/cas | wc -l), $((bytes / 1000000)) MB"
sync
echo "pull into an empty cache: $(seconds "$ablate" --cache b pull grid.yaml --remote "$remote") s"
urls=()
for blob in server/data/bench/cas/*; do
    urls+=(-o "curl/$(basename "$blob")" "$remote/cas/$(basename "$blob")")
done
mkdir -p curl
echo "curl, the same archives in one connection: $(seconds curl -s "${urls[@]}") s"
untar() { for archive in curl/*; do mkdir "x/${archive#curl/}" && tar -xf "$archive" -C "x/${archive#curl/}"; done; }
mkdir x
echo "tar -x of those archives into 40 folders: $(seconds untar) s"
"$ablate" --cache b verify >/dev/null && echo "pulled cache verifies"

noop() {
    local runs=()
    for _ in $(seq 10); do runs+=("$(seconds "$ablate" --cache a run grid.yaml --device cpu "$@")"); done
    printf '%s\n' "${runs[@]}" | sort -n | sed -n 5,6p | paste -sd' '
}
echo "no-op run, median pair of 10: without --remote $(noop) s; with --remote $(noop --remote "$remote") s"
"$here/scripts/remote-cache-server.sh" stop "$work/server"
echo "no-op run with --remote and the server stopped: $(noop --remote "$remote") s"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
