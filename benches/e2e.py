#!/usr/bin/env python3
"""End-to-end benchmark (not a test): generates inputs, runs each case RUNS
times, alternating cases within each round so machine noise hits them alike,
and prints a Markdown table of medians: wall time, MB/s, CPU seconds, peak
RSS, spilled records, merge passes, and each case's wall time as a multiple
of its hand-written baseline's.

The cases, in groups that must all write the same bytes:

- word-count: `mr-run word-count --workers 1|2`, `baseline-wordcount
  --threads 2` (benches/baselines/wordcount.rs: plain threads and hash maps,
  no framework), `baseline-wordcount-limit --threads 2`
  (benches/baselines/wordcount_limit.rs: mmap, a byte-class tokenizer, a
  per-thread FxHash map owning each distinct word once: the fastest plain
  program we know) and the peers DuckDB and Polars (benches/peers.py);
- yelp-top-city: `mr-run yelp-top-city --workers 1|2`, `baseline-yelp
  --threads 2` and the peers;
- city-reviews: the reduce-side join `mr-run yelp-city-reviews --input
  business=B --input review=R --workers 1|2` (if mr-run has it) and
  `baseline-city-reviews --threads 2 --business B R` (a hash join), on a
  review file R of SIZE (`mr-run gen yelp-reviews`) for a business file B of
  SIZE/16 (`mr-run gen yelp`); MB/s counts both files;
- sort: `baseline-sort --threads 2` (in memory), GNU `LC_ALL=C sort -S
  SORT_MEM --parallel=2`, the peers, and `mr-run terasort --workers 2` with
  1 and 2 reducers (if mr-run has it), on SORT_SIZE of 100-byte TeraSort
  records (from `mr-run teragen` if it has it, else from this script).

The peers run with the virtualenv benches/e2e.sh makes (.bench-venv); with
PEERS=0, or without that virtualenv, they are left out.

Every run's output is checked against the first output of its group (stdout
bytes, or the SHA-256 of the output file or part files); a difference stops
the benchmark with an error, so a fast wrong program never reaches the table.

Every run's wall, user and system seconds and peak RSS are also written to
BENCH_DIR/e2e-runs.json, for figures the table rounds.

CPU time comes from the kernel (wait4's rusage); peak RSS from GNU time when
/usr/bin/time is there (the process it forks is small, so the figure is the
program's own; a process forked from this script would inherit the
script's peak as its floor); counters from the job's own --stats JSON
(baselines and GNU sort have none).

With MR_BASE=/path/to/another/mr-run, every mr-run case also runs with
that binary (named "... [base]"), in the same rounds (the two swapping
order each round), its output checked equal: a before/after comparison
of one change measured side by side. An odd RUNS is then rounded up to
even, so each of the two leads equally often: with 3 rounds one of them
led twice, and a case's first run after another group's programs is the
slower one often enough to show as a 10-15% "regression".

    python3 benches/e2e.py                 # 1 GiB inputs, 3 rounds
    MR_BASE=/tmp/mr-run-before bash benches/e2e.sh
    SIZE=256M RUNS=5 python3 benches/e2e.py
    CASES=word-count python3 benches/e2e.py   # cases whose name or group contains this
    SORT_SIZE=2G SORT_MEM=512M CASES=sort python3 benches/e2e.py
"""

import hashlib
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MR = os.path.join(ROOT, "target", "release", "mr-run")
EXAMPLES = os.path.join(ROOT, "target", "release", "examples")
BASELINES = {
    name: os.path.join(EXAMPLES, name)
    for name in ("baseline-wordcount", "baseline-wordcount-limit", "baseline-yelp", "baseline-city-reviews", "baseline-sort")
}
VENV_PYTHON = os.path.join(ROOT, ".bench-venv", "bin", "python")
PEERS_PY = os.path.join(ROOT, "benches", "peers.py")
PEERS = os.environ.get("PEERS", "1") != "0" and os.path.exists(VENV_PYTHON)
SIZE = os.environ.get("SIZE", "1G")
SORT_SIZE = os.environ.get("SORT_SIZE", SIZE)
SORT_MEM = os.environ.get("SORT_MEM", "1G")
RUNS = int(os.environ.get("RUNS", "3"))
DATA = os.environ.get("BENCH_DIR", os.path.join(tempfile.gettempdir(), "mr-bench"))
ONLY = os.environ.get("CASES", "")
# Another build of mr-run to run every mr-run case with as well.
MR_BASE = os.environ.get("MR_BASE", "")
# Even, so a case and its [base] twin each lead equally often.
if MR_BASE and RUNS % 2:
    RUNS += 1
