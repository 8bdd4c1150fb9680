#!/usr/bin/env python3
"""End-to-end benchmark (not a test): generates inputs with `mr-run gen`,
runs each case RUNS times, alternating cases within each round so machine
noise hits them alike, and prints a Markdown table of medians: wall time,
MB/s, CPU seconds, peak RSS, spilled records and merge passes.

CPU time and peak RSS come from the kernel (wait4's rusage) for the job's
process alone; counters come from the job's own --stats JSON.

    python3 benches/e2e.py                 # 1 GiB inputs, 3 rounds
    SIZE=256M RUNS=5 python3 benches/e2e.py
    CASES=word-count python3 benches/e2e.py   # only cases whose name contains this
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MR = os.path.join(ROOT, "target", "release", "mr-run")
SIZE = os.environ.get("SIZE", "1G")
RUNS = int(os.environ.get("RUNS", "3"))
DATA = os.environ.get("BENCH_DIR", os.path.join(tempfile.gettempdir(), "mr-bench"))
ONLY = os.environ.get("CASES", "")


def generate(kind):
    path = os.path.join(DATA, f"{kind}-{SIZE}.{'json' if kind == 'yelp' else 'txt'}")
    if not os.path.exists(path):
        subprocess.run([MR, "gen", kind, "--size", SIZE, "--seed", "1", "-o", path], check=True)
    return path


def cases():
    text, yelp = generate("text"), generate("yelp")
    out = []
    for job, data in (("word-count", text), ("yelp-top-city", yelp)):
        for workers in (1, 2):
            out.append((f"{job} --workers {workers}", [MR, job, data, "--workers", str(workers), "-q"], data))
    return [c for c in out if ONLY in c[0]]


def run(argv, stats):
    """Runs argv with stdout to a file; returns (wall, cpu, rss_bytes, output)."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv + (["--stats", stats] if stats else []), stdout=out)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        if status != 0:
            sys.exit(f"failed ({status}): {' '.join(argv)}")
        out.seek(0)
        return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, out.read()


def main():
    if not os.path.exists(MR):
        sys.exit("build first: cargo build --release --workspace")
    os.makedirs(DATA, exist_ok=True)
    todo = cases()
    results = {name: [] for name, _, _ in todo}
    outputs = {}
    stats = os.path.join(DATA, "stats.json")
    for _ in range(RUNS):
        for name, argv, data in todo:
            wall, cpu, rss, output = run(argv, stats)
            with open(stats) as f:
                counters = json.load(f)["counters"].get("Map-Reduce Framework", {})
            results[name].append((wall, cpu, rss, counters))
            # Every run of a job must print the same answer.
            job = name.split()[0]
            if outputs.setdefault(job, output) != output:
                sys.exit(f"{name}: output differs from an earlier run")
    print(f"Inputs: {SIZE} each (mr-run gen, seed 1), {RUNS} rounds, medians; {os.cpu_count()} cores\n")
    print("| case | wall s | MB/s | CPU s | peak RSS MB | spilled records | merge passes |")
    print("|---|---|---|---|---|---|---|")
    for name, _, data in todo:
        rows = results[name]
        wall = statistics.median(r[0] for r in rows)
        cpu = statistics.median(r[1] for r in rows)
        rss = statistics.median(r[2] for r in rows)
        mb = os.path.getsize(data) / 1e6
        c = rows[0][3]
        print(
            f"| {name} | {wall:.2f} | {mb / wall:.0f} | {cpu:.2f} | {rss / 2**20:.0f} "
            f"| {c.get('SPILLED_RECORDS', 0)} | {c.get('MERGE_PASSES', 0)} |"
        )
    for job in sorted({n.split()[0] for n in results}):
        one = [n for n in results if n.startswith(job) and n.endswith("--workers 1")]
        two = [n for n in results if n.startswith(job) and n.endswith("--workers 2")]
        if one and two:
            w1 = statistics.median(r[0] for r in results[one[0]])
            w2 = statistics.median(r[0] for r in results[two[0]])
            print(f"\n{job}: --workers 2 is {w1 / w2:.2f}x faster than --workers 1")


if __name__ == "__main__":
    main()
