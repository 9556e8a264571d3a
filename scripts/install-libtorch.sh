#!/usr/bin/env bash
# Installs libtorch 2.11.0 (the version tch 0.24 binds) from the PyTorch wheel on PyPI into
# DEST (default .deps/libtorch-2.11.0); DEST/torch then has include/ and lib/. The wheel's
# dependencies (the CUDA runtime libraries that libtorch_cpu also loads) come with it.
# Idempotent: nothing is downloaded when DEST already holds it.
set -euo pipefail
dest=${1:-.deps/libtorch-2.11.0}
if [ -f "$dest/torch/lib/libtorch_cpu.so" ]; then
    exit 0
fi
echo "installing libtorch 2.11.0 into $dest (about 4.6 GB, once)" >&2
rm -rf "$dest.partial"
mkdir -p "$(dirname "$dest")"
python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
    --target "$dest.partial" torch==2.11.0
rm -rf "$dest"
mv "$dest.partial" "$dest"
