#!/usr/bin/env bash
# Installs what scripts/ablate_io.py and its tests need (numpy, safetensors, pytest and its
# dependencies) into DEST (default .deps/python-io) with pip --target --no-deps, at exact
# versions (numpy and safetensors as scripts/parity/install-python-deps.sh pins them). torch
# comes from scripts/install-libtorch.sh. Use the result with
#   PYTHONPATH=.deps/python-io:.deps/libtorch-2.11.0:scripts python3 ...
# Idempotent: nothing is installed when DEST already holds exactly these versions.
set -euo pipefail
dest=${1:-.deps/python-io}
pkgs=(
    numpy==2.4.6
    safetensors==0.8.0
    pytest==9.2.0
    pluggy==1.7.0
    iniconfig==2.3.1
    packaging==26.4
    pygments==2.21.0
)
"$(dirname "$0")/pip-install-pinned.sh" "$dest" "Python packages of scripts/ablate_io.py" "${pkgs[@]}"
