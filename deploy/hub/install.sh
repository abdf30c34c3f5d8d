#!/usr/bin/env bash
# Installs replearn for every student of a JupyterHub, from this checkout.
#
#   deploy/hub/install.sh JUPYTER_PREFIX [SHARED_CACHE]
#
# JUPYTER_PREFIX is the environment the students' servers run from: for The
# Littlest JupyterHub /opt/tljh/user; in deploy/Dockerfile the kit's own venv
# (/opt/replearn/.venv, which has jupyterhub-singleuser).
# SHARED_CACHE (default /opt/replearn-cache) receives the heavy caches: the
# cargo target folder and the pre-built kernel folder that every student's
# kernel copies, so that a first notebook compiles nothing.
#
# Run it as root (or as the owner of the install), with the Rust toolchain
# that the students' kernels will use on PATH, installed where they can read
# it (RUSTUP_HOME and CARGO_HOME outside a private home, e.g. /opt/rustup and
# /opt/cargo: README, "Students on a JupyterHub"). It
#   1. runs `make setup` with the caches in SHARED_CACHE;
#   2. installs the kernelspec "Rust (replearn)" into JUPYTER_PREFIX, naming
#      the toolchain and the shared cache (`replearn-kernel install --prefix
#      --shared-cache`);
#   3. makes the checkout, the toolchain, the cache and the kernelspec
#      readable and not writable by others, and what holds solutions and
#      hidden tests (notebooks/*_source.ipynb, .git, *_gradescope.zip)
#      readable by the owner only;
#   4. names the shared cache for students' terminals (/etc/profile.d), and
#      checks, as the user `nobody`, that a student can reach all of it.
# Run it again after `git pull`: it rebuilds what changed.
set -euo pipefail

prefix=${1:?usage: deploy/hub/install.sh JUPYTER_PREFIX [SHARED_CACHE]}
cache=${2:-/opt/replearn-cache}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
step() { printf '==> %s\n' "$*"; }
fail() { printf 'deploy/hub/install.sh: %s\n' "$*" >&2; exit 1; }

command -v cargo >/dev/null || fail "no cargo on PATH: install Rust 1.95 for all users (README, \"Students on a JupyterHub\") and put its bin folder on PATH"

step "building the kit with its caches in $cache (make setup)"
mkdir -p "$cache"
make -C "$root" setup REPLEARN_CACHE="$cache"

# Checked after make setup: the prefix may be the venv it creates.
[ -d "$prefix/share/jupyter" ] || [ -x "$prefix/bin/jupyterhub-singleuser" ] \
  || fail "$prefix is not a Jupyter environment (no share/jupyter, no bin/jupyterhub-singleuser): give the prefix the students' servers run from, e.g. /opt/tljh/user"
step "installing the kernelspec into $prefix"
"$root/.venv/bin/replearn-kernel" install --venv "$root/.venv" --prefix "$prefix" --shared-cache "$cache"
kernelspec="$prefix/share/jupyter/kernels/replearn"
# The toolchain as the kernelspec names it (replearn-kernel install resolved it).
spec_env() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["env"][sys.argv[2]])' "$kernelspec/kernel.json" "$1"; }
cargo_home=$(spec_env CARGO_HOME)
rustup_home=$(spec_env RUSTUP_HOME)

step "making the kit readable by every student, writable by none"
chmod -R a+rX,go-w "$root" "$cache/evcxr" "$cargo_home" "$rustup_home" "$kernelspec"
# (The Docker image has none of them: .dockerignore.)
mapfile -t private < <(find "$root" -path "$root/.venv" -prune -o \
  \( -path "$root/.git" -o -path "$root/notebooks/*_source.ipynb" -o -name '*_gradescope.zip' \) -print)
[ ${#private[@]} = 0 ] || chmod -R go-rwx "${private[@]}"

if [ "$(id -u)" = 0 ] && [ -d /etc/profile.d ]; then
  step "naming the shared cache in /etc/profile.d/replearn.sh (replearn-grade in a student's terminal)"
  printf 'export REPLEARN_SHARED_CACHE=%q\n' "$cache" > /etc/profile.d/replearn.sh
fi

if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
  step "checking, as the user nobody, what a student's kernel reads"
  path=$(spec_env PATH)
  readable=("$kernelspec/kernel.json" "$root/.venv/bin/replearn-kernel" "$root/kernels/startup.evcxr" "$cache"/evcxr/*/template/replearn-ready)
  # Arguments: files a student must read, then "--", then files they must not.
  runuser -u nobody -- env -i HOME=/nonexistent PATH="$path" CARGO_HOME="$cargo_home" RUSTUP_HOME="$rustup_home" \
    bash -c 'cargo --version || exit 1
             must=1
             for f in "$@"; do
               if [ "$f" = -- ]; then must=0
               elif [ $must = 1 ] && ! test -r "$f"; then echo "a student cannot read $f"; exit 1
               elif [ $must = 0 ] && test -r "$f"; then echo "a student can read $f"; exit 1
               fi
             done' check "${readable[@]}" -- "${private[@]}" \
    || fail "a student could not reach the toolchain, the pre-built folder or the kernel (or could read an instructor notebook): check that no folder above $root, $cache, $cargo_home or $rustup_home is private (e.g. /root)"
fi
step "done: students choose the kernel \"Rust (replearn)\"; give them the student notebooks (notebooks/NN_name.ipynb, never *_source.ipynb)"
