#!/bin/bash
# What one waiting spare kernel holds: starts one spare (REPLEARN_KERNEL_POOL=1)
# in a temporary folder, waits until it is ready, and prints a markdown table of
# the proportional and resident set sizes of its processes; then ends it.
#   scripts/bench_spare_memory.sh        (make bench runs it; needs make setup)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
cd "$work"
sleep 900 & watch=$!
trap 'kill $watch 2>/dev/null || true; rm -rf "$work"' EXIT
REPLEARN_KERNEL_POOL=1 timeout 300 "$here/.venv/bin/replearn-kernel" prestart --watch $watch --wait >/dev/null
sleep 5
kib() { awk -v key="$1:" '$1 == key {print $2}' "/proc/$2/smaps_rollup" 2>/dev/null || echo 0; }
echo "| process of one waiting spare | PSS MB | RSS MB |"
echo "|---|---|---|"
for spare in $(pgrep -P 1 -f 'replearn-kernel --control_file' || pgrep -f 'replearn-kernel --control_file'); do
  total_pss=0; total_rss=0
  for pid in $spare $(pgrep -P $spare); do
    pss=$(kib Pss $pid); rss=$(kib Rss $pid)
    name=$([ $pid = $spare ] && echo "kernel (evcxr, rust-analyzer)" || echo "cell process (libtorch)")
    echo "| $name | $((pss / 1024)) | $((rss / 1024)) |"
    total_pss=$((total_pss + pss)); total_rss=$((total_rss + rss))
  done
  echo "| **the spare** | **$((total_pss / 1024))** | **$((total_rss / 1024))** |"
  break
done
