# replearn: set-up, tests and JupyterLab in two commands.
#   make lab    install what is missing, then open JupyterLab on notebooks/
#   make test   install what is missing, then run every test
# Both are idempotent. Heavy caches live outside the checkout, in
# $(REPLEARN_CACHE): the cargo target folder, uv's wheel cache, the pre-built
# kernel folders. The venv (.venv) is per checkout; uv fills it from its cache
# with hard links, in seconds once the wheels are cached.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
ROOT := $(abspath .)
REPLEARN_CACHE ?= $(HOME)/.cache/replearn
export REPLEARN_CACHE
export CARGO_TARGET_DIR ?= $(REPLEARN_CACHE)/target
export UV_CACHE_DIR ?= $(REPLEARN_CACHE)/uv
# tch 0.24 builds against the venv's torch==2.11.0.
export LIBTORCH_USE_PYTORCH := 1
VENV := $(ROOT)/.venv
export VIRTUAL_ENV := $(VENV)
export PATH := $(VENV)/bin:$(PATH)
UV := $(REPLEARN_CACHE)/tools/bin/uv
UV_VERSION := 0.13.9
CARGO_JOBS ?= $(shell nproc)
RELEASE := $(CARGO_TARGET_DIR)/release
BINARIES := replearn-kernel replearn-grade

.PHONY: lab test setup venv rust-src binaries kernel bench stl10-probes shapes-factor-table gradescope data-stl10 clean-kernel-cache

# A spare kernel starts first (it ends with JupyterLab), so the first notebook opens at once.
lab: setup
	cd notebooks && replearn-kernel prestart --watch $$$$ && exec jupyter lab --notebook-dir=$(ROOT)/notebooks $(LAB_ARGS)

test: setup
	$(CARGO_TEST)

# Everything a notebook needs: venv, binaries, kernelspec, pre-built kernel folder.
setup: kernel

$(UV):
	python3 -m venv $(REPLEARN_CACHE)/tools
	$(REPLEARN_CACHE)/tools/bin/pip install -q uv==$(UV_VERSION)

$(VENV)/.installed: requirements.txt | $(UV)
	$(UV) venv -q --allow-existing --python python3 $(VENV)
	$(UV) pip install -q --python $(VENV)/bin/python -r requirements.txt
	touch $@

venv: $(VENV)/.installed

rust-src:
	@rustup component list --installed 2>/dev/null | grep -q '^rust-src' || rustup component add rust-src

# One cargo invocation for set-up and tests (`cargo test --no-run` also builds
# the binaries), so both see the same features and nothing is built twice.
# cargo decides what to rebuild; when nothing changed this takes seconds.
CARGO_TEST := cargo test --release --workspace -j $(CARGO_JOBS)
binaries: venv rust-src
	$(CARGO_TEST) --no-run
	@for b in $(BINARIES); do cmp -s $(RELEASE)/$$b $(VENV)/bin/$$b || install -m 755 $(RELEASE)/$$b $(VENV)/bin/$$b; done

kernel: binaries
	$(VENV)/bin/replearn-kernel install --venv $(VENV)
	$(VENV)/bin/replearn-grade warm

# Benchmarks print markdown tables (figures in the README).
bench: setup
	$(VENV)/bin/python scripts/bench_kernel.py
	$(VENV)/bin/python scripts/bench_train_step.py
	$(VENV)/bin/python scripts/bench_grade.py

# The assignments' full-budget runs outside the notebooks; each prints a
# markdown table (figures in the README). Pass options in ARGS, e.g.
#   make stl10-probes ARGS="--stand-in data/stl10_stand_in"
#   make shapes-factor-table ARGS="--images 16000 --train 10000 --ae-epochs 4 --cl-epochs 6"
stl10-probes shapes-factor-table: venv
	cargo run --release --example $(subst -,_,$@) -- $(ARGS)

# The only downloads replearn makes, on request: the official STL-10 archive
# (2.6 GB) into data/, resumable, checked by MD5, unpacked to data/stl10_binary.
data-stl10: venv
	$(VENV)/bin/python scripts/fetch_data.py stl10 --dest data

# A Gradescope autograder zip for one assignment (README, "Grading on Gradescope"):
#   make gradescope NOTEBOOK=notebooks/01_shapes_source.ipynb [BUNDLE=out.zip] [TIMEOUT=600] [MEMORY_MB=4096]
NOTEBOOK ?= notebooks/01_shapes_source.ipynb
BUNDLE ?= $(basename $(notdir $(NOTEBOOK)))_gradescope.zip
TIMEOUT ?= 600
MEMORY_MB ?= 4096
gradescope: setup
	scripts/gradescope_bundle.sh $(NOTEBOOK) $(BUNDLE) $(TIMEOUT) $(MEMORY_MB)

clean-kernel-cache:
	rm -rf $(REPLEARN_CACHE)/evcxr