# The baselines run with as many threads as the jobs they are compared to.
THREADS = "2"
GNU_TIME = "/usr/bin/time"
# Stand for the inputs' paths in a case's argv (whole arguments or parts of
# them) until the inputs are generated: INPUT for the one-file kinds,
# BUSINESS and REVIEW for "city-reviews".
INPUT = "{input}"
BUSINESS = "{business}"
REVIEW = "{review}"


class Case:
    """One command to time.

    group: cases that must write the same bytes. input: "text", "yelp",
    "city-reviews" or "sort". baseline: the name of the case its ratio is
    taken against. out_path: the file or directory it writes, if not
    stdout. stats: it is an mr-run job and takes --stats."""

    def __init__(self, name, group, argv, input, baseline=None, out_path=None, stats=False, env=None):
        self.name, self.group, self.argv, self.input = name, group, argv, input
        self.baseline, self.out_path, self.stats, self.env = baseline, out_path, stats, env


def parse_size(s):
    m = re.fullmatch(r"(\d+)([KMG]?)", s.strip().upper())
    if not m:
        sys.exit(f"bad size {s!r}: bytes, or with a K, M or G suffix")
    return int(m.group(1)) << {"": 0, "K": 10, "M": 20, "G": 30}[m.group(2)]


def generate(kind):
    """An `mr-run gen` input (text or yelp), made once and kept in DATA."""
    path = os.path.join(DATA, f"{kind}-{SIZE}.{'json' if kind == 'yelp' else 'txt'}")
    if not os.path.exists(path):
        subprocess.run([MR, "gen", kind, "--size", SIZE, "--seed", "1", "-o", path], check=True)
    return path


