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
# Every set-up step names itself and, when it fails, what to do (scripts/setup-step).
STEP := $(ROOT)/scripts/setup-step
# JupyterLab refuses to start as root without --allow-root; containers run as root.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: lab test setup toolchain venv rust-src fetch binaries kernel browser slurm hub-proxy assign bench stl10-probes shapes-factor-table vit-cpu-budget dry-part-budget gradescope data-stl10 clean-kernel-cache

# A spare kernel starts first (it ends with JupyterLab), so the first notebook opens at once.
lab: setup
	@if [ -n "$(ALLOW_ROOT)" ]; then echo "make lab: you are root (usual in a container), so JupyterLab starts with --allow-root"; fi
	cd notebooks && replearn-kernel prestart --watch $$$$ && exec jupyter lab --notebook-dir=$(ROOT)/notebooks $(ALLOW_ROOT) $(LAB_ARGS)

test: setup browser slurm hub-proxy
	$(CARGO_TEST)

# Debian's Chromium for the browser test (Playwright from the venv drives it;
# no browser is downloaded).
CHROMIUM ?= /usr/bin/chromium
browser: | toolchain
	@test -x $(CHROMIUM) || $(STEP) "installing Debian's chromium for the browser test" \
	  "install it as root: sudo apt-get install chromium (or set CHROMIUM to another Chromium binary)" \
	  bash -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium'

# Debian's Slurm for the test of the Slurm grading recipe (kernels/tests/slurm.rs).
slurm: | toolchain
	@command -v slurmctld >/dev/null && command -v sbatch >/dev/null || $(STEP) "installing Debian's slurm-wlm for the test of the Slurm grading recipe" \
	  "install it as root: sudo apt-get install slurm-wlm" \
	  bash -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm'

# JupyterHub's proxy (configurable-http-proxy, from the npm registry, at the
# version deploy/hub/package-lock.json pins) for the JupyterHub test
# (kernels/tests/hub.rs); jupyterhub itself is in requirements.txt.
HUB_PROXY := $(REPLEARN_CACHE)/hub-proxy
hub-proxy: $(HUB_PROXY)/.installed
$(HUB_PROXY)/.installed: deploy/hub/package.json deploy/hub/package-lock.json | toolchain
	@$(STEP) "installing configurable-http-proxy (JupyterHub's proxy) from the npm registry into $(HUB_PROXY)" \
	  "install Node.js 20 or newer with npm (Debian: apt install nodejs npm) and check that registry.npmjs.org is reachable" \
	  bash -c 'mkdir -p $(HUB_PROXY) && cp deploy/hub/package.json deploy/hub/package-lock.json $(HUB_PROXY)/ && cd $(HUB_PROXY) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error'
	touch $@

# Everything a notebook needs: venv, binaries, kernelspec, pre-built kernel folder.
setup: kernel

# Rust 1.95 (evcxr 0.22.0 needs it) and Python 3.11 or newer.
toolchain:
	@$(STEP) "checking Rust (1.95 or newer) and Python (3.11 or newer)" \
	  "install Rust with rustup (https://rustup.rs, then: rustup default 1.95) and Python 3.11 with its venv module (Debian: apt install python3 python3-venv)" \
	  bash -c 'v=$$(rustc --version) && echo "$$v" && [ "$$(printf "%s\n1.95.0\n" "$$(echo $$v | cut -d" " -f2)" | sort -V | head -1)" = 1.95.0 ] && python3 -c "import sys, venv; print(sys.version.split()[0]); assert sys.version_info >= (3, 11)"'

$(UV): | toolchain
	@$(STEP) "installing uv $(UV_VERSION) (a fast pip) into $(REPLEARN_CACHE)/tools" \
	  "uv comes from PyPI through Python's venv and pip: install python3-venv (Debian) and check that pypi.org is reachable" \
	  bash -c 'python3 -m venv $(REPLEARN_CACHE)/tools && $(REPLEARN_CACHE)/tools/bin/pip install -q uv==$(UV_VERSION)'

