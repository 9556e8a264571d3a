# The two commands of the README:
#   make run    installs libtorch if missing, builds, runs the quickstart pipeline
#   make test   installs libtorch if missing, builds, runs every test
# Variables: PIPELINE (default pipelines/quickstart.yaml), ARGS (extra `ablate run` arguments),
# LIBTORCH_HOME (where libtorch is installed; default .deps/libtorch-2.11.0).
LIBTORCH_HOME ?= $(CURDIR)/.deps/libtorch-2.11.0
export LIBTORCH := $(LIBTORCH_HOME)/torch
PIPELINE ?= pipelines/quickstart.yaml
ARGS ?=

.PHONY: run build test libtorch

run: build
	target/release/ablate run $(PIPELINE) $(ARGS)

# `ablate` is built without the torch feature so that it starts in milliseconds; the
# `ablate-torch` worker, which runs the device stages, links libtorch.
build: libtorch
	cargo build --release --bin ablate-torch
	cargo build --release --no-default-features --bin ablate

test: libtorch
	cargo test --release

libtorch: $(LIBTORCH)/lib/libtorch_cpu.so

$(LIBTORCH)/lib/libtorch_cpu.so:
	scripts/install-libtorch.sh $(LIBTORCH_HOME)
