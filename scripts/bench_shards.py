"""Submissions per hour with the grading spread over shards.

Usage: .venv/bin/python scripts/bench_shards.py [--submissions 6]
Grades the fixture assignment's student version (every cell runs in a real
kernel; its tests fail) N times: once as one shard, once as two shards
running at the same time on this machine (each --jobs 1), then merges. Prints
a markdown table: what was measured, and the rate for M machines computed as
M times one machine's best rate (shards share nothing but the file system).
"""
import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GRADE = ROOT / ".venv" / "bin" / "replearn-grade"
SOURCE = ROOT / "tests" / "fixtures" / "assignment" / "source.ipynb"


def autograde(out, subs, shard=None):
    args = [str(GRADE), "autograde", "--source", str(SOURCE), "--out", str(out), "--timeout", "60"]
    if shard:
        args += ["--shard", shard]
    return subprocess.Popen(args + [str(s) for s in subs], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--submissions", type=int, default=6)
    n = ap.parse_args().submissions
    work = Path(tempfile.mkdtemp(prefix="bench-shards-"))
    subs_dir = work / "subs"
    subs_dir.mkdir()
    student = subs_dir / "student_00.ipynb"
    subprocess.run([str(GRADE), "assign", str(SOURCE), "-o", str(student)], check=True, stdout=subprocess.DEVNULL)
    subs = [student] + [shutil.copy(student, subs_dir / f"student_{i:02}.ipynb") for i in range(1, n)]
    subs = [Path(s) for s in subs]
    rows = []
    t = time.time()
    p = autograde(work / "one", subs)
    assert p.wait() == 0, p.stderr.read()
    one = time.time() - t
    rows.append(("1 shard, 1 machine (2 cores), --jobs 1", "measured", n, one))
    t = time.time()
    ps = [autograde(work / f"shard-{i}", subs, f"{i}/2") for i in (1, 2)]
    for p in ps:
        assert p.wait() == 0, p.stderr.read()
    two = time.time() - t
    merged = subprocess.run([str(GRADE), "merge", "--out", str(work / "all"), str(work / "shard-1"), str(work / "shard-2")], capture_output=True, text=True)
    assert merged.returncode == 0, merged.stderr
    rows.append(("2 shards at once on the same machine (2 cores)", "measured", n, two))
    # One machine's rate: the better of the two ways of using its cores.
    per_hour = 3600 * n / min(one, two)
    print(f"| grading {n} submissions of the fixture assignment | how | wall time | submissions per hour |")
    print("|---|---|---|---|")
    for name, how, count, wall in rows:
        print(f"| {name} | {how} | {wall:.0f} s | {3600 * count / wall:.0f} |")
    for machines in (2, 8, 32):
        print(f"| {machines} machines like this one, 2 shards each | computed: {machines} x one machine's best rate | {300 / (machines * per_hour) * 60:.1f} min for 300 | {machines * per_hour:.0f} |")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