$(VENV)/.installed: requirements.txt | $(UV)
	@$(STEP) "installing torch 2.11.0 (libtorch), JupyterLab and the rest of requirements.txt into .venv (about 5 GB of wheels, cached in $(UV_CACHE_DIR))" \
	  "check that pypi.org is reachable and that the disk holding $(UV_CACHE_DIR) has 6 GB free" \
	  bash -c '$(UV) venv -q --allow-existing --python python3 $(VENV) && $(UV) pip install -q --python $(VENV)/bin/python -r requirements.txt'
	touch $@

venv: $(VENV)/.installed

rust-src: | toolchain
	@rustup component list --installed 2>/dev/null | grep -q '^rust-src' || $(STEP) "adding the rust-src component (evcxr's type inference reads the standard library's sources)" \
	  "run: rustup component add rust-src" rustup component add rust-src

# Every crate of Cargo.lock, for every platform: the kernel's build folder
# resolves with that same lock (its cargo runs offline, and `cargo metadata`
# wants the crates of other platforms too).
fetch: | toolchain
	@$(STEP) "fetching every crate that Cargo.lock pins (crates.io, cached in $${CARGO_HOME:-~/.cargo})" \
	  "check that crates.io is reachable (or the mirror in your cargo config). If cargo says the lock file needs to be updated, Cargo.lock was changed by hand: git checkout Cargo.lock" \
	  cargo fetch --locked

# One cargo invocation for set-up and tests (`cargo test --no-run` also builds
# the binaries), so both see the same features and nothing is built twice.
# cargo decides what to rebuild; when nothing changed this takes seconds.
CARGO_TEST := cargo test --release --workspace --locked -j $(CARGO_JOBS)
binaries: venv rust-src fetch
	@$(STEP) "compiling the library, its tests and the two binaries into $(CARGO_TARGET_DIR) (about 12 minutes the first time on 2 cores)" \
	  "the message above names the crate that failed. A C++ compiler (g++) is needed for tch; if the target folder is damaged, remove $(CARGO_TARGET_DIR) and run make again" \
	  $(CARGO_TEST) --no-run
	@for b in $(BINARIES); do cmp -s $(RELEASE)/$$b $(VENV)/bin/$$b || install -m 755 $(RELEASE)/$$b $(VENV)/bin/$$b; done

kernel: binaries
	@$(STEP) "installing the Jupyter kernel \"Rust (replearn)\" into .venv" \
	  "the message above says what could not be written; .venv must be writable" \
	  $(VENV)/bin/replearn-kernel install --venv $(VENV)
	@$(STEP) "pre-building the kernel's build folder (compiles tch once more, for notebooks: about 4 minutes the first time)" \
	  "the message above names the crate or the start-up line that failed. Run 'make clean-kernel-cache' and make again; if a crate could not be downloaded, run 'cargo fetch --locked' first" \
	  $(VENV)/bin/replearn-grade warm

# The student version of every assignment, from its instructor notebook:
# notebooks/NN_name_source.ipynb -> notebooks/NN_name.ipynb (make test fails
# when a committed student version is stale).
assign: binaries
	@for source in notebooks/*_source.ipynb; do $(VENV)/bin/replearn-grade assign "$$source" -o "$${source%_source.ipynb}.ipynb"; done

# Benchmarks print markdown tables (figures in the README).
bench: setup
	$(VENV)/bin/python scripts/bench_kernel.py
	$(VENV)/bin/python scripts/bench_train_step.py
	$(VENV)/bin/python scripts/bench_grade.py
	$(VENV)/bin/python scripts/bench_shards.py
	scripts/bench_spare_memory.sh
	cargo run --release --locked --example bench_reduce

# The assignments' full-budget runs outside the notebooks; each prints a
# markdown table (figures in the README). Pass options in ARGS, e.g.
#   make stl10-probes ARGS="--stand-in data/stl10_stand_in"
#   make shapes-factor-table ARGS="--images 16000 --train 10000 --ae-epochs 4 --cl-epochs 6"
stl10-probes shapes-factor-table vit-cpu-budget dry-part-budget: venv fetch
	cargo run --release --locked --example $(subst -,_,$@) -- $(ARGS)

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
