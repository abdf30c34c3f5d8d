"""Grading throughput on the fixture assignment (tests/fixtures/assignment).

Usage: .venv/bin/python scripts/bench_grade.py [--submissions 20] [--jobs 1 2]
Makes N submissions (half solved, a quarter untouched, a quarter with one
wrong answer), grades them with `replearn-grade autograde --jobs J` for each J,
and prints a markdown table: total wall time and time per submission.
Run it after `make setup` (warm caches), on an otherwise idle machine.
"""
import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GRADE = ROOT / ".venv/bin/replearn-grade"
SOURCE = ROOT / "tests/fixtures/assignment/source.ipynb"


def lines(text):
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + [parts[-1]]


def reference_solutions(source):
    """Each solution cell's code with the BEGIN/END SOLUTION marker lines dropped."""
    solutions = {}
    for cell in source["cells"]:
        meta = cell["metadata"].get("replearn", {})
        if meta.get("kind") == "solution":
            text = "".join(cell["source"])
            kept = [l for l in text.split("\n") if l.strip() not in ("// BEGIN SOLUTION", "// END SOLUTION")]
            solutions[meta["id"]] = "\n".join(kept)
    return solutions


def make_submissions(folder, n):
    student_path = folder / "student.ipynb"
    subprocess.run([GRADE, "assign", SOURCE, "-o", student_path], check=True, capture_output=True)
    student = json.loads(student_path.read_text())
    solutions = reference_solutions(json.loads(SOURCE.read_text()))
    paths = []
    for i in range(n):
        nb = json.loads(json.dumps(student))
        kind = "solved" if i % 2 == 0 else ("untouched" if i % 4 == 1 else "wrong")
        for cell in nb["cells"]:
            cid = cell["metadata"].get("replearn", {}).get("id")
            if kind != "untouched" and cid in solutions:
                code = solutions[cid]
                if kind == "wrong" and cid == "add":
                    code = code.replace("a + b", "a - b")
                cell["source"] = lines(code)
        path = folder / f"student{i:02d}.ipynb"
        path.write_text(json.dumps(nb, indent=1))
        paths.append(path)
    return paths


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        subs = make_submissions(tmp, args.submissions)
        for jobs in args.jobs:
            out = tmp / f"out{jobs}"
            start = time.perf_counter()
            subprocess.run([GRADE, "autograde", "--jobs", str(jobs), "--timeout", "60", "--source", SOURCE, "--out", out, *subs],
                           check=True, capture_output=True)
            total = time.perf_counter() - start
            per = [json.loads((out / p.stem / "results.json").read_text())["execution_time"] for p in subs]
            rows.append((jobs, total, total / len(subs), sum(per) / len(per)))
            shutil.rmtree(out)
    print(f"Grading {args.submissions} submissions of tests/fixtures/assignment ({os.cpu_count()} cores)\n")
    print("| --jobs | total wall time | wall time per submission | one submission's own run (mean) |")
    print("|---|---|---|---|")
    for jobs, total, per_sub, own in rows:
        print(f"| {jobs} | {total:.0f} s | {per_sub:.1f} s | {own:.1f} s |")


if __name__ == "__main__":
    main()