def generate_city_reviews():
    """The join's inputs, made once and kept in DATA: a `gen yelp` business
    file of SIZE/16 and a `gen yelp-reviews` file of SIZE naming its
    businesses (seed 1 both). Returns {"business": path, "review": path}."""
    business = os.path.join(DATA, f"city-business-{SIZE}.json")
    review = os.path.join(DATA, f"city-reviews-{SIZE}.json")
    if not os.path.exists(business):
        size = str(max(parse_size(SIZE) // 16, 1))
        subprocess.run([MR, "gen", "yelp", "--size", size, "--seed", "1", "-o", business + ".tmp"], check=True)
        os.replace(business + ".tmp", business)
        remove(review)  # made for another business file
    if not os.path.exists(review):
        argv = [MR, "gen", "yelp-reviews", "--business", business, "--size", SIZE, "--seed", "1"]
        subprocess.run(argv + ["-o", review + ".tmp"], check=True)
        os.replace(review + ".tmp", review)
    return {"business": business, "review": review}


def generate_sort_records():
    """SORT_SIZE of TeraSort records, made once and kept in DATA: 100-byte
    lines, a random 10-byte printable key (ASCII 33..126), TAB, an 88-byte
    payload holding the row number, `\\n`. Written by `mr-run teragen` (its
    part files joined into one file) if mr-run has it, else by
    `own_sort_records`; both are deterministic (seed 1)."""
    rows = parse_size(SORT_SIZE) // 100
    if "teragen" not in mr_jobs():
        return own_sort_records(rows)
    path = os.path.join(DATA, f"teragen-{SORT_SIZE}.txt")
    if os.path.exists(path):
        return path
    parts = os.path.join(DATA, "teragen-parts")
    shutil.rmtree(parts, ignore_errors=True)
    subprocess.run([MR, "teragen", "--rows", str(rows), "--seed", "1", "-o", parts, "-q"], check=True)
    tmp = path + ".tmp"
    with open(tmp, "wb") as out:
        for part in part_files(parts):
            with open(part, "rb") as f:
                shutil.copyfileobj(f, out, 1 << 24)
    shutil.rmtree(parts)
    os.replace(tmp, path)
    return path


def own_sort_records(rows):
    """The fallback generator: teragen's record layout, not its keys."""
    path = os.path.join(DATA, f"terasort-v1-{SORT_SIZE}.txt")
    if os.path.exists(path):
        return path
    rng = random.Random(1)
    # 256 byte values onto 94 printable ones: slightly uneven, deterministic.
    printable = bytes(33 + b % 94 for b in range(256))
    filler = b"." * 63
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        done = 0
        while done < rows:
            n = min(100_000, rows - done)
            keys = rng.randbytes(10 * n).translate(printable)
            lines = (keys[10 * j : 10 * j + 10] + b"\t" + b"row %020d " % (done + j) + filler + b"\n" for j in range(n))
            f.write(b"".join(lines))
            done += n
    os.replace(tmp, path)
    return path


def mr_jobs():
    """The job names `mr-run list` prints."""
    listing = subprocess.run([MR, "list"], capture_output=True, text=True, check=True).stdout
    return {line.split()[0] for line in listing.splitlines() if line.strip()}


def part_files(directory):
    """A job's output files in order (names starting with `_` or `.` are not
    output, as in Hadoop)."""
    return [os.path.join(directory, n) for n in sorted(os.listdir(directory)) if not n.startswith(("_", "."))]


def cases():
    """Every case, in the order each round runs them."""
    out = []
    jobs = mr_jobs()
    for job, kind, baseline in (("word-count", "text", "baseline-wordcount"), ("yelp-top-city", "yelp", "baseline-yelp")):
        base_name = f"{baseline} --threads {THREADS}"
        for workers in (1, 2):
            argv = [MR, job, INPUT, "--workers", str(workers), "-q"]
            out.append(Case(f"{job} --workers {workers}", job, argv, kind, baseline=base_name, stats=True))
        out.append(Case(base_name, job, [BASELINES[baseline], INPUT, "--threads", THREADS], kind))
        if job == "word-count":
            limit = f"baseline-wordcount-limit --threads {THREADS}"
            out.append(Case(limit, job, [BASELINES["baseline-wordcount-limit"], INPUT, "--threads", THREADS], kind))
        for engine in ("duckdb", "polars") if PEERS else ():
            # Names are unique across groups: results are kept by name.
            out.append(Case(f"{engine} {job} (peer)", job, [VENV_PYTHON, PEERS_PY, engine, job, INPUT], kind))

    base_name = f"baseline-city-reviews --threads {THREADS}"
    if "yelp-city-reviews" in jobs:
        for workers in (1, 2):
            argv = [MR, "yelp-city-reviews", "--input", f"business={BUSINESS}", "--input", f"review={REVIEW}"]
            argv += ["--workers", str(workers), "-q"]
            name = f"yelp-city-reviews --workers {workers}"
            out.append(Case(name, "city-reviews", argv, "city-reviews", baseline=base_name, stats=True))
    argv = [BASELINES["baseline-city-reviews"], "--threads", THREADS, "--business", BUSINESS, REVIEW]
    out.append(Case(base_name, "city-reviews", argv, "city-reviews"))

    sorted_dir = os.path.join(DATA, "sorted")
    base_name = f"baseline-sort --threads {THREADS}"
    path = os.path.join(sorted_dir, "baseline")
    argv = [BASELINES["baseline-sort"], INPUT, "-o", path, "--threads", THREADS]
    out.append(Case(base_name, "sort", argv, "sort", out_path=path))
    # Whole-line byte order: the same as key-then-line order for these
    # records (fixed-width printable keys before the TAB).
    path = os.path.join(sorted_dir, "gnu")
    argv = ["sort", "-S", SORT_MEM, "--parallel=2", "-T", sorted_dir, INPUT, "-o", path]
    name = f"LC_ALL=C sort -S {SORT_MEM} --parallel=2"
    out.append(Case(name, "sort", argv, "sort", base_name, out_path=path, env=dict(os.environ, LC_ALL="C")))
    for engine in ("duckdb", "polars") if PEERS else ():
        path = os.path.join(sorted_dir, engine)
        argv = [VENV_PYTHON, PEERS_PY, engine, "sort", INPUT, path]
        out.append(Case(f"{engine} sort (peer)", "sort", argv, "sort", base_name, out_path=path))
    if "terasort" in jobs:
        for reducers in (1, 2):
            path = os.path.join(sorted_dir, f"terasort-{reducers}")
            argv = [MR, "terasort", INPUT, "--workers", "2", "--reducers", str(reducers), "-q", "-o", path]
            name = f"terasort --workers 2 --reducers {reducers}"
            out.append(Case(name, "sort", argv, "sort", base_name, out_path=path, stats=True))
    if MR_BASE:
        out = with_base(out)
    return out


def with_base(cases):
    """Each mr-run case followed by the same case run with MR_BASE."""
    out = []
    for case in cases:
        out.append(case)
        if case.argv[0] != MR:
            continue
        out_path = case.out_path and case.out_path + "-base"
        argv = [MR_BASE] + [out_path if a == case.out_path else a for a in case.argv[1:]]
        out.append(
            Case(case.name + " [base]", case.group, argv, case.input, case.baseline, out_path, case.stats, case.env)
        )
    return out


def round_order(cases, round_no):
    """The cases in the order one round runs them: on odd rounds each case
    and its [base] twin swap, so neither always runs first after another
    group's programs (whose memory and cache state the first one meets)."""
    out = list(cases)
    if round_no % 2:
        for i in range(len(out) - 1):
            if out[i + 1].name == out[i].name + " [base]":
                out[i], out[i + 1] = out[i + 1], out[i]
    return out


def output_digest(path):
    """SHA-256 of a file, or of a directory's part files in order."""
    digest = hashlib.sha256()
    for part in part_files(path) if os.path.isdir(path) else [path]:
        with open(part, "rb") as f:
            while chunk := f.read(1 << 24):
                digest.update(chunk)
    return digest.hexdigest().encode()


def remove(path):
    if os.path.isdir(path):
        shutil.rmtree(path)
    elif os.path.exists(path):
        os.remove(path)


def run(case, argv, stats):
    """Runs a case with stdout to a file; returns (wall, (user, sys),
    rss_bytes, output), output being stdout's bytes or a digest of the
    output files."""
    if case.out_path:
        remove(case.out_path)
    argv = argv + (["--stats", stats] if case.stats else [])
    with tempfile.TemporaryFile() as out, tempfile.NamedTemporaryFile("r") as timing:
        gnu_time = os.path.exists(GNU_TIME)
        wrapped = [GNU_TIME, "-f", "%M", "-o", timing.name] + argv if gnu_time else argv
        start = time.perf_counter()
        proc = subprocess.Popen(wrapped, stdout=out, env=case.env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        if status != 0:
            sys.exit(f"failed ({status}): {' '.join(argv)}")
        # rusage covers GNU time and its child; its own CPU is negligible.
        cpu = (usage.ru_utime, usage.ru_stime)
        rss = int(timing.read().split()[-1]) * 1024 if gnu_time else usage.ru_maxrss * 1024
        out.seek(0)
        output = out.read()
    if case.out_path:
        output = output_digest(case.out_path)
        remove(case.out_path)
    return wall, cpu, rss, output


def fill(arg, paths):
    """`arg` with each input placeholder replaced by its path."""
    for name, path in paths.items():
        arg = arg.replace("{" + name + "}", path)
    return arg


def main():
    if not os.path.exists(MR):
        sys.exit(f"missing {MR}: build first: cargo build --release --workspace --examples")
    os.makedirs(os.path.join(DATA, "sorted"), exist_ok=True)
    todo = [c for c in cases() if ONLY in c.name or ONLY in c.group]
    if not todo:
        sys.exit(f"no case matches CASES={ONLY!r}")
    # Only the programs the chosen cases run need to be built.
    for exe in dict.fromkeys(c.argv[0] for c in todo if c.argv[0] in BASELINES.values()):
        if not os.path.exists(exe):
            sys.exit(f"missing {exe}: build first: cargo build --release --workspace --examples")
    makers = {
        "text": lambda: {"input": generate("text")},
        "yelp": lambda: {"input": generate("yelp")},
        "city-reviews": generate_city_reviews,
        "sort": lambda: {"input": generate_sort_records()},
    }
    # kind -> {placeholder name: path}
    inputs = {kind: makers[kind]() for kind in dict.fromkeys(c.input for c in todo)}
    input_bytes = {kind: sum(os.path.getsize(p) for p in paths.values()) for kind, paths in inputs.items()}
    # The inputs may have been generated hours ago and left the page cache
    # since (hosts reclaim it when idle): read them once, so round 1 does
    # not alone pay for the disk.
    for paths in inputs.values():
        for path in paths.values():
            with open(path, "rb") as f:
                while f.read(1 << 24):
                    pass

    results = {c.name: [] for c in todo}
    if len(results) != len(todo):
        sys.exit("two cases share a name")
    outputs = {}  # group -> (first case, its output)
    stats = os.path.join(DATA, "stats.json")
    for round_no in range(RUNS):
        for case in round_order(todo, round_no):
            argv = [fill(a, inputs[case.input]) for a in case.argv]
            wall, cpu, rss, output = run(case, argv, stats)
            counters = {}
            if case.stats:
                with open(stats) as f:
                    counters = json.load(f)["counters"].get("Map-Reduce Framework", {})
            results[case.name].append((wall, cpu, rss, counters))
            # Every run of every case in a group must write the same bytes:
            # each job on every run, and the baselines the jobs' bytes.
            first, expected = outputs.setdefault(case.group, (case.name, output))
            if expected != output:
                sys.exit(f"{case.name}: output differs from {first}'s ({case.group})")

    raw = os.path.join(DATA, "e2e-runs.json")
    with open(raw, "w") as f:
        runs = {name: [{"wall": r[0], "user": r[1][0], "sys": r[1][1], "rss": r[2]} for r in rows] for name, rows in results.items()}
        json.dump(runs, f, indent=1)
    wall = {c.name: statistics.median(r[0] for r in results[c.name]) for c in todo}
    described = ", ".join(
        f"{kind} " + " + ".join(f"{os.path.getsize(p) / 2**20:.0f} MiB" for p in paths.values())
        for kind, paths in inputs.items()
    )
    print(f"Inputs: {described} (seed 1); {RUNS} rounds, medians; {os.cpu_count()} cores\n")
    print("| case | wall s | MB/s | CPU s (user + sys) | peak RSS MB | spilled records | merge passes | x baseline wall |")
    print("|---|---|---|---|---|---|---|---|")
    for case in todo:
        rows = results[case.name]
        w = wall[case.name]
        cpu = statistics.median(sum(r[1]) for r in rows)
        user = statistics.median(r[1][0] for r in rows)
        sys_cpu = statistics.median(r[1][1] for r in rows)
        rss = statistics.median(r[2] for r in rows)
        mb = input_bytes[case.input] / 1e6
        c = rows[0][3]
        spilled, passes = (c.get("SPILLED_RECORDS", 0), c.get("MERGE_PASSES", 0)) if case.stats else ("-", "-")
        ratio = f"{w / wall[case.baseline]:.2f}" if case.baseline in wall else "-"
        print(f"| {case.name} | {w:.2f} | {mb / w:.0f} | {cpu:.2f} ({user:.2f} + {sys_cpu:.2f}) | {rss / 2**20:.0f} | {spilled} | {passes} | {ratio} |")
    cpu_of = {c.name: statistics.median(sum(r[1]) for r in results[c.name]) for c in todo}
    for group in dict.fromkeys(c.group for c in todo):
        ours = [c.name for c in todo if c.group == group and c.argv[0] in (MR, MR_BASE)]
        others = [c.name for c in todo if c.group == group and c.argv[0] not in (MR, MR_BASE)]
        if ours and others:
            print(f"\n{group}, wall (CPU) time as a multiple of each other program's:\n")
            print("| | " + " | ".join(others) + " |")
            print("|---|" + "---|" * len(others))
            for name in ours:
                # Three places: targets such as "<= 0.5x" sit at the second.
                cells = [f"{wall[name] / wall[o]:.3f} ({cpu_of[name] / cpu_of[o]:.3f})" for o in others]
                print(f"| {name} | " + " | ".join(cells) + " |")
    for group in dict.fromkeys(c.group for c in todo):
        one = [c.name for c in todo if c.group == group and c.name.endswith("--workers 1")]
        two = [c.name for c in todo if c.group == group and c.name.endswith("--workers 2")]
        if one and two:
            print(f"\n{group}: --workers 2 is {wall[one[0]] / wall[two[0]]:.2f}x faster than --workers 1")


if __name__ == "__main__":
    main()
