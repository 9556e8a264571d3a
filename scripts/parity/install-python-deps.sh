#!/usr/bin/env bash
# Installs the Python packages the parity scripts need (torchvision, timm, safetensors,
# scikit-image and their dependencies) into DEST (default .deps/py) with pip --target --no-deps,
# at exact versions verified together with torch 2.11.0 on Python 3.11.
# torch itself comes from scripts/install-libtorch.sh (.deps/libtorch-2.11.0), which also brings
# filelock, fsspec, jinja2, networkx, sympy and typing_extensions. Use the result with
#   PYTHONPATH=.deps/py:.deps/libtorch-2.11.0 python3 ...
# Idempotent: nothing is installed when DEST already holds exactly these versions.
set -euo pipefail
dest=${1:-.deps/py}
pkgs=(
    torchvision==0.26.0      # matches torch==2.11.0
    timm==1.0.31
    safetensors==0.8.0
    huggingface_hub==0.36.2  # optional for timm (offline here); 0.x keeps the dependency set small
    hf-xet==1.8.0
    pyyaml==6.0.4
    tqdm==4.70.1
    requests==2.34.2
    urllib3==2.8.0
    idna==3.20
    charset_normalizer==3.5.3
    certifi==2026.10.19.post1
    scikit-image==0.26.0
    scipy==1.17.1
    imageio==2.38.1
    lazy_loader==0.6
    tifffile==2026.3.3
    pillow==13.0.0
    packaging==26.4
    numpy==2.4.6
)
"$(dirname "$0")/../pip-install-pinned.sh" "$dest" "parity Python packages" "${pkgs[@]}"
