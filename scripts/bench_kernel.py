"""Kernel start-up benchmark: how long until a notebook is usable.

Usage: .venv/bin/python scripts/bench_kernel.py [--repeat N] [--cold]
Prints a markdown table (median of N runs), once with a spare kernel ready
(what `make lab` gives: see kernels/src/pool.rs) and once with the pool off
(REPLEARN_KERNEL_POOL=0: evcxr starts from the pre-built folder), of:
  start             kernel process start until it answers (start-up script done)
  trivial cell      `1 + 1` right after start
  first tensor cell the first cell that creates and reduces a tensor
  start to tensor   the sum: from starting the kernel to a tensor result
  two at once       two kernels started together, each to its first tensor result
Before each run with spares it waits until the spares have finished starting,
so the figures are for a machine that is otherwise idle.
With --cold it also times building the pre-built kernel folder from nothing
(`replearn-grade warm --force` with an empty cache), which is what the first
`make lab` pays once.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from jupyter_client.manager import start_new_kernel

ROOT = Path(__file__).resolve().parents[1]
TENSOR_CELL = "let t = Tensor::arange(12, (Kind::Float, device())).reshape([3, 4]);\nt.sum(Kind::Float).double_value(&[])"


def run(kc, code):
    reply = kc.execute_interactive(code, timeout=600, output_hook=lambda msg: None)
    assert reply["content"]["status"] == "ok", reply["content"]


def set_pool(n):
    """n spares for the kernels started next."""
    # Spares still starting would take CPU from the kernel measured: wait for them.
    os.environ["REPLEARN_KERNEL_POOL"] = "2"
    subprocess.run([str(ROOT / ".venv/bin/replearn-kernel"), "prestart", "--wait"], check=True,
                   stdout=subprocess.DEVNULL)
    os.environ["REPLEARN_KERNEL_POOL"] = str(n)


def one_session():
    t0 = time.perf_counter()
    km, kc = start_new_kernel(kernel_name="replearn", startup_timeout=300)
    t1 = time.perf_counter()
    try:
        run(kc, "1 + 1")
        t2 = time.perf_counter()
        run(kc, TENSOR_CELL)
        t3 = time.perf_counter()
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return {"start": t1 - t0, "trivial cell": t2 - t1, "first tensor cell": t3 - t2, "start to tensor": t3 - t0}


def two_at_once():
    results = [None, None]

    def worker(i):
        t0 = time.perf_counter()
        km, kc = start_new_kernel(kernel_name="replearn", startup_timeout=300)
        try:
            run(kc, TENSOR_CELL)
            results[i] = time.perf_counter() - t0
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return max(results)


def cold_build():
    cache = tempfile.mkdtemp(prefix="replearn-cold-")
    env = dict(os.environ, REPLEARN_CACHE=cache)
    t0 = time.perf_counter()
    subprocess.run([str(ROOT / ".venv/bin/replearn-grade"), "warm", "--force"], check=True, env=env)
    elapsed = time.perf_counter() - t0
    shutil.rmtree(cache, ignore_errors=True)
    return elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cold", action="store_true")
    args = ap.parse_args()
    rows = {}
    for label, pool in (("spare ready", 2), ("no spare", 0)):
        runs = []
        for _ in range(args.repeat):
            set_pool(pool)
            runs.append(one_session())
        for k in runs[0]:
            rows[f"{label}: {k}"] = statistics.median(r[k] for r in runs)
        set_pool(pool)
        rows[f"{label}: two at once (slower of the two, start to tensor)"] = two_at_once()
    if args.cold:
        rows["cold: build the kernel folder from nothing"] = cold_build()
    print(f"| kernel start-up ({os.cpu_count()} cores, median of {args.repeat}) | seconds |")
    print("|---|---|")
    for k, v in rows.items():
        print(f"| {k} | {v:.2f} |")


if __name__ == "__main__":
    sys.exit(main())
