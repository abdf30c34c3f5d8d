#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image
# (Ubuntu base image). It installs Rust and builds replearn exactly as
# `make setup` does on a course machine; grading itself never downloads.
set -euo pipefail
apt-get update
apt-get install -y --no-install-recommends build-essential ca-certificates curl git pkg-config python3 python3-venv
if ! command -v rustup >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/rustup" ]; then
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --default-toolchain 1.95.0
fi
export PATH="$HOME/.cargo/bin:$PATH"
cd /autograder/source/replearn
make setup
